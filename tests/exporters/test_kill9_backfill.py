"""kill -9 of the agent (a real `campusmon run` process) in the middle of a paced backlog
flush into a real VictoriaMetrics; after the restart nothing is lost and only the batch that
was in flight at the kill can be sent twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.core.plugin import BatchKind
from agent.framework.diskqueue import DiskQueue, read_lines
from tests.exporters.helpers import vm_export
from tests.servers import VictoriaMetrics

REPO = Path(__file__).resolve().parents[2]
N = 20_000
BATCH = 1000


def _start(cfg: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "agent.app.cli", "--log-level", "info", "run", "--config", str(cfg)],
        cwd=REPO, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _queued(db: Path) -> list[str]:
    return [x for x in read_lines(db) if x.startswith("killtest")]


def _stored(url: str, meas: str) -> list[int]:
    return [int(v) for row in vm_export(url, f'{{__name__="{meas}_v"}}')
            for v in row["values"]]  # type: ignore[attr-defined]


@pytest.mark.timeout(150)
def test_kill9_during_backlog_flush_loses_nothing(victoria_metrics: VictoriaMetrics,
                                                  tmp_path: Path) -> None:
    meas = f"killtest{time.time_ns() % 10**8}"
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(f"""agent:
  data_dir: data
  interval_secs: 0.5
  flush_interval_secs: 0.2
inputs:
  - type: host
    network: false
outputs:
  - type: influxdb
    name: central
    url: {victoria_metrics.url}
    queue: {{batch_max_points: {BATCH}, backfill_points_per_sec: 2500,
             retry_initial_secs: 0.1, retry_max_secs: 0.5}}
""")
    db = tmp_path / "data" / "queue" / "influxdb_central.db"
    # a backlog from an outage an hour long: enqueued a while ago, recent point timestamps
    base = time.time_ns()
    lines = [f"{meas},slot={i % 10} v={i}i {base - (N - i) * 1_000_000}" for i in range(N)]
    q = DiskQueue(db, 2**30)
    for k in range(0, N, 500):
        q.put(BatchKind.METRICS, lines[k:k + 500])
    q.close()
    with sqlite3.connect(db) as c:
        c.execute("UPDATE queue SET enqueued_ns = enqueued_ns - 3600 * 1000000000")

    proc = _start(cfg, tmp_path / "agent1.log")
    try:
        for _ in range(300):  # bounded: 30 s; kill once a third has gone out
            if len([x for x in _queued(db) if x.startswith(meas)]) <= N - N // 3:
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        owed = {x for x in _queued(db) if x.startswith(meas)}
        assert 0 < len(owed) < N, (tmp_path / "agent1.log").read_text()[-2000:]
        owed_values = {int(x.split(" v=")[1].split("i")[0]) for x in owed}
        sent: set[int] = set()
        for _ in range(20):  # what VictoriaMetrics acknowledged becomes searchable shortly
            sent = set(_stored(victoria_metrics.url, meas))
            if sent | owed_values == set(range(N)):
                break
            time.sleep(0.5)
        # acknowledged batches left the queue; at most the one in flight is in both places
        assert len(sent & owed_values) <= BATCH
        assert sent | owed_values == set(range(N)), "a point is neither stored nor queued"

        proc = _start(cfg, tmp_path / "agent2.log")
        for _ in range(400):  # bounded: 40 s at 2,500 points/s
            if not [x for x in _queued(db) if x.startswith(meas)]:
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    stored: list[int] = []
    for _ in range(20):
        stored = _stored(victoria_metrics.url, meas)
        if len(set(stored)) >= N:
            break
        time.sleep(0.5)
    assert set(stored) == set(range(N)), f"{N - len(set(stored))} points lost"
