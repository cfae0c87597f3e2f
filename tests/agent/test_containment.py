"""Containment: one bad point, one broken sink, one failing or hung loop never stops the rest.

Real pipeline, disk queues and local store (SQLite files in tmp_path). The "broken disk" is a
queue whose SQLite connection was closed under it: every write then fails as a dead disk would.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
import yaml

from agent.app.builtins import builtin_registry
from agent.core.model import Metric
from agent.core.plugin import BatchKind, Target
from agent.framework.diskqueue import DiskQueue
from agent.framework.localstore import LocalStore
from agent.framework.pipeline import Pipeline, QueueSink
from agent.framework.rejects import Rejections
from agent.framework.runtime import Agent
from agent.framework.supervise import Supervisor
from agent.framework.telemetry import PluginStats
from config.loader import load_config

HUGE = int.from_bytes(b"\x7f" + b"\xff" * 1800, "big")  # an INTEGER of 1,801 octets


def _sink(tmp_path: Path, name: str) -> QueueSink:
    return QueueSink(f"influxdb/{name}", DiskQueue(tmp_path / f"{name}.db", 2**20),
                     frozenset({BatchKind.METRICS}), PluginStats("influxdb", f"influxdb/{name}"))


async def test_a_huge_integer_is_set_aside_and_the_rest_flows(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = LocalStore(tmp_path / "store.db", retention_hours=1, max_bytes=2**22)
    sink = _sink(tmp_path, "q")
    rejections = Rejections()
    pipeline = Pipeline(base_tags={"campus": "c"}, queues=[sink], local_store=store,
                        rejections=rejections)
    target = Target(id="sw-bad")
    caplog.set_level(logging.WARNING)
    for tick in range(3):
        pipeline.submit([
            Metric("snmp_interface", {"ifname": "ge1"}, {"oper_status": HUGE}, tick + 1),
            Metric("snmp_interface", {"ifname": "ge2"}, {"oper_status": 1}, tick + 1),
            Metric("snmp_interface", {"ifname": "ge3"}, {"descr": "x" * 100_000}, tick + 1),
        ], target, source=("snmp", "snmp/net"))
        await pipeline.flush()
    good = store.query("snmp_interface")
    assert [m.tags["ifname"] for m in good] == ["ge2"] * 3
    assert sink.queue.stats().items == 3
    assert rejections.count("snmp/net", "int_out_of_range") == 3
    assert rejections.count("snmp/net", "string_too_long") == 3
    logged = [r.getMessage() for r in caplog.records if "set aside" in r.getMessage()]
    assert len(logged) == 2  # once per cause and device, not once per tick
    assert all("sw-bad" in line for line in logged)
    metrics = {(m.tags["reason"], m.fields["items_total"]) for m in rejections.metrics(1)}
    assert metrics == {("int_out_of_range", 3), ("string_too_long", 3)}
    sink.queue.close()
    store.close()


async def test_a_dead_queue_does_not_stop_the_other_queue_or_the_store(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store.db", retention_hours=1, max_bytes=2**22)
    dead, alive = _sink(tmp_path, "dead"), _sink(tmp_path, "alive")
    dead.queue.close()  # every put now raises, as on a disk that died
    pipeline = Pipeline(base_tags={}, queues=[dead, alive], local_store=store)
    for n in range(2):
        pipeline.submit([Metric("m", {}, {"v": n}, n + 1)])
        await pipeline.flush()
    assert alive.queue.stats().items == 2
    assert len(store.query("m")) == 2
    assert dead.stats.dropped == 2
    alive.queue.close()
    store.close()


async def _until(cond: object, limit: int = 400) -> None:
    for _ in range(limit):  # bounded: at most `limit` short sleeps
        if callable(cond) and cond():
            return
        await asyncio.sleep(0.025)
    raise AssertionError("condition not reached")


async def test_a_loop_ending_by_exception_is_restarted_and_counted(
        caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()
    runs: list[int] = []
    steady: list[int] = []

    async def crashing(stop: asyncio.Event) -> None:
        runs.append(1)
        raise RuntimeError("plugin bug")

    async def other(stop: asyncio.Event) -> None:
        while not stop.is_set():
            steady.append(1)
            await asyncio.sleep(0.01)

    sup = Supervisor(stop, backoff_initial_s=0.01, backoff_max_s=0.05)
    sup.add("crashing", crashing)
    sup.add("other", other)
    runner = asyncio.create_task(sup.run())
    await _until(lambda: len(runs) >= 3)
    mark = len(steady)
    await _until(lambda: len(steady) > mark)  # the sibling never stopped
    stop.set()
    await runner
    assert sup.loops[0].restarts >= 2
    assert any("plugin bug" in (r.exc_text or "") or r.exc_info for r in caplog.records
               if "crashing failed" in r.getMessage())


async def test_the_watchdog_restarts_a_hung_loop() -> None:
    stop = asyncio.Event()
    starts: list[int] = []
    progress = [0.0]

    async def hangs(stop: asyncio.Event) -> None:
        starts.append(1)
        await asyncio.Event().wait()  # stuck forever, as a call that never returns

    sup = Supervisor(stop, min_stall_s=0.1, stall_periods=1)
    sup.add("hangs", hangs, progress=lambda: progress[0], period_s=0.1)
    runner = asyncio.create_task(sup.run())
    await _until(lambda: len(starts) >= 3)
    stop.set()
    await runner
    lp = sup.loops[0]
    assert lp.stalls >= 2
    m = sup.metrics(1)[0]
    assert m.tags == {"loop": "hangs"} and m.fields["stalls_total"] == lp.stalls


async def test_a_loop_without_progress_is_never_called_stuck() -> None:
    """A listener blocks by design and reports no progress: the watchdog leaves it alone
    (it once cancelled every listener after three periods, every time)."""
    stop = asyncio.Event()
    starts: list[int] = []

    async def listens(stop: asyncio.Event) -> None:
        starts.append(1)
        await stop.wait()

    sup = Supervisor(stop, min_stall_s=0.1, stall_periods=1)
    sup.add("listener", listens, period_s=0.1)
    runner = asyncio.create_task(sup.run())
    await asyncio.sleep(1.0)  # ten limits, several watchdog passes
    stop.set()
    await runner
    assert (len(starts), sup.loops[0].stalls, sup.loops[0].restarts) == (1, 0, 0)


async def test_an_agent_cancelled_from_outside_leaves_no_loop_running(tmp_path: Path) -> None:
    """An embedding program (or a test) that cancels `Agent.run` gets the whole agent gone:
    its cycle, and with it every supervised loop, is cancelled too: no task it made is left."""
    config = tmp_path / "agent.yaml"
    config.write_text(yaml.safe_dump({
        "agent": {"data_dir": str(tmp_path / "data"), "interval_secs": 0.2,
                  "flush_interval_secs": 0.2, "local_store": {"enabled": False}},
        "inputs": [{"type": "host", "interval_secs": 0.2}],
    }))
    registry = builtin_registry()
    agent = Agent(load_config(config, registry), registry)
    before = asyncio.all_tasks()
    task = asyncio.create_task(agent.run())
    for _ in range(100):  # bounded: until the cycle's loops run
        await asyncio.sleep(0.05)
        if agent.supervisor is not None and all(lp.task for lp in agent.supervisor.loops):
            break
    assert agent.supervisor is not None
    loops = [lp.task for lp in agent.supervisor.loops]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.2)
    left = [t for t in asyncio.all_tasks() - before if not t.done()]
    assert left == [], [t.get_name() for t in left]
    assert all(t is not None and t.done() for t in loops)
