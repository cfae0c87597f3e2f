"""The scheduler isolates targets: a raise, a hang and a success in one tick."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from agent.core.errors import CollectError, PartialCollect
from agent.core.model import ErrorType, Item, Metric
from agent.core.plugin import Target
from agent.framework.scheduler import PollerRunner, PollerTiming, PollOutcome, jitter_offset
from agent.framework.telemetry import PluginStats


class ScriptedPoller:
    """Behaviour per target id: 'ok', 'raise', 'hang', 'collect_error', 'partial'."""

    def __init__(self, script: dict[str, str]) -> None:
        self.script = script
        self.calls: list[str] = []

    async def start(self) -> None: ...

    async def poll(self, target: Target) -> Sequence[Item]:
        self.calls.append(target.id)
        what = self.script[target.id]
        if what == "raise":
            raise RuntimeError("plugin bug")
        if what == "hang":
            await asyncio.sleep(3600)
        if what == "collect_error":
            raise CollectError(ErrorType.AUTH, "wrong community")
        if what == "partial":
            raise PartialCollect([Metric("m", {}, {"v": 1})], ErrorType.TIMEOUT, "cut short")
        return [Metric("m", {}, {"v": 1})]

    async def close(self) -> None: ...


def make_runner(script: dict[str, str], timeout: float = 0.5, **kw: int
                ) -> tuple[PollerRunner, list[tuple[float, PollOutcome]], PluginStats]:
    results: list[tuple[float, PollOutcome]] = []

    def sink(items: Sequence[Item], target: Target | None, outcome: PollOutcome | None) -> None:
        assert outcome is not None
        results.append((time.monotonic(), outcome))

    stats = PluginStats("test", "test/x")
    runner = PollerRunner(
        "test/x", ScriptedPoller(script), [Target(id=t) for t in script],
        PollerTiming(interval_s=1.0, timeout_s=timeout, jitter_s=0.0, **kw),
        asyncio.Semaphore(10), asyncio.Semaphore(10), sink, stats)
    return runner, results, stats


async def test_raise_hang_and_success_in_one_tick() -> None:
    runner, results, stats = make_runner({"bad": "raise", "slow": "hang", "good": "ok"})
    t0 = time.monotonic()
    await runner.run_once()
    by_id = {o.target.id: (t - t0, o) for t, o in results}
    assert set(by_id) == {"bad", "slow", "good"}
    good_at, good = by_id["good"]
    assert good.ok and good.error is None
    assert good_at < 0.25, "the good target must not wait for the hanging one"
    assert by_id["bad"][1].error is ErrorType.INTERNAL
    slow_at, slow = by_id["slow"]
    assert slow.error is ErrorType.TIMEOUT and 0.45 <= slow_at < 1.5
    assert stats.errors == {"internal": 1, "timeout": 1}
    assert stats.polls == 3 and stats.received == 1


async def test_typed_and_partial_errors_keep_items() -> None:
    runner, results, stats = make_runner({"a": "collect_error", "b": "partial"})
    await runner.run_once()
    errs = {o.target.id: o.error for _, o in results}
    assert errs == {"a": ErrorType.AUTH, "b": ErrorType.TIMEOUT}
    assert stats.received == 1  # the partial walk's item was kept


async def test_overrun_is_counted_not_stacked() -> None:
    runner, _, stats = make_runner({"slow": "hang"}, timeout=5.0)
    first = runner.tick()
    await asyncio.sleep(0)  # let the first poll start
    second = runner.tick()  # the previous poll is still running
    assert len(first) == 1 and second == []
    assert stats.overruns == 1 and stats.errors["overrun"] == 1
    poller = runner.poller
    assert isinstance(poller, ScriptedPoller) and poller.calls == ["slow"]
    await runner.cancel_inflight()


async def test_dead_target_backs_off_and_recovers() -> None:
    runner, _, _ = make_runner({"dead": "collect_error"}, backoff_after=2,
                               max_backoff_ticks=4)
    poller = runner.poller
    assert isinstance(poller, ScriptedPoller)
    for _ in range(12):
        await runner.run_once()
    # polled on ticks 1,2 then skips 1, polls, skips 2, polls, skips 4, polls, …
    assert 4 <= len(poller.calls) <= 6, poller.calls
    poller.script["dead"] = "ok"
    for _ in range(6):
        await runner.run_once()
    calls_before = len(poller.calls)
    for _ in range(3):
        await runner.run_once()
    assert len(poller.calls) == calls_before + 3  # after a success: every tick again


def test_ticks_are_aligned_with_a_stable_jitter() -> None:
    runner, _, _ = make_runner({"a": "ok"})
    runner.timing = PollerTiming(interval_s=10.0, timeout_s=1.0, jitter_s=2.0)
    off = jitter_offset("test/x", 2.0)
    assert 0 <= off < 2.0 and off == jitter_offset("test/x", 2.0)
    t = runner.next_tick(1000.0)
    assert t > 1000.0 and (t - off) % 10.0 == pytest.approx(0.0, abs=1e-6)
    assert runner.next_tick(t) == pytest.approx(t + 10.0)
