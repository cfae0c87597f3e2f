"""The disk queue on its own: quota, drops counted and persisted, settle, the live tail,
and memory that does not grow with the backlog."""

from __future__ import annotations

import base64
import contextlib
import os
import subprocess
import time
from pathlib import Path

import psutil

from agent.core.plugin import BatchKind
from agent.framework.diskqueue import DiskQueue, QueueError


def _batch(tag: str, n: int, width: int = 80) -> list[str]:
    # random padding: the queue compresses its rows, and these tests need bytes that fill it
    return [f"m,b={tag},pad={_pad(width)} v={i}i {time.time_ns()}" for i in range(n)]


def _pad(width: int) -> str:
    return base64.b64encode(os.urandom(width)).decode()[:width].replace("/", "_")


def test_quota_drops_oldest_counts_them_and_survives_reopen(tmp_path: Path) -> None:
    # rows are stored compressed (~600 bytes for these 100 lines): 60 rows overflow this
    QUOTA = 20_000
    q = DiskQueue(tmp_path / "q.db", max_bytes=QUOTA)
    put = dropped = 0
    for i in range(60):
        lines = _batch(str(i), 100)
        put += len(lines)
        dropped += q.put(BatchKind.METRICS, lines)
    st = q.stats()
    assert dropped > 0 and st.bytes <= QUOTA
    assert st.items + dropped == put  # every point is either queued or counted as dropped
    assert st.dropped_items == dropped
    newest = q.peek_fresh(0, 10**9)
    assert newest[0].lines[0].startswith("m,b=")  # something is queued
    oldest = q.peek(100)[0].lines[0]
    q.close()
    q2 = DiskQueue(tmp_path / "q.db", max_bytes=QUOTA)  # a restart remembers everything
    st2 = q2.stats()
    assert (st2.items, st2.bytes, st2.dropped_items) == (st.items, st.bytes, dropped)
    assert q2.peek(100)[0].lines[0] == oldest
    assert st2.oldest_ns == st.oldest_ns
    q2.close()


def test_ack_removes_only_acknowledged_rows(tmp_path: Path) -> None:
    q = DiskQueue(tmp_path / "q.db", max_bytes=10**8)
    for i in range(5):
        q.put(BatchKind.METRICS, _batch(str(i), 10))
    rows = q.peek(25)
    assert [r.items for r in rows] == [10, 10]  # whole rows, up to the limit
    q.ack([r.id for r in rows])
    q.close()
    q = DiskQueue(tmp_path / "q.db", max_bytes=10**8)
    rest = q.peek(1000)
    assert [r.lines[0].split(",")[1] for r in rest] == ["b=2", "b=3", "b=4"]
    q.close()


def test_peek_fresh_serves_the_live_tail_in_order(tmp_path: Path) -> None:
    q = DiskQueue(tmp_path / "q.db", max_bytes=10**8)
    for i in range(50):
        q.put(BatchKind.METRICS, _batch(f"old{i}", 3))
    cutoff = time.time_ns()
    time.sleep(0.002)
    q.put(BatchKind.METRICS, _batch("new0", 3))
    q.put(BatchKind.METRICS, _batch("new1", 3))
    fresh = q.peek_fresh(cutoff, 1000)
    assert [r.lines[0].split(",")[1] for r in fresh] == ["b=new0", "b=new1"]
    assert q.peek_fresh(time.time_ns() + 10**9, 1000) == []
    assert q.peek(3)[0].lines[0].split(",")[1] == "b=old0"
    q.close()


def test_settle_sets_aside_refused_and_keeps_unsent_at_the_head(tmp_path: Path) -> None:
    q = DiskQueue(tmp_path / "q.db", max_bytes=10**8)
    a, b, c = _batch("a", 4), _batch("b", 4), _batch("c", 4)
    for x in (a, b, c):
        q.put(BatchKind.METRICS, x)
    rows = q.peek(8)
    age = q.stats().oldest_ns
    q.settle([r.id for r in rows], keep=a[2:] + b, rejected=[a[1]], reason="HTTP 400: bad")
    st = q.stats()
    assert st.items == 6 + 4 and st.rejected_items == 1 and st.oldest_ns == age
    assert [x for r in q.peek(1000) for x in r.lines] == a[2:] + b + c
    assert q.rejected_reasons() == [(1, "HTTP 400: bad")]
    q.close()


