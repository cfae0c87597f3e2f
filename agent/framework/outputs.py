"""Delivers a push exporter's disk queue: peek, write, acknowledge (delete), repeat.

Typed export errors decide what the queue keeps:
- retryable → keep the batch, back off (capped exponential, jittered; `Retry-After` wins);
  until a write goes through again, each retry offers one queued row, not a full batch;
- permanent → set the batch aside with the server's reason, counted, never retried;
- `PartialExportError` → the server kept the good part: acknowledge, count the rejected part;
- `LinesExportError` → the exporter knows which lines were refused and which are still unsent:
  refused lines are set aside, unsent lines stay at the head of the queue (one transaction).

Store-and-forward order after an outage: live data first, backlog paced. Rows enqueued within
the last `fresh_secs` are "fresh" and are sent as soon as they arrive, unpaced; older rows are
"backlog" and are sent oldest first through a token bucket of `backfill_points_per_sec` (one
second of burst). A pacing wait is cut short when fresh data arrives, so dashboards stay live
while the backfill trickles in without saturating the campus uplink. The store orders points by
their own timestamps, so sending newest-first loses nothing.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

from agent.core.errors import PartialExportError, PermanentExportError, RetryableExportError
from agent.core.lineprotocol import parse
from agent.core.model import ErrorType, Event, Metric
from agent.core.plugin import Batch, BatchKind, PushExporter
from agent.framework.clock import wall_ns
from agent.framework.diskqueue import QueueError, QueueRow
from agent.framework.pacing import AimdPace, CatchUp, is_overload
from agent.framework.pipeline import QueueSink
from config.models import QueueOptions

log = logging.getLogger("campusmon.outputs")
FRESH_SECS = 10.0  # rows younger than this are live data, sent before any backlog
SHRINK_EVERY_SECS = 60.0  # an idle queue is offered `DiskQueue.shrink` at most this often
RETRY_AFTER_MAX_SECS = 600.0  # a Retry-After beyond this is treated as a misconfiguration


class LinesExportError(PartialExportError):
    """The exporter isolated the refused lines of a batch (e.g. by splitting it).

    `rejected_lines` are set aside with the reason; `unsent_lines` were not delivered (the
    server became unavailable mid-way) and are retried, no sooner than `retry_after_s`.
    """

    def __init__(self, message: str, *, accepted: int, rejected_lines: Sequence[str],
                 unsent_lines: Sequence[str] = (), retry_after_s: float | None = None) -> None:
        super().__init__(message, accepted=accepted, rejected=len(rejected_lines))
        self.rejected_lines = list(rejected_lines)
        self.unsent_lines = list(unsent_lines)
        self.retry_after_s = retry_after_s


class CentreUnavailable(RetryableExportError):
    """Retryable, with the cause for the telemetry (`agent_plugin_errors{error_type}`)."""

    def __init__(self, message: str, error_type: ErrorType, *,
                 retry_after_s: float | None = None) -> None:
        super().__init__(message, retry_after_s=retry_after_s)
        self.error_type = error_type


def build_batch(kind: BatchKind, lines: list[str], decode: bool) -> Batch:
    if not decode:
        return Batch(kind, lines)
    if kind is BatchKind.METRICS:
        metrics: list[Metric] = []
        for line in lines:
            try:
                metrics.append(parse(line))
            except ValueError:
                log.warning("skipping unparsable queued line %r", line[:80])
        return Batch(kind, lines, metrics=metrics)
    return Batch(kind, lines, events=[Event.from_json_dict(json.loads(x)) for x in lines])


class Step(enum.Enum):
    EMPTY = "empty"  # nothing queued
    SENT = "sent"  # a batch was acknowledged (maybe in part)
    PACED = "paced"  # backlog waiting for the rate limit
    FAILED = "failed"  # the batch stays queued; the backoff has been waited


@dataclass(slots=True)
class TokenBucket:
    """Points per second with one second of burst."""

    rate: float
    capacity: float
    tokens: float
    stamp: float

    @staticmethod
    def for_rate(rate: float) -> TokenBucket:
        cap = max(rate, 1.0)
        return TokenBucket(rate, cap, cap, time.monotonic())

    def wait_for(self, n: int) -> float:
        """Seconds until `n` points may go (0: now). Oversized batches wait for a full bucket."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        need = min(float(n), self.capacity)
        return 0.0 if self.tokens >= need else (need - self.tokens) / self.rate

    def take(self, n: int) -> None:
        self.tokens -= n  # may go negative: the next wait pays it back


