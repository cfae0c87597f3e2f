"""`campusmon queue stats|dump` reads compressed queue rows without sqlite3."""

from __future__ import annotations

from pathlib import Path

from agent.core.plugin import BatchKind
from agent.framework.diskqueue import DiskQueue
from tests.agent.agentproc import campusmon


def test_queue_stats_and_dump_show_the_queued_lines(tmp_path: Path) -> None:
    db = tmp_path / "influxdb_central.db"
    q = DiskQueue(db, 2**20)
    lines = [f"m,s={i % 7} v={i}i,f={i / 3!r} {1_800_000_000_000_000_000 + i}" for i in range(300)]
    q.put(BatchKind.METRICS, lines[:200])
    q.put(BatchKind.METRICS, lines[200:])
    stored = q.stats().bytes
    q.close()
    r = campusmon("queue", "stats", "--queue", str(db))
    assert r.returncode == 0, r.stderr
    header, row = r.stdout.splitlines()[:2]
    assert "BYTES_PER_ITEM" in header
    cells = row.split()
    assert cells[:4] == ["influxdb_central", "2", "300", str(stored)]
    r = campusmon("queue", "dump", "--queue", str(db))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == lines
    r = campusmon("queue", "dump", "--queue", str(db), "--rows", "1", "--headers")
    out = r.stdout.splitlines()
    assert out[0].startswith("# influxdb_central row 1: metrics, 200 items")
    assert out[1:] == lines[:200]
    r = campusmon("queue", "stats", "--queue", str(tmp_path / "none.db"))
    assert r.returncode != 0 and "Traceback" not in r.stderr
