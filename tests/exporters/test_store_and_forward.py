"""Store-and-forward with a real VictoriaMetrics: an outage while the agent keeps collecting,
and a disk quota reached during a long outage."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from agent.core.model import Metric
from agent.core.plugin import Batch, BatchKind
from agent.framework.runtime import Agent
from tests.exporters import seqsource
from tests.exporters.helpers import make_output, vm_export
from tests.servers import REPO, free_port, start_victoria_metrics


def _config(tmp_path: Path, url: str, *, interval: float, points: int = 1, pad: int = 0,
            queue: str = "") -> Path:
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(f"""agent:
  data_dir: data
  interval_secs: {interval}
  jitter_secs: 0
  flush_interval_secs: 0.2
  self_metrics_interval_secs: 0.5
  shutdown_deadline_secs: 2
inputs:
  - type: test_seq
    points: {points}
    pad: {pad}
outputs:
  - type: influxdb
    name: central
    url: {url}
    timeout_secs: 2
    queue: {{retry_initial_secs: 0.1, retry_max_secs: 0.5{queue}}}
""")
    return cfg


def _seqs_in_vm(url: str) -> list[int]:
    return [int(v) for row in vm_export(url, '{__name__="test_seq_value"}')
            for v in row["values"]]  # type: ignore[attr-defined]


@pytest.mark.timeout(120)
async def test_outage_every_point_collected_meanwhile_reaches_the_store(tmp_path: Path) -> None:
    port = free_port()
    vm = start_victoria_metrics(tmp_path / "vm", port=port)
    agent = Agent(seqsource.load(_config(tmp_path, vm.url, interval=0.2, points=3)),
                  seqsource.registry())
    runner = asyncio.create_task(agent.run())
    try:
        await asyncio.sleep(1.5)
        src = seqsource.SeqSource.last
        assert src is not None and src.produced
        await asyncio.to_thread(vm.stop)
        at_stop = len(src.produced)
        await asyncio.sleep(3.0)  # fifteen intervals collected with the centre down
        during = len(src.produced) - at_stop
        assert during >= 30
        assert agent.built is not None
        depth = agent.built.outputs[0].sink.queue.stats().items
        assert depth >= during  # all of it waits on disk
        # and the agent says so in its own metrics: depth and age of the oldest item
        seen = _queue_metric(agent)
        assert seen is not None
        assert int(seen.fields["depth_items"]) >= during // 2
        assert float(seen.fields["oldest_age_seconds"]) >= 1.0
        await asyncio.to_thread(vm.start)  # same port, same data directory
        for _ in range(200):  # bounded: 20 s
            if not agent.built.outputs[0].sink.queue.stats().items:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.2)  # one more self-metrics interval: the queue is empty again
        seen = _queue_metric(agent)
        assert seen is not None and float(seen.fields["oldest_age_seconds"]) < 1.0
        agent.request_stop()
        await asyncio.wait_for(runner, 20)
        # collected = handed to the pipeline (a poll cancelled at shutdown never was)
        poller = agent.telemetry.get("test_seq/test_seq")
        assert poller is not None
        collected = poller.received
        assert len(src.produced) - 3 <= collected <= len(src.produced)
        from agent.framework.diskqueue import DiskQueue
        q = DiskQueue(tmp_path / "data" / "queue" / "influxdb_central.db", 2**30)
        left = [x for r in q.peek(10**6) for x in r.lines if x.startswith("test_seq")]
        q.close()
        assert not left, left
        stored = await _read_back(vm.url, collected)
        # the count in the store matches what the agent collected, outage included
        missing = sorted(set(src.produced[:collected]) - set(stored))
        assert len(set(stored)) == collected, (missing, at_stop, during)
        assert sorted(set(stored)) == src.produced[:collected]
        assert set(range(at_stop, at_stop + during)) <= set(stored)  # the outage's points
        # every series in the store names its campus (the roll-up key), self-metrics included
        everything = await asyncio.to_thread(vm_export, vm.url, '{__name__=~".+"}')
        names = {str(row["metric"]["__name__"]) for row in everything}  # type: ignore[index]
        assert {"test_seq_value", "agent_poll_up", "agent_queue_depth_items"} <= names
        assert all(row["metric"].get("campus") for row in everything)  # type: ignore[attr-defined]
        assert len(stored) - len(set(stored)) <= 5000  # at most one in-flight batch again
    finally:
        if not runner.done():
            agent.request_stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(runner, 10)
        vm.stop()


async def _read_back(url: str, expected: int) -> list[int]:
    """VictoriaMetrics 1.79 makes points written just after its restart searchable a few
    seconds later, even after /internal/force_flush: poll (bounded) until they all show."""
    stored: list[int] = []
    for _ in range(30):
        stored = await asyncio.to_thread(_seqs_in_vm, url)
        if len(set(stored)) >= expected:
            break
        await asyncio.sleep(0.5)
    return stored


class _Recording:
    """The real influxdb exporter, with the number of lines each write was offered noted."""

    accepts = frozenset({BatchKind.METRICS})

    def __init__(self, url: str) -> None:
        from exporters.influxdb.plugin import InfluxConfig, InfluxExporter

        self.inner = InfluxExporter(InfluxConfig(url=url))
        self.offered: list[int] = []

    async def start(self) -> None:
        await self.inner.start()

    async def write(self, batch: Batch) -> None:
        self.offered.append(len(batch.lines))
        await self.inner.write(batch)

    async def close(self) -> None:
        await self.inner.close()


@pytest.mark.timeout(120)
async def test_retries_against_a_dead_centre_offer_one_row_then_full_batches(
        tmp_path: Path) -> None:
    # Re-decoding and posting a full batch every retry while the centre was dead grew a fresh
    # agent's heap by ~60 MB in the 30 s after its quota was reached (the test below): a retry
    # offers one queued row; the first write that goes through brings full batches back.
    port = free_port()
    exporter = _Recording(f"http://127.0.0.1:{port}")  # nothing listens there yet
    out = make_output(tmp_path, exporter, batch_max_points=5000)
    q = out.sink.queue
    t0 = time.time_ns() - 60 * 10**9  # within the store's retention
    for row in range(5):
        q.put(BatchKind.METRICS, [f"test_seq,campus=c value={row * 100 + i}i "
                                  f"{t0 + (row * 100 + i) * 10**6}" for i in range(100)])
    vm = None
    try:
        for _ in range(3):
            assert await out.deliver_once() == 0
        assert exporter.offered == [500, 100, 100]  # the full batch once, then one row
        vm = await asyncio.to_thread(start_victoria_metrics, tmp_path / "vm", port=port)
        assert await out.deliver_once() == 100  # the one-row retry goes through
        assert await out.deliver_once() == 400  # and the rest goes as one batch again
        assert exporter.offered == [500, 100, 100, 100, 400]
        assert q.stats().items == 0
        stored = await _read_back(vm.url, 500)
        assert sorted(set(stored)) == list(range(500))
    finally:
        await exporter.close()
        q.close()
        if vm is not None:
            vm.stop()


def _queue_metric(agent: Agent) -> Metric | None:
    found = [m for m in agent.snapshot.current() if m.name == "agent_queue"]
    return found[0] if found else None


class _Child:
    """tests/exporters/seqagent.py in its own process: its stdout lines read on a thread, so
    every wait on them is bounded."""

    def __init__(self, cfg: Path, log: Path, turnovers: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.exporters.seqagent", str(cfg), str(turnovers)],
            cwd=REPO,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log.open("ab"), text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, name="seqagent-stdout", daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def expect(self, event: str, timeout: float) -> dict[str, Any]:
        doc = self.lines.get(timeout=timeout)
        assert doc["event"] == event, doc
        return doc

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.send("stop")
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None:
                with contextlib.suppress(OSError):
                    f.close()


# Drops that replace the full queue's content this many times over before RSS is sampled:
# two (a few seconds after the quota), so the window starts with the queue full and turning
# over, not after a settling period. The ~60 MB a fresh agent used to grow in the ~30 s after
# the quota was the output re-decoding and posting a full batch every retry to the dead centre
# (now one row per retry, test_retries_against_a_dead_centre_offer_one_row_then_full_batches);
# measured since: ~4 MB from 3 s to 16 s after the first drop.
TURNOVERS = 2


@pytest.mark.timeout(240)
def test_quota_reached_drops_oldest_counts_them_and_memory_stays_flat(tmp_path: Path) -> None:
    # The agent runs in a process of its own and its RSS is what is measured: pytest's own
    # RSS carries whatever earlier tests left behind, and moved by 16 MB in a full run.
    dead = f"http://127.0.0.1:{free_port()}"  # a centre that never answers
    cfg = _config(tmp_path, dead, interval=0.1, points=200, pad=400,
                  queue=", max_megabytes: 1")
    log = tmp_path / "agent.log"
    child = _Child(cfg, log, TURNOVERS)
    try:
        child.expect("ready", 60)
        proc = psutil.Process(child.proc.pid)
        # at ~2,000 points/s the 1 MB quota fills in about 2 s; bounded by the timeout
        child.expect("quota", 30)
        at_quota, quota_t = proc.memory_info().rss, time.monotonic()
        child.expect("turned_over", 150)
        turned_after_s = round(time.monotonic() - quota_t, 1)
        settled: list[int] = []
        for _ in range(50):  # 5 s, the queue full and turning over
            time.sleep(0.1)
            settled.append(proc.memory_info().rss)
        child.send("report")
        seen = child.expect("report", 30)
        assert seen["running"], "the agent must keep running"
        assert seen["dropped_items"] > 0 and seen["bytes"] <= 2**20
        # the oldest were dropped, the newest kept: the head is far past the first point
        assert "test_seq" in seen["head"] or "agent_" in seen["head"]
        assert not seen["first_point_queued"]
        assert seen["dropped_total_metric"] is not None and seen["dropped_total_metric"] > 0
        # flat: with the quota reached and the queue turning over, RSS moves within a few MB
        assert max(settled) - min(settled) < 16 * 2**20, \
            (round(at_quota / 2**20, 1), turned_after_s,
             [round(x / 2**20, 1) for x in settled[::10]])
        child.send("stop")
        stopped = child.expect("stopped", 40)
        assert child.proc.wait(30) == 0, log.read_text()[-3000:]
    finally:
        child.close()
    # every item handed to the queue is either still queued or counted as dropped
    from agent.framework.diskqueue import DiskQueue

    q = DiskQueue(tmp_path / "data" / "queue" / "influxdb_central.db", 2**20)
    try:
        st = q.stats()
        assert stopped["received"] == st.items + st.dropped_items
        assert stopped["dropped"] == st.dropped_items
        assert st.dropped_items >= seen["dropped_items"]
        # and what the agent left on disk starts past the first point, too
        assert "value=0i" not in "".join(q.peek(1)[0].lines)
    finally:
        q.close()
