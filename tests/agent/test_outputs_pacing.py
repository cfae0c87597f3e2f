"""Store-and-forward order: live data flows while the backlog is paced to the configured rate."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from agent.core.errors import RetryableExportError
from agent.core.plugin import Batch, BatchKind
from agent.framework.diskqueue import QueueError
from tests.exporters.helpers import make_output


class Recorder:
    accepts = frozenset({BatchKind.METRICS})

    def __init__(self) -> None:
        self.calls: list[tuple[float, list[str]]] = []

    async def start(self) -> None:
        pass

    async def write(self, batch: Batch) -> None:
        self.calls.append((time.monotonic(), list(batch.lines)))

    async def close(self) -> None:
        pass


@pytest.mark.timeout(30)
async def test_fresh_data_flows_while_backlog_is_paced(tmp_path: Path) -> None:
    rec = Recorder()
    out = make_output(tmp_path, rec, batch_max_points=5000, backfill_points_per_sec=1000)
    out.fresh_secs = 0.3
    backlog = [f"old,i={i} v=1i {i}" for i in range(3000)]
    for k in range(0, 3000, 100):  # an outage's worth of flushes
        out.sink.queue.put(BatchKind.METRICS, backlog[k:k + 100])
    await asyncio.sleep(0.4)  # now it is backlog
    stop = asyncio.Event()
    t0 = time.monotonic()
    runner = asyncio.create_task(out.run(stop))
    fresh_put: dict[str, float] = {}
    for j in range(15):
        line = f"new,j={j} v=1i {j}"
        out.sink.queue.put(BatchKind.METRICS, [line])
        fresh_put[line] = time.monotonic()
        out.sink.notify.set()
        await asyncio.sleep(0.15)
    for _ in range(300):  # bounded: 15 s
        if not out.sink.queue.stats().items:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await runner

    sent = [x for _, lines in rec.calls for x in lines]
    assert sorted(sent) == sorted(backlog + list(fresh_put))  # everything, once
    old_times = [t for t, lines in rec.calls if lines[0].startswith("old")]
    # paced: 3000 points at 1000/s with one second of burst take at least two seconds
    assert old_times[-1] - t0 >= 1.8
    assert all(len(lines) <= 1000 for _, lines in rec.calls if lines[0].startswith("old"))
    # live data did not wait for the backlog: each fresh point left soon after it was queued
    delivered = {x: t for t, lines in rec.calls for x in lines if x.startswith("new")}
    late = {x: delivered[x] - fresh_put[x] for x in fresh_put}
    assert max(late.values()) < 1.5, late
    assert min(delivered.values()) < old_times[-1]  # interleaved, not after the backlog


@pytest.mark.timeout(30)
async def test_unpaced_backlog_goes_in_full_batches(tmp_path: Path) -> None:
    rec = Recorder()
    out = make_output(tmp_path, rec, batch_max_points=700)
    for k in range(0, 3000, 100):
        out.sink.queue.put(BatchKind.METRICS, [f"m,i={i} v=1i {i}" for i in range(k, k + 100)])
    while out.sink.queue.stats().items:
        await out.deliver_once()
    assert [len(x) for _, x in rec.calls] == [700, 700, 700, 700, 200]


class Down(Recorder):
    async def write(self, batch: Batch) -> None:
        raise RetryableExportError("centre down", retry_after_s=120)


@pytest.mark.timeout(30)
async def test_stop_cuts_a_long_backoff_short_and_keeps_the_batch(tmp_path: Path) -> None:
    out = make_output(tmp_path, Down(), retry_initial_secs=30, retry_max_secs=60)
    out.sink.queue.put(BatchKind.METRICS, ["m v=1i 1"])
    stop = asyncio.Event()
    runner = asyncio.create_task(out.run(stop))
    await asyncio.sleep(0.3)  # now in a 120 s Retry-After wait
    t0 = time.monotonic()
    stop.set()
    await asyncio.wait_for(runner, 5)
    assert time.monotonic() - t0 < 2
    assert out.sink.queue.stats().items == 1
    t0 = time.monotonic()
    await out.drain(time.monotonic() + 0.5)  # shutdown drain honours its deadline
    assert time.monotonic() - t0 < 2


@pytest.mark.timeout(30)
async def test_an_ack_the_disk_refuses_leaves_the_batch_to_send_again(tmp_path: Path) -> None:
    rec = Recorder()
    out = make_output(tmp_path, rec)
    out.sink.queue.put(BatchKind.METRICS, ["m v=1i 1"])
    real_ack = out.sink.queue.ack

    def full_disk(ids: list[int]) -> None:
        raise QueueError("database or disk is full")

    out.sink.queue.ack = full_disk  # type: ignore[method-assign]
    assert await out.deliver_once() == 0
    assert out.sink.queue.stats().items == 1 and out.sink.stats.errors["internal"] == 1
    out.sink.queue.ack = real_ack  # type: ignore[method-assign]
    assert await out.deliver_once() == 1
    assert [lines for _, lines in rec.calls] == [["m v=1i 1"], ["m v=1i 1"]]  # at-least-once