def test_memory_stays_flat_while_the_quota_recycles(tmp_path: Path) -> None:
    """80 MB through a 8 MB queue, then a long backlog walked: RSS does not follow the data."""
    proc = psutil.Process()
    q = DiskQueue(tmp_path / "q.db", max_bytes=8 * 2**20)
    lines = _batch("warm", 2000, width=300)  # ~0.66 MB per put
    for _ in range(5):
        q.put(BatchKind.METRICS, lines)
    base = proc.memory_info().rss
    dropped = 0
    for _ in range(120):
        dropped += q.put(BatchKind.METRICS, lines)
    for r in q.peek(10**9)[:1]:
        assert r.items == 2000
    grown = proc.memory_info().rss - base
    assert dropped > 100_000
    assert grown < 24 * 2**20, f"RSS grew {grown / 2**20:.1f} MB"
    q.close()


def test_set_aside_batches_are_bounded_too(tmp_path: Path) -> None:
    q = DiskQueue(tmp_path / "q.db", max_bytes=4 * 2**20)  # set-aside bound: 1 MiB
    for i in range(40):
        q.put(BatchKind.METRICS, _batch(f"r{i}", 500, width=200))  # ~150 kB a batch
        q.set_aside([r.id for r in q.peek(10**6)], f"HTTP 400: batch {i}")
    reasons = q.rejected_reasons(limit=1000)
    assert reasons[0] == (500, "HTTP 400: batch 39")  # the newest is kept
    assert 1 < len(reasons) < 10
    assert q.stats().rejected_items == 40 * 500  # the count is never trimmed
    q.close()


def test_a_full_disk_below_the_quota_counts_drops_and_recovers(tmp_path: Path) -> None:
    """A real full file system (a 4 MiB tmpfs) under a quota larger than the disk: no
    exception reaches the agent, every item is queued or counted, and once the disk has room
    again (grown here) delivery and queueing go on."""
    from tests.servers import require_root

    require_root()
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], check=True,
                   timeout=30)
    q = DiskQueue(mnt / "q.db", max_bytes=64 * 2**20)
    try:
        dropped = 0
        for i in range(80):  # ~6 MB stored (compressed) into 4 MiB
            dropped += q.put(BatchKind.METRICS, _batch(f"f{i}", 500, width=200))
        st = q.stats()
        assert dropped > 0 and st.dropped_items == dropped  # counted, no exception
        assert st.items + dropped == 80 * 500
        rows = q.peek(10**9)
        assert st.items == sum(r.items for r in rows)  # the counters match the disk
        with contextlib.suppress(QueueError):  # a full disk may refuse even a delete
            q.ack([rows[0].id])
        subprocess.run(["mount", "-o", "remount,size=32m", str(mnt)], check=True, timeout=30)
        q.ack([r.id for r in q.peek(10**9)])
        assert q.stats().items == 0
        assert q.put(BatchKind.METRICS, _batch("after", 10)) == 0
    finally:
        q.close()  # before unmounting: an open file keeps the mount busy
        subprocess.run(["umount", "-l", str(mnt)], check=False, timeout=30)


def test_a_drained_backlog_gives_its_disk_back(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    q = DiskQueue(path, max_bytes=10**9)
    for i in range(40):
        q.put(BatchKind.METRICS, _batch(f"b{i}", 500, width=200))  # ~100 kB stored a batch
    q.set_aside([q.peek(1)[0].id], "HTTP 400: kept for inspection")
    backlog = [r.id for r in q.peek(10**6)]
    q.put(BatchKind.METRICS, _batch("live", 10))  # the live tail, still to send
    assert q.shrink(min_free_bytes=2**20) == 0  # nothing freed yet: nothing to give back
    q.ack(backlog)
    full = q.disk_bytes()
    assert full > 3_000_000  # the file keeps the drained backlog's pages
    gained = q.shrink(min_free_bytes=2**20)
    assert gained > 0 and q.disk_bytes() == full - gained
    assert q.disk_bytes() < full / 10
    assert q.shrink(min_free_bytes=2**20) == 0  # once given back, nothing more to do
    # what was still queued, the set-aside batch and the counters are as they were
    [live] = q.peek(10**6)
    assert live.items == 10 and live.lines[0].startswith("m,b=live,")
    assert q.rejected_reasons() == [(500, "HTTP 400: kept for inspection")]
    st = q.stats()
    assert (st.rows, st.items, st.rejected_items) == (1, 10, 500)
    q.put(BatchKind.METRICS, _batch("after", 10))
    assert [r.id for r in q.peek(10**6)] == [live.id, live.id + 1]  # ids go on, FIFO holds
    q.close()
    q = DiskQueue(path, max_bytes=10**9)  # and a restart reads the shrunk file whole
    assert q.stats().items == 20
    q.close()
