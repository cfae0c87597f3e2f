"""Keeps the agent's long-lived loops alive: restart on exception (with backoff), and a watchdog.

Each loop (a poller's ticker, a push output, the flush loop, a listener runner) runs as its own
task. A loop that ends by an exception is logged with its traceback and started again after a
capped exponential backoff; a loop that reports no progress for `stall_periods` of its period
(stuck on a hung disk, a library call that never returns) is cancelled and started again by the
watchdog. Both are counted in `agent_loop{loop}`, so a dashboard shows a sick agent that still
looks alive. Timing is on the monotonic clock: a wall-clock step neither fires nor hides a stall.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from agent.core.catalogue import Measurement, counter, gauge, tag
from agent.core.model import Metric, MetricKind

log = logging.getLogger("campusmon.supervisor")

LOOPS = Measurement(
    "agent_loop", "the agent's long-lived loops (pollers' tickers, outputs, flush, listeners): "
    "restarts after an exception and watchdog restarts after a stall",
    tags=(tag("loop", "loop name: flush, or the plugin instance it runs"),),
    fields=(counter("restarts_total", "", "restarts after the loop ended by an exception"),
            counter("stalls_total", "", "watchdog restarts: no progress within its limit"),
            gauge("progress_age_seconds", "seconds", "time since the loop last made progress")))

Runner = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


@dataclass(slots=True)
class Loop:
    name: str
    run: Runner
    # monotonic time of the last completed iteration; None: the loop blocks by design (a
    # listener) and is not watched, only restarted when it ends
    progress: Callable[[], float] | None
    period_s: float  # expected time between progress reports
    started: float = 0.0
    restarts: int = 0
    stalls: int = 0
    stalled: bool = False
    task: asyncio.Task[None] | None = None

    def age(self, now: float) -> float:
        last = self.started if self.progress is None else max(self.progress(), self.started)
        return max(0.0, now - last)


@dataclass
class Supervisor:
    stop: asyncio.Event
    stall_periods: float = 3.0
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    min_stall_s: float = 10.0  # never call a loop stuck sooner than this
    stop_grace_s: float = 5.0  # on stop, a loop that does not end within this is cancelled
    clock: Callable[[], float] = time.monotonic
    loops: list[Loop] = field(default_factory=list)

    def add(self, name: str, run: Runner, *, progress: Callable[[], float] | None = None,
            period_s: float = 60.0) -> Loop:
        loop = Loop(name, run, progress, period_s)
        self.loops.append(loop)
        return loop

    def limit(self, loop: Loop) -> float:
        return max(self.min_stall_s, self.stall_periods * loop.period_s)

    async def run(self) -> None:
        """Run every loop until `stop`; returns when all have ended."""
        keepers = [asyncio.create_task(self._keep(lp), name=f"keep {lp.name}")
                   for lp in self.loops]
        watchdog = asyncio.create_task(self._watchdog(), name="watchdog")
        try:
            await asyncio.gather(*keepers, return_exceptions=True)
        finally:
            watchdog.cancel()
            for k in keepers:
                k.cancel()
            await asyncio.gather(watchdog, *keepers, return_exceptions=True)

    async def _keep(self, lp: Loop) -> None:
        backoff = self.backoff_initial_s
        while not self.stop.is_set():
            lp.started, lp.stalled = self.clock(), False
            task = lp.task = asyncio.create_task(lp.run(self.stop), name=lp.name)
            stopper = asyncio.create_task(self.stop.wait())
            try:
                await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if self.stop.is_set():
                    # a loop sees stop itself; one that is hung is cancelled after a grace
                    await asyncio.wait({task}, timeout=self.stop_grace_s)
                    if not task.done():
                        log.error("loop %s did not stop within %.0fs; cancelled", lp.name,
                                  self.stop_grace_s)
                        task.cancel()
                        await asyncio.gather(task, return_exceptions=True)
                    return
            except asyncio.CancelledError:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                raise
            finally:
                stopper.cancel()
            if task.cancelled():
                if lp.stalled:  # the watchdog's doing: logged there, start again at once
                    continue
                return
            exc = task.exception()
            lp.restarts += 1
            if self.clock() - lp.started > self.backoff_max_s:
                backoff = self.backoff_initial_s  # it ran fine for a while: a fresh failure
            if exc is None:
                log.error("loop %s ended without being stopped; restarting in %.0fs",
                          lp.name, backoff)
            else:
                log.error("loop %s failed; restarting in %.0fs", lp.name, backoff,
                          exc_info=exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=backoff)
            backoff = min(backoff * 2, self.backoff_max_s)

    def check(self) -> list[Loop]:
        """One watchdog pass: cancel the loops stuck past their limit; returns them."""
        now = self.clock()
        stuck = []
        for lp in self.loops:
            if lp.progress is None or lp.task is None or lp.task.done() or lp.stalled:
                continue
            age = lp.age(now)
            if age > self.limit(lp):
                lp.stalled = True
                lp.stalls += 1
                log.error("loop %s made no progress for %.0fs (limit %.0fs); restarting it",
                          lp.name, age, self.limit(lp))
                lp.task.cancel()
                stuck.append(lp)
        return stuck

    async def _watchdog(self) -> None:
        every = min(max(min((self.limit(lp) for lp in self.loops), default=10.0) / 4, 0.2),
                    10.0)
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=every)
            self.check()

    def metrics(self, ts_ns: int) -> list[Metric]:
        now = self.clock()
        return [Metric("agent_loop", {"loop": lp.name},
                       {"restarts_total": lp.restarts, "stalls_total": lp.stalls,
                        "progress_age_seconds": round(lp.age(now), 3)}, ts_ns,
                       MetricKind.COUNTER)
                for lp in self.loops]
