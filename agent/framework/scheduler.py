"""Runs pollers on aligned ticks and listeners for the agent's life.

- Ticks fall on multiples of the interval plus a stable per-instance jitter offset, so the
  spacing between two polls of a target stays exactly one interval (rates stay clean).
- Each target is polled under its own timeout; global and per-plugin semaphores bound the
  polls in flight. A target whose previous poll still runs is skipped and counted as an
  overrun, never stacked. A target failing `backoff_after` times in a row is skipped for an
  exponentially growing number of ticks (capped); one success resets it.
- This is the one place that catches every exception from a plugin, so one broken device
  never cancels its siblings.
- A batch poller (spec capability BATCH_POLLS, `BatchPoller`) gets one `poll_many` call per
  tick with all its due targets (in chunks of `batch_size`): one task, one timeout, one pass
  through the semaphores for the chunk instead of per target (~80-100 us each, as much as
  the ICMP echo itself). Per target everything else stays: overrun and backoff checks, a
  result or a typed error each (a target not reported within the timeout is a timeout),
  counting, a `PollOutcome`; the results go to the sink in one pass after the chunk.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import cast

from agent.core.errors import CollectError, PartialCollect
from agent.core.model import ErrorType, Item
from agent.core.plugin import BatchPoller, Listener, ListenerContext, Poller, Target
from agent.framework.telemetry import PluginStats

log = logging.getLogger("campusmon.scheduler")


@dataclass(frozen=True, slots=True)
class PollOutcome:
    target: Target
    ok: bool
    error: ErrorType | None
    duration_s: float
    started_ns: int
    detail: str = ""


def _ok_outcome(target: Target, duration_s: float, started_ns: int) -> PollOutcome:
    """Exactly `PollOutcome(target, True, None, duration_s, started_ns, "")` without the
    frozen dataclass __init__ (one object.__setattr__ per field): the batch path builds one
    per target per tick. Slots filled through their descriptors, as make_metric does."""
    o = _new_object(PollOutcome)
    _po_target(o, target)
    _po_ok(o, True)
    _po_error(o, None)
    _po_duration(o, duration_s)
    _po_started(o, started_ns)
    _po_detail(o, "")
    return o


if tuple(f.name for f in fields(PollOutcome)) != ("target", "ok", "error", "duration_s",
                                                  "started_ns", "detail"):
    raise RuntimeError("_ok_outcome is out of step with PollOutcome's fields")
_new_object = object.__new__
_po_target = PollOutcome.__dict__["target"].__set__
_po_ok = PollOutcome.__dict__["ok"].__set__
_po_error = PollOutcome.__dict__["error"].__set__
_po_duration = PollOutcome.__dict__["duration_s"].__set__
_po_started = PollOutcome.__dict__["started_ns"].__set__
_po_detail = PollOutcome.__dict__["detail"].__set__


Sink = Callable[[Sequence[Item], Target | None, PollOutcome | None], None]


@dataclass(slots=True)
class _TargetState:
    inflight: asyncio.Task[None] | None = None
    failures: int = 0
    skip_ticks: int = 0
    last_error: ErrorType | None = None


@dataclass(frozen=True, slots=True)
class PollerTiming:
    interval_s: float
    timeout_s: float
    jitter_s: float
    backoff_after: int = 3
    max_backoff_ticks: int = 16


def jitter_offset(instance_id: str, jitter_s: float) -> float:
    """Stable offset in [0, jitter): instances spread out, each keeps its own rhythm."""
    if jitter_s <= 0:
        return 0.0
    return (zlib.crc32(instance_id.encode()) % 10_000) / 10_000 * jitter_s


@dataclass
class PollerRunner:
    instance_id: str
    poller: Poller
    targets: Sequence[Target]
    timing: PollerTiming
    plugin_limit: asyncio.Semaphore
    global_limit: asyncio.Semaphore
    sink: Sink
    stats: PluginStats
    # the poller's spec declares BATCH_POLLS: one `poll_many` per tick per `batch_size`
    # targets (the runtime passes the instance's concurrency limit). Each chunk holds one
    # permit of the plugin and global limits, and chunks run side by side: a batch poller is
    # bounded per call, not in total (fine for ICMP bursts; a memory-heavy poller should not
    # declare BATCH_POLLS without chunks going one after another)
    batched: bool = False
    batch_size: int = 256
    _state: dict[str, _TargetState] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _soon: dict[str, tuple[asyncio.TimerHandle, float]] = field(default_factory=dict)
    _closed: bool = False
    progress: float = field(default_factory=time.monotonic)  # last tick, for the watchdog

    def next_tick(self, now: float) -> float:
        iv = self.timing.interval_s
        off = jitter_offset(self.instance_id, min(self.timing.jitter_s, iv))
        return math.floor((now - off) / iv + 1) * iv + off

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            delay = self.next_tick(time.time()) - time.time()
            try:
                await asyncio.wait_for(stop.wait(), timeout=max(0.0, delay))
                return
            except TimeoutError:
                pass
            self.tick()
            self.progress = time.monotonic()

    def tick(self) -> list[asyncio.Task[None]]:
        """Start this tick's polls; returns the tasks started (for `once` and tests)."""
        started = []
        due: list[tuple[Target, _TargetState]] = []
        for target in self.targets:
            st = self._state.setdefault(target.id, _TargetState())
            if st.inflight is not None and not st.inflight.done():
                self.stats.overruns += 1
                self.stats.count_error(ErrorType.OVERRUN)
                continue
            if st.skip_ticks > 0:
                st.skip_ticks -= 1
                continue
            if self.batched:
                due.append((target, st))
                continue
            task = asyncio.create_task(self._poll_one(target, st), name=f"poll {target.id}")
            st.inflight = task
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started.append(task)
        size = max(1, self.batch_size)
        for first in range(0, len(due), size):
            chunk = due[first:first + size]
            task = asyncio.create_task(self._poll_batch(chunk),
                                       name=f"poll {len(chunk)} targets from {chunk[0][0].id}")
            for _target, st in chunk:
                st.inflight = task  # overrun checks stay per target
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started.append(task)
        return started

    async def run_once(self) -> None:
        tasks = self.tick()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _poll_one(self, target: Target, st: _TargetState) -> None:
        items: Sequence[Item] = ()
        error: ErrorType | None = None
        detail = ""
        async with self.global_limit, self.plugin_limit:
            started_ns = time.time_ns()
            t0 = time.monotonic()
            try:
                async with asyncio.timeout(self.timing.timeout_s):
                    items = await self.poller.poll(target)
            except TimeoutError:
                error, detail = ErrorType.TIMEOUT, f"no answer within {self.timing.timeout_s}s"
            except PartialCollect as exc:
                items, error, detail = exc.items, exc.error_type, str(exc)
            except CollectError as exc:
                error, detail = exc.error_type, str(exc)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the one catch-all: a plugin bug stays with its target
                error, detail = ErrorType.INTERNAL, f"{type(exc).__name__}: {exc}"
                log.debug("%s: %s crashed", self.instance_id, target.id, exc_info=True)
            duration = time.monotonic() - t0
        outcome = self._account(target, st, len(items), error, detail, duration, started_ns)
        try:
            self.sink(items, target, outcome)
        except Exception:
            log.exception("%s: pipeline rejected items of %s", self.instance_id, target.id)

    async def _poll_batch(self, due: Sequence[tuple[Target, _TargetState]]) -> None:
        """One `poll_many` for the chunk; every target still gets its own outcome."""
        poller = cast(BatchPoller, self.poller)
        n = len(due)
        got: list[Sequence[Item] | BaseException | None] = [None] * n
        took = [0.0] * n
        open_ = True
        failure: BaseException | None = None  # what poll_many itself raised
        async with self.global_limit, self.plugin_limit:
            started_ns = time.time_ns()
            t0 = time.monotonic()

            def report(index: int, result: Sequence[Item] | BaseException) -> None:
                if open_ and got[index] is None:  # the first report of a target counts
                    got[index] = result
                    took[index] = time.monotonic() - t0
            try:
                async with asyncio.timeout(self.timing.timeout_s):
                    await poller.poll_many([t for t, _ in due], report)
            except TimeoutError as exc:
                failure = exc
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a plugin bug: the targets it did not report carry it
                failure = exc
                log.debug("%s: poll_many crashed", self.instance_id, exc_info=True)
            open_ = False  # a late report (after the timeout) is dropped, not half-counted
            duration = time.monotonic() - t0
        missing: BaseException = failure if failure is not None else RuntimeError(
            "poll_many returned without a result for this target")
        done: list[tuple[Sequence[Item], Target, PollOutcome]] = []
        stats = self.stats
        for i, (target, st) in enumerate(due):
            result = got[i]
            if result is None:
                result, took[i] = missing, duration
            if isinstance(result, BaseException):
                items, error, detail = self._classify(result)
                outcome = self._account(target, st, len(items), error, detail, took[i],
                                        started_ns)
            else:  # a target that answered: `_account`'s success path, inline (per target)
                items = result
                secs = took[i]
                stats.polls += 1
                stats.poll_seconds_total += secs
                stats.last_poll_seconds = secs
                stats.received += len(items)
                if st.last_error is not None:
                    log.info("%s: %s recovered", self.instance_id, target.id)
                st.failures, st.skip_ticks, st.last_error = 0, 0, None
                outcome = _ok_outcome(target, secs, started_ns)
            done.append((items, target, outcome))
        for items, target, outcome in done:  # one pass, after the whole chunk
            try:
                self.sink(items, target, outcome)
            except Exception:
                log.exception("%s: pipeline rejected items of %s", self.instance_id, target.id)

    def _classify(self, result: Sequence[Item] | BaseException
                  ) -> tuple[Sequence[Item], ErrorType | None, str]:
        """A batch result as `_poll_one` would have seen it: items, or the typed error."""
        if not isinstance(result, BaseException):
            return result, None, ""
        if isinstance(result, TimeoutError):
            return (), ErrorType.TIMEOUT, f"no answer within {self.timing.timeout_s}s"
        if isinstance(result, PartialCollect):
            return result.items, result.error_type, str(result)
        if isinstance(result, CollectError):
            return (), result.error_type, str(result)
        return (), ErrorType.INTERNAL, f"{type(result).__name__}: {result}"

    def _account(self, target: Target, st: _TargetState, received: int,
                 error: ErrorType | None, detail: str, duration: float,
                 started_ns: int) -> PollOutcome:
        """Count one target's poll, update its backoff state; its outcome for the sink."""
        self.stats.polls += 1
        self.stats.poll_seconds_total += duration
        self.stats.last_poll_seconds = duration
        self.stats.received += received
        if error is None:
            if st.last_error is not None:
                log.info("%s: %s recovered", self.instance_id, target.id)
            st.failures, st.skip_ticks, st.last_error = 0, 0, None
        else:
            self.stats.count_error(error)
            if error != st.last_error:  # log once per change of state, not every tick
                log.warning("%s: %s: %s (%s)", self.instance_id, target.id, error.value, detail)
            st.last_error = error
            st.failures += 1
            if st.failures >= self.timing.backoff_after:
                exp = st.failures - self.timing.backoff_after
                st.skip_ticks = min(2 ** min(exp, 16), self.timing.max_backoff_ticks)
        return PollOutcome(target, error is None, error, duration, started_ns, detail)

    def poll_soon(self, target_id: str, debounce_s: float) -> bool:
        """Poll one target outside the ticks, `debounce_s` after the last request: a burst of
        requests gives one poll, at the latest 4 x debounce after the first. A poll already
        running is followed by one more (it may have read the device before the change).
        False for a target this runner does not poll."""
        target = next((t for t in self.targets if t.id == target_id), None)
        if target is None or self._closed:
            return False
        loop = asyncio.get_running_loop()
        now = loop.time()
        old = self._soon.pop(target_id, None)
        first = now
        if old is not None:
            old[0].cancel()
            first = old[1]
        when = min(now + debounce_s, first + 4 * debounce_s)
        self._soon[target_id] = (loop.call_at(when, self._poll_now, target), first)
        return True

    def _poll_now(self, target: Target) -> None:
        self._soon.pop(target.id, None)
        if self._closed:
            return
        st = self._state.setdefault(target.id, _TargetState())
        if st.inflight is not None and not st.inflight.done():
            st.inflight.add_done_callback(lambda _: self.poll_soon(target.id, 0.0))
            return
        st.skip_ticks = 0  # asked for: a backed-off target is polled too
        task = asyncio.create_task(self._poll_one(target, st), name=f"poll {target.id} (soon)")
        st.inflight = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def cancel_inflight(self) -> None:
        self._closed = True
        for handle, _ in self._soon.values():
            handle.cancel()
        self._soon.clear()
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


