"""Draining a backlog without drowning the centre: a centre that answers 429 + Retry-After
when pushed past its capacity (an HTTP server on loopback, standing in for an overloaded
VictoriaMetrics/InfluxDB, which we cannot make overloaded on demand); the real influxdb
exporter and PushOutput. The pace halves on the centre's answers and climbs back, the
Retry-After is honoured, and every point arrives exactly once."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.core.plugin import BatchKind
from agent.framework.outputs import PushOutput
from agent.framework.pacing import AimdPace, CatchUp, is_overload
from exporters.influxdb.plugin import InfluxConfig, InfluxExporter
from tests.exporters.helpers import FakeInflux, make_output

CAPACITY = 4000  # points per second the fake centre takes before it says 429
N = 16_000


class BusyCentre:
    """Accepts up to CAPACITY points per rolling second; beyond that: 429, Retry-After 1."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.window: list[tuple[float, int]] = []
        self.log: list[tuple[float, int]] = []  # (monotonic, status)
        self.fake = FakeInflux(self.decide)

    def decide(self, lines: list[str]) -> tuple[int, str, dict[str, str]]:
        now = time.monotonic()
        with self.lock:
            self.window = [(t, n) for t, n in self.window if now - t < 1.0]
            if sum(n for _, n in self.window) + len(lines) > CAPACITY:
                self.log.append((now, 429))
                return 429, '{"code":"too many requests"}', {"Retry-After": "1"}
            self.window.append((now, len(lines)))
            self.log.append((now, 204))
        return self.fake.accept(lines)


async def _run_output_until(out: PushOutput, exporter: InfluxExporter,
                            done: Callable[[], bool], polls: int) -> None:
    """Run the output loop until `done()` holds, checked every 50 ms at most `polls` times."""
    await exporter.start()
    stop = asyncio.Event()
    runner = asyncio.create_task(out.run(stop))
    try:
        for _ in range(polls):
            if done():
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await runner
        await exporter.close()


@pytest.mark.timeout(60)
async def test_backlog_drain_backs_off_on_429_and_delivers_once(tmp_path: Path) -> None:
    centre = BusyCentre()
    exporter = InfluxExporter(InfluxConfig(url=centre.fake.url, gzip=False))
    out = make_output(tmp_path, exporter, batch_max_points=1000,
                      backfill_points_per_sec=20_000)
    out.fresh_secs = 0.0  # everything queued is backlog
    base = time.time_ns()
    lines = [f"drain,s={i % 50} v={i}i {base + i}" for i in range(N)]
    for k in range(0, N, 2000):
        out.sink.queue.put(BatchKind.METRICS, lines[k:k + 2000])
    lowest = out.pace.rate

    def drained() -> bool:
        nonlocal lowest
        if out.pace.rate is not None and lowest is not None:
            lowest = min(lowest, out.pace.rate)
        return not out.sink.queue.stats().items

    try:
        await _run_output_until(out, exporter, drained, polls=800)  # bounded: 40 s
    finally:
        centre.fake.close()
    assert sorted(centre.fake.stored) == sorted(lines)  # everything, exactly once
    statuses = [s for _, s in centre.log]
    assert 429 in statuses, "the test must push the centre past its capacity"
    assert out.pace.decreases >= 1 and lowest is not None and lowest < 20_000
    # Retry-After honoured: nothing was sent within 1 s after a 429
    for (t0, s0), (t1, _) in zip(centre.log, centre.log[1:], strict=False):
        if s0 == 429:
            assert t1 - t0 >= 0.95, centre.log
    # adapted: far fewer refusals than deliveries (no hammering at the configured maximum)
    assert statuses.count(429) < statuses.count(204) / 2, statuses


def test_aimd_halves_on_overload_and_climbs_back_to_the_ceiling() -> None:
    pace = AimdPace(10_000.0)
    assert pace.rate == 10_000.0
    pace.on_overload(now=1.0)
    assert pace.rate == 5_000.0
    pace.on_overload(now=1.1)
    assert pace.rate == 2_500.0
    for i in range(100):
        pace.on_delivered(1000, now=2.0 + i)
    assert pace.rate == 10_000.0  # additive steps, capped at the configured rate
    for i in range(20):
        pace.on_overload(now=200.0 + i)
    assert pace.rate == pace.floor  # never below the floor


def test_unpaced_output_starts_pacing_at_half_of_what_went_through() -> None:
    pace = AimdPace(None)
    assert pace.rate is None
    for i in range(10):
        pace.on_delivered(5000, now=10.0 + i * 0.5)  # ~10,000 points/s
    pace.on_overload(now=15.0)
    assert pace.rate is not None and 4000 <= pace.rate <= 6000


def test_overload_answers_are_told_apart_from_unreachable() -> None:
    from agent.core.model import ErrorType
    from agent.framework.outputs import CentreUnavailable

    assert is_overload(CentreUnavailable("HTTP 429: slow down", ErrorType.PROTOCOL))
    assert is_overload(CentreUnavailable("HTTP 503: busy", ErrorType.PROTOCOL))
    assert is_overload(CentreUnavailable("HTTP 500: x", ErrorType.PROTOCOL, retry_after_s=3))
    assert is_overload(CentreUnavailable("read timed out", ErrorType.TIMEOUT))
    assert not is_overload(CentreUnavailable("refused", ErrorType.REFUSED))
    assert not is_overload(CentreUnavailable("HTTP 500: bug", ErrorType.PROTOCOL))


def test_catch_up_estimate_follows_the_net_drain_rate() -> None:
    c = CatchUp()
    assert c.update(0, now=0.0) == 0.0  # empty: caught up
    assert c.update(1000, now=1.0) is None  # growing (centre down): no estimate
    eta = None
    for t in range(2, 200):  # then shrinking by 100 items/s
        eta = c.update(30_000 - 100 * t, now=float(t))
    assert c.net_per_s == pytest.approx(100, rel=0.1)
    assert eta == pytest.approx((30_000 - 100 * 199) / 100, rel=0.1)


@pytest.mark.timeout(60)
async def test_a_caught_up_output_gives_the_backlog_disk_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After the drain the output loop shrinks the queue file: the agent's disk is not held
    at the outage's high-water mark (the 72 h replay left 9.7 GiB of free pages)."""
    from agent.framework import diskqueue

    monkeypatch.setattr(diskqueue, "SHRINK_MIN_FREE_BYTES", 2**20)  # 64 MiB in production
    fake = FakeInflux(lambda lines: fake.accept(lines))
    exporter = InfluxExporter(InfluxConfig(url=fake.url, gzip=False))
    out = make_output(tmp_path, exporter, batch_max_points=5000)
    out.fresh_secs = 0.0
    base = time.time_ns()
    # random tags: the queue compresses its rows, and this backlog must take real disk
    lines = [f"drain,s={i % 50},pad={os.urandom(60).hex()} v={i}i {base + i}"
             for i in range(40_000)]
    for k in range(0, len(lines), 5000):
        out.sink.queue.put(BatchKind.METRICS, lines[k:k + 5000])
    queue = out.sink.queue
    full = queue.disk_bytes()
    assert full > 2_000_000  # the backlog takes real disk
    try:
        await _run_output_until(  # bounded: 20 s
            out, exporter, lambda: not queue.stats().rows and queue.disk_bytes() < full / 10,
            polls=400)
    finally:
        fake.close()
    assert sorted(fake.stored) == sorted(lines)  # everything, exactly once
    assert queue.disk_bytes() < full / 10, (full, queue.disk_bytes())
