"""Events that make a poller poll one target soon (agent/framework/triggers.py,
PollerRunner.poll_soon): a burst gives one poll, unknown targets and other kinds none, a running
poll is followed by one more, nothing fires after the runner stopped."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from pydantic import BaseModel

from agent.core.model import Event, EventState, Item, Severity
from agent.core.plugin import Capability, PluginKind, PluginSpec, Target
from agent.framework.scheduler import PollerRunner, PollerTiming, PollOutcome
from agent.framework.telemetry import PluginStats
from agent.framework.triggers import Triggers


class Saver:
    """A triggered poller: `saved` events for its devices ask for a poll."""

    trigger_debounce_s = 0.2

    def __init__(self, hold: asyncio.Event | None = None) -> None:
        self.polls: list[str] = []
        self.hold = hold

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def triggered_by(self, event: Event) -> str | None:
        return event.device if event.kind == "saved" else None

    async def poll(self, target: Target) -> Sequence[Item]:
        self.polls.append(target.id)
        if self.hold is not None:
            await self.hold.wait()
        return []


class _Cfg(BaseModel):
    pass


def _spec(caps: Capability) -> PluginSpec[_Cfg, Saver]:
    return PluginSpec("saver", PluginKind.POLLER, _Cfg, lambda c, ctx: Saver(),
                      "test", capabilities=caps)


def _event(device: str, kind: str = "saved") -> Event:
    return Event(f"{kind}:{device}", kind, EventState.OBSERVED, Severity.INFO, "saved",
                 device)


def _runner(poller: Saver, done: list[str]) -> PollerRunner:
    def sink(items: Sequence[Item], t: Target | None, o: PollOutcome | None) -> None:
        assert t is not None
        done.append(t.id)

    return PollerRunner("saver/t", poller, [Target("sw-1"), Target("sw-2")],
                        PollerTiming(interval_s=3600, timeout_s=5, jitter_s=0),
                        asyncio.Semaphore(4), asyncio.Semaphore(4), sink,
                        PluginStats("saver", "saver/t"))


async def _until(cond: object, limit: int = 200) -> None:
    for _ in range(limit):  # bounded wait for the debounced poll
        if callable(cond) and cond():
            return
        await asyncio.sleep(0.02)


async def test_a_burst_gives_one_poll_of_that_device() -> None:
    saver, done = Saver(), list[str]()
    runner = _runner(saver, done)
    triggers = Triggers()
    triggers.add(_spec(Capability.TRIGGERED_POLLS), saver, runner)
    for _ in range(5):
        triggers.observe([_event("sw-1"), _event("sw-2", "link_down"), _event("cam-9")])
    await _until(lambda: done)
    await asyncio.sleep(0.5)  # give a wrong second poll the chance to show up
    assert saver.polls == ["sw-1"] and done == ["sw-1"]
    await runner.cancel_inflight()


async def test_no_capability_no_route_and_nothing_after_stop() -> None:
    saver, done = Saver(), list[str]()
    runner = _runner(saver, done)
    triggers = Triggers()
    triggers.add(_spec(Capability.NONE), saver, runner)
    triggers.observe([_event("sw-1")])
    other = Triggers()
    other.add(_spec(Capability.TRIGGERED_POLLS), saver, runner)
    other.observe([_event("sw-2")])
    await runner.cancel_inflight()  # stopped before the debounce ran out
    await asyncio.sleep(0.5)
    assert saver.polls == []
    assert not runner.poll_soon("sw-1", 0.0)


async def test_a_running_poll_is_followed_by_one_more() -> None:
    hold = asyncio.Event()
    saver, done = Saver(hold), list[str]()
    runner = _runner(saver, done)
    assert runner.poll_soon("sw-1", 0.0)
    await _until(lambda: saver.polls)
    assert runner.poll_soon("sw-1", 0.0)  # arrives while the first poll still runs
    await asyncio.sleep(0.2)
    assert saver.polls == ["sw-1"]
    hold.set()
    await _until(lambda: len(done) == 2)
    assert saver.polls == ["sw-1", "sw-1"]
    await runner.cancel_inflight()
