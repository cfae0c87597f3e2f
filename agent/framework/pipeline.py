"""Enrich, process and fan out what the plugins produce.

submit() runs on the event loop and is cheap: ProbeResults become metrics, inventory tags are
added, processors run, the snapshot is updated and the items are buffered. flush() writes the
buffer to every push output's disk queue and to the local store, off the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from agent.core.catalogue import CatalogueError
from agent.core.lineprotocol import render, render_many
from agent.core.model import ErrorType, Event, Item, Metric, ProbeResult, make_metric
from agent.core.plugin import BatchKind, Processor, Target
from agent.framework.contract import DeclarationCheck
from agent.framework.diskqueue import DiskQueue, QueueError
from agent.framework.localstore import LocalStore
from agent.framework.pointcheck import event_problem, metric_problem, values_ok
from agent.framework.rejects import Rejections
from agent.framework.scheduler import PollOutcome
from agent.framework.snapshot import Snapshot
from agent.framework.telemetry import PluginStats

log = logging.getLogger("campusmon.pipeline")

_Shape = tuple[str, tuple[str, ...], tuple[str, ...]]
_KNOWN_MAX = 10_000  # shapes per source plugin


@dataclass(slots=True)
class QueueSink:
    """A push output's disk queue and the kinds of batch its exporter accepts."""

    instance_id: str
    queue: DiskQueue
    accepts: frozenset[BatchKind]
    stats: PluginStats
    notify: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(slots=True)
class NamedProcessor:
    instance_id: str
    processor: Processor
    stats: PluginStats
    # what the processor declared it writes (the items it adds are checked against it)
    check: DeclarationCheck | None = None


def event_as_metric(e: Event) -> Metric:
    """Events also land in the local store (`campusmon query --measurement event`)."""
    tags = {**e.labels, "key": e.key, "event_kind": e.kind, "state": e.state.value,
            "severity": e.severity.value}
    if e.device:
        tags["device"] = e.device
    return Metric("event", tags, {"summary": e.summary}, e.ts_ns)