class PushOutput:
    def __init__(self, sink: QueueSink, exporter: PushExporter, options: QueueOptions,
                 decode: bool = False, *, in_order: bool = False,
                 flush_interval_s: float = 0.0) -> None:
        """`decode`, `in_order` and `flush_interval_s` come from what the exporter's spec
        declares (`Capability.DECODED_BATCHES`, `IN_ORDER`, `OWN_FLUSH`)."""
        self.sink = sink
        self.exporter = exporter
        self.options = options
        self.decode = decode  # exporters that need Metric/Event objects, not lines
        # an exporter whose receiver needs each source's order (a log relay): its queue goes
        # oldest first, never the live tail before the backlog
        self.fresh_secs = 0.0 if in_order else FRESH_SECS
        self._backoff = options.retry_initial_secs
        rate = options.backfill_points_per_sec
        self._bucket = TokenBucket.for_rate(rate) if rate else None
        # the backfill rate adapts to the centre's answers (AIMD, pacing.py)
        self.pace = AimdPace(rate)
        self.catch_up = CatchUp()  # agent_queue.catch_up_seconds
        self._stop: asyncio.Event | None = None
        # an exporter may ask for batches to grow on a slow uplink: a batch that is not full
        # waits until this long after the previous send
        self.flush_interval_s = flush_interval_s
        self._last_send = 0.0
        self.progress = time.monotonic()  # last completed step, for the watchdog
        self._next_shrink = 0.0
        # The last attempt found the centre unavailable: retries offer one queued row, not a
        # full batch, until one goes through. Decoding, rendering and posting a full batch
        # every retry while the centre is dead grew a fresh agent's RSS by ~60 MB in the
        # 30 s after its queue quota was reached (the worker threads' malloc arenas grew;
        # live Python memory did not); one row per retry keeps it flat.
        self._probing = False

    # ------------------------------------------------------------------ choosing a batch
    def _pick(self) -> tuple[list[QueueRow], bool]:
        """(rows, is_backlog): the live tail first, else the oldest backlog."""
        q, limit = self.sink.queue, self.options.batch_max_points
        if self._probing:
            limit = 1  # a peek serves at least one row
        cutoff = wall_ns() - int(self.fresh_secs * 1e9)  # the clock the rows were stamped by
        rows = q.peek_fresh(cutoff, limit)
        if rows:
            return rows, False
        if self._bucket is not None:
            # backlog in chunks of about one second of the allowed rate, so pacing is smooth
            limit = max(1, min(limit, int(self._bucket.rate)))
        rows = q.peek(limit)
        return rows, bool(rows)

    # ------------------------------------------------------------------ one step
    async def step(self) -> tuple[Step, int]:
        rows, backlog = await asyncio.to_thread(self._pick)
        if not rows:
            return Step.EMPTY, 0
        n = sum(r.items for r in rows)
        linger = self._last_send + self.flush_interval_s - time.monotonic()
        if linger > 0 and n < self.options.batch_max_points and not self._probing:
            await self._pause(linger, wake_on_data=False)
            return Step.PACED, 0
        if backlog and self.pace.rate is not None:
            if self._bucket is None:
                self._bucket = TokenBucket.for_rate(self.pace.rate)
            self._bucket.rate = self.pace.rate
            self._bucket.capacity = max(self.pace.rate, 1.0)
        if backlog and self._bucket is not None:
            wait = self._bucket.wait_for(n)
            if wait > 0:
                await self._pause(wait, wake_on_data=True)
                return Step.PACED, 0
            self._bucket.take(n)
        self._last_send = time.monotonic()
        try:
            sent = await self._send(rows)
        except QueueError as exc:  # delivered, but the disk would not record it: sent again
            self.sink.stats.count_error(ErrorType.INTERNAL)
            await self._retry_wait(None, f"queue: {exc}")
            return Step.FAILED, 0
        if backlog and sent > 0:
            self.pace.on_delivered(sent)
        return (Step.SENT, sent) if sent >= 0 else (Step.FAILED, 0)

    async def deliver_once(self) -> int:
        """Send one batch; returns items acknowledged (0 when empty, paced or failed)."""
        _, sent = await self.step()
        return sent

    async def _send(self, rows: list[QueueRow]) -> int:
        """Write one batch; returns items acknowledged, or -1 when it stays queued."""
        q, st, inst = self.sink.queue, self.sink.stats, self.sink.instance_id
        lines = [line for r in rows for line in r.lines]
        ids = [r.id for r in rows]
        batch = build_batch(rows[0].kind, lines, self.decode)
        try:
            await self.exporter.write(batch)
        except RetryableExportError as exc:
            self._probing = True
            st.count_error(exc.error_type if isinstance(exc, CentreUnavailable)
                           else ErrorType.UNREACHABLE)
            if is_overload(exc):
                self.pace.on_overload()
            await self._retry_wait(exc.retry_after_s, str(exc))
            return -1
        except PermanentExportError as exc:
            self._probing = False  # the centre answered
            st.count_error(ErrorType.PROTOCOL)
            moved = await asyncio.to_thread(q.set_aside, ids, str(exc))
            st.dropped += moved
            log.error("%s: batch of %d refused for good, set aside: %s", inst, moved, exc)
            return 0
        except LinesExportError as exc:
            self._probing = bool(exc.unsent_lines)
            st.count_error(ErrorType.PROTOCOL)
            await asyncio.to_thread(q.settle, ids, keep=exc.unsent_lines,
                                    rejected=exc.rejected_lines, reason=str(exc))
            st.dropped += exc.rejected
            st.sent += exc.accepted
            if exc.rejected:
                log.error("%s: %d of %d lines refused, set aside: %s", inst, exc.rejected,
                          len(lines), exc)
            if exc.unsent_lines:
                if exc.retry_after_s is not None:
                    self.pace.on_overload()
                await self._retry_wait(exc.retry_after_s, f"{len(exc.unsent_lines)} unsent")
            else:
                self._backoff = self.options.retry_initial_secs
            return exc.accepted
        except PartialExportError as exc:
            self._probing = False
            st.count_error(ErrorType.PROTOCOL)
            st.dropped += exc.rejected
            log.error("%s: %d of %d items rejected: %s", inst, exc.rejected,
                      exc.rejected + exc.accepted, exc)
            await asyncio.to_thread(q.ack, ids)
            st.sent += exc.accepted
            return exc.accepted
        except Exception as exc:  # an exporter bug must not lose the batch
            st.count_error(ErrorType.INTERNAL)
            log.exception("%s: exporter failed: %s", inst, exc)
            await self._retry_wait(None, "exporter bug")
            return -1
        self._probing = False
        await asyncio.to_thread(q.ack, ids)
        st.sent += len(lines)
        self._backoff = self.options.retry_initial_secs
        return len(lines)

    async def _retry_wait(self, retry_after_s: float | None, why: str) -> None:
        # full jitter around the capped exponential step, so campuses that lost the same
        # centre do not come back in lockstep; the server's Retry-After is a floor
        wait = self._backoff * random.uniform(0.5, 1.0)
        if retry_after_s is not None:  # the server knows its load better than our cap does
            wait = max(wait, min(retry_after_s, RETRY_AFTER_MAX_SECS))
        self._backoff = min(self._backoff * 2, self.options.retry_max_secs)
        log.warning("%s: %s; retrying in %.1fs", self.sink.instance_id, why, wait)
        await self._pause(wait, wake_on_data=False)

    async def _pause(self, secs: float, *, wake_on_data: bool) -> None:
        """Sleep, cut short by stop (always) and by newly flushed data (if asked)."""
        waits = []
        if self._stop is not None:
            waits.append(asyncio.create_task(self._stop.wait()))
        if wake_on_data:
            self.sink.notify.clear()
            waits.append(asyncio.create_task(self.sink.notify.wait()))
        if not waits:
            await asyncio.sleep(secs)
            return
        try:
            await asyncio.wait(waits, timeout=secs, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in waits:
                t.cancel()

    # ------------------------------------------------------------------ loops
    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop
        try:
            while not stop.is_set():
                result, _ = await self.step()
                self.progress = time.monotonic()
                if result is not Step.EMPTY:
                    continue  # failures and pacing already waited
                self.sink.notify.clear()
                if (await asyncio.to_thread(self.sink.queue.stats)).rows:
                    continue
                if time.monotonic() >= self._next_shrink:  # caught up: give back the disk
                    self._next_shrink = time.monotonic() + SHRINK_EVERY_SECS
                    await asyncio.to_thread(self.sink.queue.shrink)
                await self._pause(5.0, wake_on_data=True)
                self.progress = time.monotonic()
        finally:
            self._stop = None

    async def drain(self, deadline: float) -> None:
        """On shutdown: deliver what is queued until empty or the deadline (monotonic)."""
        while time.monotonic() < deadline:
            remaining = deadline - time.monotonic()
            try:
                result, _ = await asyncio.wait_for(self.step(), timeout=max(0.05, remaining))
            except TimeoutError:
                return
            if result in (Step.EMPTY, Step.FAILED):
                return  # empty, or the centre is not taking data now: the disk queue keeps it


__all__ = [
    "FRESH_SECS", "CentreUnavailable", "LinesExportError", "PushOutput", "Step", "build_batch",
]
