"""Delivers a push exporter's disk queue: peek, write, acknowledge (delete), repeat.

Typed export errors decide what the queue keeps: retryable → keep and back off (capped,
jittered); permanent → set the batch aside with the server's reason, never retry forever;
partial → acknowledge, count the rejected part. Backfill (items older than a few flushes) can
be paced by `backfill_points_per_sec` so it does not saturate the campus uplink.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time

from agent.errors import PartialExportError, PermanentExportError, RetryableExportError
from agent.lineprotocol import parse
from agent.model import ErrorType, Event, Metric
from agent.pipeline import QueueSink
from agent.plugin import Batch, BatchKind, PushExporter
from config.models import QueueOptions

log = logging.getLogger("campusmon.outputs")
_BACKFILL_AGE_NS = 10 * 10**9


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


class PushOutput:
    def __init__(self, sink: QueueSink, exporter: PushExporter, options: QueueOptions,
                 decode: bool = False) -> None:
        self.sink = sink
        self.exporter = exporter
        self.options = options
        self.decode = decode  # exporters that need Metric/Event objects, not lines
        self._backoff = options.retry_initial_secs

    async def deliver_once(self) -> int:
        """Send one batch; returns items acknowledged (0 when empty or failed)."""
        q, st = self.sink.queue, self.sink.stats
        rows = await asyncio.to_thread(q.peek, self.options.batch_max_points)
        if not rows:
            return 0
        lines = [line for r in rows for line in r.lines]
        ids = [r.id for r in rows]
        batch = build_batch(rows[0].kind, lines, self.decode)
        try:
            await self.exporter.write(batch)
        except RetryableExportError as exc:
            st.count_error(ErrorType.UNREACHABLE)
            wait = exc.retry_after_s or self._backoff
            self._backoff = min(self._backoff * 2, self.options.retry_max_secs)
            log.warning("%s: %s; retrying in %.1fs", self.sink.instance_id, exc, wait)
            await asyncio.sleep(wait * random.uniform(0.8, 1.2))
            return 0
        except PermanentExportError as exc:
            st.count_error(ErrorType.PROTOCOL)
            moved = await asyncio.to_thread(q.set_aside, ids, str(exc))
            st.dropped += moved
            log.error("%s: batch of %d refused for good, set aside: %s",
                      self.sink.instance_id, moved, exc)
            return 0
        except PartialExportError as exc:
            st.count_error(ErrorType.PROTOCOL)
            st.dropped += exc.rejected
            log.error("%s: %d of %d items rejected: %s", self.sink.instance_id,
                      exc.rejected, exc.rejected + exc.accepted, exc)
            await asyncio.to_thread(q.ack, ids)
            st.sent += exc.accepted
            return exc.accepted
        except Exception as exc:  # an exporter bug must not lose the batch
            st.count_error(ErrorType.INTERNAL)
            log.exception("%s: exporter failed: %s", self.sink.instance_id, exc)
            await asyncio.sleep(self._backoff)
            self._backoff = min(self._backoff * 2, self.options.retry_max_secs)
            return 0
        await asyncio.to_thread(q.ack, ids)
        st.sent += len(lines)
        self._backoff = self.options.retry_initial_secs
        rate = self.options.backfill_points_per_sec
        if rate and time.time_ns() - rows[0].enqueued_ns > _BACKFILL_AGE_NS:
            await asyncio.sleep(len(lines) / rate)
        return len(lines)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            sent = await self.deliver_once()
            if sent:
                continue
            self.sink.notify.clear()
            if (await asyncio.to_thread(self.sink.queue.stats)).rows:
                continue  # a failed attempt already waited its backoff
            waiter = asyncio.create_task(self.sink.notify.wait())
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait({waiter, stopper}, timeout=5.0,
                               return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            stopper.cancel()

    async def drain(self, deadline: float) -> None:
        """On shutdown: deliver what is queued until empty or the deadline (monotonic)."""
        while time.monotonic() < deadline:
            remaining = deadline - time.monotonic()
            try:
                sent = await asyncio.wait_for(self.deliver_once(), timeout=max(0.05, remaining))
            except TimeoutError:
                return
            if not sent and not (await asyncio.to_thread(self.sink.queue.stats)).rows:
                return
            if not sent:
                return  # the centre is not taking data now; the disk queue keeps it