class Pipeline:
    def __init__(
        self,
        *,
        base_tags: Mapping[str, str],
        processors: Sequence[NamedProcessor] = (),
        queues: Sequence[QueueSink] = (),
        local_store: LocalStore | None = None,
        snapshot: Snapshot | None = None,
        on_flush: Callable[[list[Metric], list[Event]], None] | None = None,
        rejections: Rejections | None = None,
        checks: Mapping[str, DeclarationCheck] | None = None,
    ) -> None:
        self.base_tags = dict(base_tags)
        self.processors = list(processors)
        self.queues = list(queues)
        self.local_store = local_store
        self.snapshot = snapshot
        self.on_flush = on_flush
        self.rejections = rejections or Rejections()
        # each source plugin's declarations (agent/framework/contract.py), by plugin name;
        # "agent" = the framework's own items. No entry: not checked (tests, tools)
        self.checks = dict(checks or {})
        self._failures_logged: set[str] = set()  # causes of write failures, logged once each
        # (id(target), id(instance tags)) → (target, instance tags, merged tags): `_tags_for`
        self._tags: dict[tuple[int, int], tuple[Target | None, Mapping[str, str] | None,
                                                 dict[str, str]]] = {}
        # per source plugin: (its check, shapes known good): `submit`
        self._known: dict[str, tuple[DeclarationCheck | None, set[_Shape]]] = {}
        self._metrics: list[Metric] = []
        self._events: list[Event] = []
        self._flush_lock = asyncio.Lock()

    def submit(
        self,
        items: Sequence[Item],
        target: Target | None = None,
        outcome: PollOutcome | None = None,
        instance_tags: Mapping[str, str] | None = None,
        source: tuple[str, str] = ("agent", "agent"),
    ) -> None:
        """`source` is (plugin, instance) of the items, for counting what is set aside."""
        tags = self._tags_for(target, instance_tags)
        out: list[Item] = []
        device = target.id if target is not None else None
        problem: tuple[str, str] | None
        check = self.checks.get(source[0])
        # shapes (name, tag keys, field keys) of this source that passed the gate and the
        # catalogue check: a point of such a shape needs only its values looked at
        # (`values_ok`); the checks' verdict on a shape never changes
        known = self._known.get(source[0])
        if known is None or known[0] is not check:
            known = self._known[source[0]] = (check, set())
        good = known[1]
        n_events = 0
        # a batch is one device's: its points mostly carry equal tags of their own, so their
        # merged tags are one dict, shared (read only, as `_tags_for`'s): `with_tags` per point
        # built an equal dict each time
        last_tags: object = None
        last_keys: tuple[str, ...] = ()
        merged: Mapping[str, str] = tags
        # the previous point of this batch that passed: (name, tag keys, fields). A point with
        # the same name, tag keys and set of field keys has a known shape (both checks judge
        # keys as a set) without building and hashing the shape
        prev: tuple[str, tuple[str, ...], Mapping[str, object]] | None = None
        for it in items:
            # one unusable item is set aside here, at the gate, and counted; the rest flows
            try:
                # the common case first: no ABC, no isinstance chain; a name that is not a
                # plain str (maybe unhashable) goes the plain way, to be judged bad_name
                if type(it) is Metric and type(it.name) is str:
                    tkeys = tuple(it.tags)
                    if prev is not None and it.name == prev[0] and tkeys == prev[1] \
                            and it.fields.keys() == prev[2].keys():
                        shape = None
                        is_known = True
                    else:
                        shape = (it.name, tkeys, tuple(it.fields))
                        is_known = shape in good
                    if is_known and values_ok(it):
                        prev = (it.name, tkeys, it.fields)
                        if not tags:
                            out.append(it)  # as `with_tags` of nothing
                            continue
                        mine = it.tags
                        # equal and in the same order: the dict `with_tags` would build
                        if mine is not last_tags and (mine != last_tags or tkeys != last_keys):
                            last_tags, last_keys, merged = mine, tkeys, {**tags, **mine}
                        out.append(make_metric(it.name, merged, it.fields, it.ts_ns, it.kind))
                        continue
                    if shape is None:
                        shape = (it.name, tkeys, tuple(it.fields))
                    problem = metric_problem(it)
                    if problem is None and check is not None:
                        problem = check.problem(it)  # undeclared: set aside (strict: raises)
                    if problem is None:
                        if len(good) >= _KNOWN_MAX:  # open tag sets could grow it
                            good.clear()
                        good.add(shape)
                        prev = (it.name, tkeys, it.fields)
                        out.append(it.with_tags(tags))
                else:
                    if isinstance(it, ProbeResult):
                        it = it.to_metric()
                    if isinstance(it, Metric):
                        problem = metric_problem(it)
                        if problem is None and check is not None:
                            problem = check.problem(it)
                        if problem is None:
                            out.append(it.with_tags(tags))
                    elif isinstance(it, Event):
                        problem = event_problem(it)
                        if problem is None:
                            n_events += 1
                            out.append(it.with_labels(
                                {k: v for k, v in tags.items() if k != "device"}))
                    else:
                        problem = ("bad_type", f"item of type {type(it).__name__}")
            except CatalogueError:
                raise  # strict mode (tests): a plugin writing what it did not declare fails
            except Exception as exc:  # a hostile value breaking even the check
                problem = ("bad_item", f"{type(exc).__name__}")
            if problem is not None:
                self.rejections.reject(source[0], source[1], problem[0], device, problem[1])
        if outcome is not None:
            fields: dict[str, int | float | bool | str] = {
                "up": 1 if outcome.ok else 0, "duration_seconds": outcome.duration_s}
            ptags = dict(tags)
            if outcome.error is not None:
                ptags["error_type"] = outcome.error.value
            out.append(Metric("agent_poll", ptags, fields, outcome.started_ns))
        for p in self.processors:
            before = {id(x) for x in out} if p.check is not None else None
            try:
                processed = list(p.processor.process(out))
            except Exception:
                p.stats.count_error(ErrorType.INTERNAL)
                log.exception("processor %s failed; items passed through", p.instance_id)
                continue
            if before is not None:
                processed = [x for x in processed if id(x) in before
                             or not isinstance(x, Metric) or self._declared(p, x)]
            out = processed
        events: list[Event]
        if not self.processors and n_events == 0:
            metrics = cast(list[Metric], out)  # only Metrics went in (no processor ran)
            events = []
        else:
            metrics = [i for i in out if isinstance(i, Metric)]
            events = [i for i in out if isinstance(i, Event)]
        if self.snapshot is not None and metrics:
            try:
                self.snapshot.update(metrics)
            except Exception:
                self._log_once("snapshot", "snapshot update failed; the points still flow")
        self._metrics.extend(metrics)
        self._events.extend(events)

    def _tags_for(self, target: Target | None,
                  instance_tags: Mapping[str, str] | None) -> dict[str, str]:
        """Base, instance and target tags merged, once per (target, instance tags) object:
        at campus rates every message or poll is its own submit, and rebuilding the device's
        tags each time was ~1/5 of it. Targets and devices are frozen, and a changed
        inventory brings new objects, so identity is the key. The dict is shared: read only
        (`with_tags` and the rest copy it)."""
        key = (id(target), id(instance_tags))
        hit = self._tags.get(key)
        if hit is not None and hit[0] is target and hit[1] is instance_tags:
            return hit[2]
        tags = dict(self.base_tags)
        if instance_tags:
            tags.update(instance_tags)
        if target is not None:
            tags.update(target.tags())
        if len(self._tags) >= 100_000:  # targets replaced over a long life: start over
            self._tags.clear()
        self._tags[key] = (target, instance_tags, tags)
        return tags

    def _declared(self, p: NamedProcessor, m: Metric) -> bool:
        """A metric a processor added keeps its declarations (strict: raises)."""
        assert p.check is not None
        problem = p.check.problem(m)
        if problem is None:
            return True
        self.rejections.reject(p.stats.plugin, p.instance_id, problem[0], m.tags.get("device"),
                               problem[1])
        return False

    def pending(self) -> int:
        return len(self._metrics) + len(self._events)

    async def flush(self) -> None:
        async with self._flush_lock:
            metrics, self._metrics = self._metrics, []
            events, self._events = self._events, []
            if not metrics and not events:
                return
            await asyncio.to_thread(self._write, metrics, events)
            for q in self.queues:
                q.notify.set()
            if self.on_flush is not None:
                try:
                    self.on_flush(metrics, events)
                except Exception:
                    self._log_once("on_flush", "flush callback failed")

    def _log_once(self, cause: str, message: str) -> None:
        """Log a failure with its traceback the first time its cause is seen."""
        if cause in self._failures_logged:
            log.debug("%s (again)", message, exc_info=True)
            return
        if len(self._failures_logged) < 1000:
            self._failures_logged.add(cause)
        log.exception("%s (logged once per cause)", message)

    def _render(self, metrics: list[Metric]) -> list[str]:
        try:
            return render_many(metrics)
        except Exception:  # find the culprits one by one; the others still go out
            lines = []
            for m in metrics:
                try:
                    line = render(m)
                except Exception as exc:
                    self.rejections.reject("agent", "pipeline", "render_error",
                                           m.tags.get("device"), f"{m.name}: {type(exc).__name__}")
                    continue
                if line:
                    lines.append(line)
            return lines

    def _events_json(self, events: list[Event]) -> list[str]:
        out = []
        for e in events:
            try:
                out.append(json.dumps(e.to_json_dict(), ensure_ascii=False))
            except Exception as exc:
                self.rejections.reject("agent", "pipeline", "render_error", e.device,
                                       f"event {e.kind}: {type(exc).__name__}")
        return out

    def _queue_metrics(self, q: QueueSink, metrics: list[Metric],
                       rendered: list[list[str]]) -> tuple[int, int]:
        """(items, dropped): the queue encodes the Metric objects itself (no line protocol in
        between); if that fails on an odd point, the rendered lines (culprits set aside by
        `_render`) are queued instead, rendered once for all queues."""
        try:
            return q.queue.put_metrics(BatchKind.METRICS, metrics)
        except (QueueError, sqlite3.Error):
            raise  # the disk, not the points: the caller counts the drop
        except Exception:
            if not rendered:
                rendered.append(self._render(metrics))
            return len(rendered[0]), q.queue.put(BatchKind.METRICS, rendered[0])

    def _write(self, metrics: list[Metric], events: list[Event]) -> None:
        """Every sink on its own: one that fails (a broken disk, a bug) never stops another."""
        rendered: list[list[str]] = []
        event_lines = self._events_json(events)
        for q in self.queues:
            for kind, payload in ((BatchKind.METRICS, metrics), (BatchKind.EVENTS, event_lines)):
                if not payload or kind not in q.accepts:
                    continue
                try:
                    if kind is BatchKind.METRICS:
                        items, dropped = self._queue_metrics(q, metrics, rendered)
                    else:
                        items, dropped = len(payload), q.queue.put(kind, event_lines)
                    q.stats.received += items
                except Exception as exc:
                    q.stats.received += len(payload)
                    q.stats.dropped += len(payload)
                    q.stats.count_error(ErrorType.INTERNAL)
                    self._log_once(f"queue {q.instance_id} {type(exc).__name__}",
                                   f"{q.instance_id}: disk queue write of {len(payload)} "
                                   "items failed, dropped")
                    continue
                if dropped:
                    q.stats.dropped += dropped
                    log.warning("%s: disk queue full, dropped %d oldest items",
                                q.instance_id, dropped)
        if self.local_store is not None:
            try:
                self.local_store.write([*metrics, *(event_as_metric(e) for e in events)])
            except sqlite3.Error as exc:  # a full or broken disk: the queues still got the data
                log.error("local store %s: write of %d points failed: %s",
                          self.local_store.path, len(metrics) + len(events), exc)
            except Exception as exc:
                self._log_once(f"store {type(exc).__name__}",
                               f"local store {self.local_store.path}: write of "
                               f"{len(metrics) + len(events)} points failed")

