"""A 1 h backward clock step during a backlog flush: pacing holds, no negative ages, no stuck
series. The system clock cannot be stepped from a test (and must not be, on a shared box), so
the framework's wall clock is given a scripted source and a scripted monotonic clock; the disk
queue (a real SQLite file), the output's pacing and the snapshot are the real ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.core.model import Metric
from agent.core.plugin import Batch, BatchKind
from agent.framework import clock as clock_module
from agent.framework.clock import WallClock, wall_ns
from agent.framework.diskqueue import DiskQueue
from agent.framework.outputs import PushOutput, Step
from agent.framework.pipeline import QueueSink
from agent.framework.snapshot import Snapshot
from agent.framework.telemetry import PluginStats
from config.models import QueueOptions

S = 1_000_000_000
T0 = 1_780_000_000 * S


class Script:
    """The system clock and the monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.wall = T0
        self.mono = 10 * S

    def advance(self, secs: float) -> None:
        self.wall += int(secs * S)
        self.mono += int(secs * S)

    def step_wall(self, secs: float) -> None:
        self.wall += int(secs * S)  # the system clock jumps; monotonic time does not


@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch) -> Iterator[Script]:
    sc = Script()
    clk = WallClock(lambda: sc.wall, lambda: sc.mono)
    monkeypatch.setattr(clock_module, "_DEFAULT", clk)
    yield sc


class Recorder:
    accepts = frozenset({BatchKind.METRICS})

    def __init__(self) -> None:
        self.batches: list[int] = []

    async def start(self) -> None:
        return None

    async def write(self, batch: Batch) -> None:
        self.batches.append(len(batch.lines))

    async def close(self) -> None:
        return None


def test_the_wall_clock_never_runs_back_and_eases_back(script: Script) -> None:
    clk = clock_module.default_clock()
    steps: list[int] = []
    clk.on_step(steps.append)
    before = clk.now_ns()
    script.advance(1)
    script.step_wall(-3600)
    after = clk.now_ns()
    assert after >= before + S and steps == [3600 * S]
    seen = [after]
    for _ in range(400):  # 400 x 100 s: ten times the step, and more
        script.advance(100)
        seen.append(clk.now_ns())
    assert seen == sorted(seen)
    assert seen[-1] == script.wall  # back on the system clock
    assert clk.steps == 1


async def test_backward_step_during_a_backlog_flush(script: Script, tmp_path: Path) -> None:
    queue = DiskQueue(tmp_path / "q.db", 2**24)
    sink = QueueSink("influxdb/central", queue, frozenset({BatchKind.METRICS}),
                     PluginStats("influxdb", "influxdb/central"))
    rate = 200
    exporter = Recorder()
    out = PushOutput(sink, exporter, QueueOptions(backfill_points_per_sec=rate,
                                                  batch_max_points=5000))
    wall_ns()  # the clock's first reading
    for n in range(10):  # an outage's backlog: 10 x 100 points
        queue.put(BatchKind.METRICS, [f"m v={n * 100 + i}i {T0 + i}" for i in range(100)])
    script.advance(120)  # two minutes later the centre is back: all of it is backlog
    _, backlog = out._pick()
    assert backlog

    # mid-flush, the system clock is stepped back one hour
    sent = await out.deliver_once()
    assert 0 < sent <= rate
    script.advance(0.5)
    script.step_wall(-3600)
    rows, backlog = out._pick()
    assert rows and backlog  # still backlog: paced, not sent at once as "fresh" data

    # what the bucket allows, and no more, per step
    steps = [await out.step() for _ in range(3)]
    assert all(n <= rate for _, n in steps)
    assert any(result is Step.PACED for result, _ in steps)

    # no negative age: on the clock the rows were stamped by
    oldest = queue.stats().oldest_ns
    assert oldest is not None
    age_s = (wall_ns() - oldest) / S
    assert 120 <= age_s < 130

    # data arriving after the step is fresh: sent first, unpaced
    queue.put(BatchKind.METRICS, ["m fresh=1i 1"])
    rows, backlog = out._pick()
    assert not backlog and rows[0].items == 1
    queue.close()


def test_no_stuck_series_after_the_step(script: Script) -> None:
    snap = Snapshot(300)
    clk = clock_module.default_clock()
    clk.on_step(lambda _: setattr(snap, "clock_epoch", snap.clock_epoch + 1))  # as the agent
    clk.now_ns()
    snap.update([Metric("snmp_interface", {"ifname": "ge1"}, {"in_octets": 1}, script.wall)])
    script.advance(1)
    script.step_wall(-3600)
    clk.now_ns()  # the flush loop reads the clock every flush
    # readings are stamped by the (stepped) system clock: older than the kept one
    snap.update([Metric("snmp_interface", {"ifname": "ge1"}, {"in_octets": 2}, script.wall)])
    (m,) = snap.current()
    assert m.fields["in_octets"] == 2
