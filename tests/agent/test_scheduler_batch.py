"""The batch seam (Capability.BATCH_POLLS): one `poll_many` per tick with every due target,
while the scheduler keeps per target what it owns — outcomes and typed errors, the timeout,
overruns, backoff, counting — exactly as on the single-target path."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from agent.core.errors import CollectError, PartialCollect
from agent.core.model import ErrorType, Item, Metric
from agent.core.plugin import BatchReport, Target
from agent.framework.scheduler import PollerRunner, PollerTiming, PollOutcome
from agent.framework.telemetry import PluginStats


class ScriptedBatchPoller:
    """Behaviour per target id: 'ok', 'raise', 'collect_error', 'partial', 'hang' (never
    reported: the batch waits for it), 'silent' (never reported, the batch returns)."""

    def __init__(self, script: dict[str, str], crash_after: bool = False) -> None:
        self.script = script
        self.crash_after = crash_after  # poll_many itself raises once it reported
        self.batches: list[list[str]] = []
        self.single: list[str] = []

    async def start(self) -> None: ...

    async def poll(self, target: Target) -> Sequence[Item]:
        self.single.append(target.id)
        return [Metric("m", {}, {"v": 1})]

    async def poll_many(self, targets: Sequence[Target], report: BatchReport) -> None:
        self.batches.append([t.id for t in targets])
        hang = False
        for i, t in enumerate(targets):
            what = self.script[t.id]
            if what == "ok":
                report(i, [Metric("m", {}, {"v": 1})])
            elif what == "raise":
                report(i, RuntimeError("plugin bug"))
            elif what == "collect_error":
                report(i, CollectError(ErrorType.AUTH, "wrong community"))
            elif what == "partial":
                report(i, PartialCollect([Metric("m", {}, {"v": 2})], ErrorType.TIMEOUT,
                                         "cut short"))
            elif what == "hang":
                hang = True
        if self.crash_after:
            raise ValueError("broken batch")
        if hang:
            await asyncio.sleep(3600)

    async def close(self) -> None: ...


Got = list[tuple[str, Sequence[Item], PollOutcome]]


def make_runner(script: dict[str, str], timeout: float = 0.3, batch_size: int = 256,
                crash_after: bool = False, **kw: int
                ) -> tuple[PollerRunner, ScriptedBatchPoller, Got, PluginStats]:
    got: Got = []

    def sink(items: Sequence[Item], target: Target | None, outcome: PollOutcome | None) -> None:
        assert target is not None and outcome is not None
        got.append((target.id, items, outcome))

    poller = ScriptedBatchPoller(script, crash_after)
    stats = PluginStats("test", "test/x")
    runner = PollerRunner(
        "test/x", poller, [Target(id=t) for t in script],
        PollerTiming(interval_s=1.0, timeout_s=timeout, jitter_s=0.0, **kw),
        asyncio.Semaphore(10), asyncio.Semaphore(10), sink, stats, batched=True,
        batch_size=batch_size)
    return runner, poller, got, stats


async def test_one_call_per_tick_and_an_outcome_per_target() -> None:
    runner, poller, got, stats = make_runner({
        "good": "ok", "bad": "raise", "auth": "collect_error", "part": "partial",
        "slow": "hang"})
    await runner.run_once()
    assert poller.batches == [["good", "bad", "auth", "part", "slow"]]
    assert poller.single == []
    by_id = {tid: (items, o) for tid, items, o in got}
    assert set(by_id) == {"good", "bad", "auth", "part", "slow"}
    assert by_id["good"][1].ok and len(by_id["good"][0]) == 1
    assert by_id["bad"][1].error is ErrorType.INTERNAL
    assert "RuntimeError: plugin bug" in by_id["bad"][1].detail
    assert by_id["auth"][1].error is ErrorType.AUTH and by_id["auth"][0] == ()
    part_items, part = by_id["part"]
    assert part.error is ErrorType.TIMEOUT
    assert [m.fields for m in part_items if isinstance(m, Metric)] == [{"v": 2}]
    # not reported within the one timeout of the batch: a timeout of that target only
    assert by_id["slow"][1].error is ErrorType.TIMEOUT
    assert "no answer within 0.3s" in by_id["slow"][1].detail
    assert by_id["good"][1].duration_s < by_id["slow"][1].duration_s
    assert stats.polls == 5 and stats.received == 2
    assert stats.errors == {"internal": 1, "auth": 1, "timeout": 2}


async def test_a_crashing_or_forgetful_batch_fails_only_the_targets_it_did_not_report() -> None:
    runner, _p, got, _s = make_runner({"a": "ok", "b": "silent"}, crash_after=True)
    await runner.run_once()
    by_id = {tid: o for tid, _items, o in got}
    assert by_id["a"].ok
    assert by_id["b"].error is ErrorType.INTERNAL and "ValueError" in by_id["b"].detail
    runner, _p, got, _s = make_runner({"a": "ok", "b": "silent"})
    await runner.run_once()
    by_id = {tid: o for tid, _items, o in got}
    assert by_id["a"].ok
    assert by_id["b"].error is ErrorType.INTERNAL
    assert "without a result" in by_id["b"].detail


async def test_backoff_leaves_failing_targets_out_of_the_batch() -> None:
    runner, poller, got, _s = make_runner({"good": "ok", "bad": "collect_error"},
                                          backoff_after=2, max_backoff_ticks=4)
    for _ in range(4):
        await runner.run_once()
    # ticks 1-2 poll both; after 2 failures "bad" skips 1 tick; tick 4 polls it again
    assert poller.batches == [["good", "bad"], ["good", "bad"], ["good"], ["good", "bad"]]
    assert [tid for tid, _i, o in got if not o.ok] == ["bad"] * 3


async def test_a_running_batch_makes_its_targets_overrun_not_stack() -> None:
    runner, poller, _got, stats = make_runner({"a": "ok", "slow": "hang"}, timeout=30.0)
    first = runner.tick()
    await asyncio.sleep(0.05)
    assert runner.tick() == []  # both targets still belong to the running batch
    assert stats.overruns == 2 and poller.batches == [["a", "slow"]]
    await runner.cancel_inflight()
    assert all(t.done() for t in first)


async def test_chunks_of_batch_size() -> None:
    runner, poller, got, _s = make_runner({f"t{i}": "ok" for i in range(5)}, batch_size=2)
    await runner.run_once()
    assert poller.batches == [["t0", "t1"], ["t2", "t3"], ["t4"]]
    assert len(got) == 5 and all(o.ok for _t, _i, o in got)


async def test_poll_soon_keeps_the_single_target_path() -> None:
    runner, poller, got, _s = make_runner({"a": "ok", "b": "ok"})
    assert runner.poll_soon("b", 0.0)
    for _ in range(20):
        if got:
            break
        await asyncio.sleep(0.01)
    assert poller.single == ["b"] and poller.batches == []
    assert [tid for tid, _i, o in got if o.ok] == ["b"]