@dataclass
class ListenerRunner:
    instance_id: str
    listener: Listener
    targets: Sequence[Target]
    sink: Sink
    stats: PluginStats
    restart_max_s: float = 30.0

    def _emit(self, items: Sequence[Item], target: Target | None = None) -> None:
        self.stats.received += len(items)
        self.sink(items, target, None)

    async def run(self, stop: asyncio.Event) -> None:
        ctx = ListenerContext(self._emit, self.targets, self.stats.count_error)
        backoff = 1.0
        while not stop.is_set():
            task = asyncio.create_task(self.listener.run(ctx), name=self.instance_id)
            stopper = asyncio.create_task(stop.wait())
            try:
                done, _ = await asyncio.wait({task, stopper},
                                             return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                # cancelled from outside: the listener goes too, or its connections outlive
                # it beside the next one's (two MQTT clients with one client id throw each
                # other off the broker, several times a second)
                task.cancel()
                stopper.cancel()
                await asyncio.gather(task, stopper, return_exceptions=True)
                raise
            if stopper in done:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                return
            stopper.cancel()
            exc = task.exception()
            if exc is not None:
                self.stats.count_error(
                    exc.error_type if isinstance(exc, CollectError) else ErrorType.INTERNAL)
                log.error("%s stopped: %s; restarting in %.0fs", self.instance_id, exc, backoff)
            try:
                await asyncio.wait_for(stop.wait(), timeout=backoff)
                return
            except TimeoutError:
                backoff = min(backoff * 2, self.restart_max_s)
