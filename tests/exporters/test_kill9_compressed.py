"""kill -9 of a real `campusmon run` while it drains a compressed backlog of campus interface
points (20 fields: counters, states, full-precision floats) into a real VictoriaMetrics.
Read back and compared value by value: nothing unacknowledged is lost, and the only samples
that can reach the store twice are those of the one batch in flight at the kill."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from agent.core.lineprotocol import parse, render_many
from agent.core.plugin import BatchKind
from agent.framework.diskqueue import DiskQueue, read_lines
from tests.exporters.helpers import vm_samples
from tests.servers import VictoriaMetrics

REPO = Path(__file__).resolve().parents[2]
PORTS, TICKS, BATCH = 40, 150, 500  # 6,000 points, 120,000 values
FIELDS = ("in_octets", "out_octets", "in_ucast_pkts", "out_ucast_pkts", "in_errors",
          "out_errors", "in_discards", "out_discards", "speed_mbps", "admin_status",
          "oper_status", "in_bps", "out_bps", "in_utilization_percent",
          "out_utilization_percent")


def _lines(meas: str, base_ns: int) -> list[str]:
    rng = random.Random(9)
    ctr = [[rng.randrange(10**9, 10**13) for _ in range(8)] for _ in range(PORTS)]
    out = []
    for t in range(TICKS):
        ts = base_ns + t * 10**9
        for p in range(PORTS):
            c = ctr[p]
            for i in range(8):
                c[i] += rng.randrange(0, 10**7 if i < 4 else 3)
            bps = rng.uniform(0, 1e9)
            out.append(
                f"{meas},campus=k9,device=sw-{p // 8},ifindex={p % 8},ifname=ge{p % 8} "
                f"in_octets={c[0]}i,out_octets={c[1]}i,in_ucast_pkts={c[2]}i,"
                f"out_ucast_pkts={c[3]}i,in_errors={c[4]}i,out_errors={c[5]}i,"
                f"in_discards={c[6]}i,out_discards={c[7]}i,speed_mbps=1000i,admin_status=1i,"
                f"oper_status={1 + p % 2}i,in_bps={bps!r},out_bps={bps / 3!r},"
                f"in_utilization_percent={bps / 1e7!r},out_utilization_percent={bps / 3e7!r} "
                f"{ts}")
    return out


Key = tuple[str, str, int]  # (series, field, ts_ms)


def _samples(line: str) -> dict[Key, float]:
    """The samples of one queued line, keyed as VictoriaMetrics stores them."""
    m = parse(line)
    key = f"{m.tags['device']}/{m.tags['ifname']}"
    return {(key, f, m.ts_ns // 10**6): float(v) for f, v in m.fields.items()}


def _stored(url: str, meas: str, expected: dict[Key, float]) -> Counter[Key]:
    """How many times each sample is in VictoriaMetrics; every value read back is compared
    with what was queued (integers exact, floats as VictoriaMetrics keeps them: ~12 digits)."""
    got: Counter[Key] = Counter()
    for f in FIELDS:
        for labels, samples in vm_samples(url, f'{{__name__="{meas}_{f}"}}').items():
            t = dict(labels)
            for ts, v in samples:
                k = (f"{t['device']}/{t['ifname']}", f, int(ts))
                assert k in expected, k
                assert float(v) == pytest.approx(expected[k], rel=1e-10), k
                got[k] += 1
    return got


def _start(cfg: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "agent.app.cli", "--log-level", "info", "run", "--config", str(cfg)],
        cwd=REPO, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})


@pytest.mark.timeout(240)
@pytest.mark.parametrize("fill", ["lines", "metrics"])
def test_kill9_during_compressed_drain_loses_and_duplicates_nothing(
        victoria_metrics: VictoriaMetrics, tmp_path: Path, fill: str) -> None:
    """`metrics`: the backlog was queued the way the pipeline queues it (`put_metrics`, blocks
    encoded straight from Metric objects); `lines`: through `put` (text, e.g. a settle)."""
    meas = f"k9c{time.time_ns() % 10**8}"
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(f"""agent:
  data_dir: data
  interval_secs: 3600
  flush_interval_secs: 0.2
inputs: []
outputs:
  - type: influxdb
    name: central
    url: {victoria_metrics.url}
    queue: {{batch_max_points: {BATCH}, backfill_points_per_sec: 600,
             retry_initial_secs: 0.1, retry_max_secs: 0.5}}
""")
    db = tmp_path / "data" / "queue" / "influxdb_central.db"
    lines = _lines(meas, time.time_ns() - TICKS * 10**9)
    q = DiskQueue(db, 2**30, block_items=BATCH)
    metrics = [parse(x) for x in lines]
    assert render_many(metrics) == lines
    for k in range(0, len(lines), 1000):  # flushes of 1,000 points, stored in 500-line blocks
        if fill == "metrics":
            q.put_metrics(BatchKind.METRICS, metrics[k:k + 1000])
        else:
            q.put(BatchKind.METRICS, lines[k:k + 1000])
    stored_bytes = q.stats().bytes
    q.close()
    text_bytes = sum(len(x) + 1 for x in lines)
    assert stored_bytes < text_bytes / 5, "the backlog is stored compressed"
    with sqlite3.connect(db) as c:
        assert {r[0] for r in c.execute("SELECT codec FROM queue")} == {1}
        c.execute("UPDATE queue SET enqueued_ns = enqueued_ns - 3600 * 1000000000")
    assert read_lines(db) == lines  # lossless before anything is sent

    expected = {k: v for x in lines for k, v in _samples(x).items()}
    proc = _start(cfg, tmp_path / "agent1.log")
    try:
        for _ in range(600):  # bounded: 60 s; kill once a third has gone out
            if len([x for x in read_lines(db) if x.startswith(meas)]) <= len(lines) * 2 // 3:
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        owed = [x for x in read_lines(db) if x.startswith(meas)]
        assert 0 < len(owed) < len(lines), (tmp_path / "agent1.log").read_text()[-2000:]
        owed_samples = {k for x in owed for k in _samples(x)}
        sent: Counter[Key] = Counter()
        for _ in range(20):  # what VictoriaMetrics acknowledged becomes searchable shortly
            sent = _stored(victoria_metrics.url, meas, expected)
            if set(sent) | owed_samples == set(expected):
                break
            time.sleep(0.5)
        # the queue kept exactly what VictoriaMetrics does not have, except the batch in
        # flight at the kill (acknowledged by the server, not yet deleted here)
        assert set(sent) | owed_samples == set(expected), "neither stored nor queued"
        assert len(set(sent) & owed_samples) <= BATCH * len(FIELDS)
        assert max(sent.values()) == 1  # nothing twice so far

        proc = _start(cfg, tmp_path / "agent2.log")
        for _ in range(600):  # bounded: 60 s at 600 points/s
            if not [x for x in read_lines(db) if x.startswith(meas)]:
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    final: Counter[Key] = Counter()
    for _ in range(20):
        final = _stored(victoria_metrics.url, meas, expected)
        if set(final) == set(expected):
            break
        time.sleep(0.5)
    assert set(final) == set(expected), f"{len(set(expected) - set(final))} values lost"
    twice = [k for k, n in final.items() if n > 1]
    # at most the in-flight batch went twice, and only values it held
    assert len(twice) <= BATCH * len(FIELDS)
    assert all(k in owed_samples for k in twice)
