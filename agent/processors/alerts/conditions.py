"""Condition evaluators: what each rule has seen, and which of its subjects are active now.

An evaluator `observe`s items as they pass and answers `active(now)` with the subjects whose
condition holds. Times are arrival times from the processor's clock, not device timestamps:
a device with a wrong clock must not make its series look fresh or stale.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from agent.core.model import Event, EventState, FieldValue, Item, Metric, Tags
from agent.processors.alerts.rules import (
    OPS,
    AbsentCondition,
    CredentialCheck,
    CredentialCondition,
    EventCondition,
    RatioCondition,
    Rule,
    SeriesFilter,
    ThresholdCondition,
)
from config.credentials import Credential, SnmpV2cCredential, SnmpV3Credential
from inventory.models import Inventory

Subject = tuple[str, ...]
# enrichment tags that are fixed for a device, so they may label an alert
STATIC_TAGS = ("campus", "building", "room", "device", "kind", "vendor", "target")
_NS = 10**9


@dataclass(frozen=True, slots=True)
class EvalContext:
    inventory: Inventory
    credentials: Mapping[str, Credential]
    # (device, ifname) → does a topology link run over this port? (from alerts.topology)
    link_port: Callable[[str, str], bool] | None = None


@dataclass(slots=True)
class Observation:
    """One active subject: its identifying labels, its device and the summary's values."""

    labels: dict[str, str]
    device: str | None
    values: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Changes:
    """What an evaluator learnt since it was last asked. Kept incremental on purpose: the
    processor runs for every target's poll, so rescanning every series each time would cost
    O(devices²) per tick on a large campus."""

    up: dict[Subject, Observation] = field(default_factory=dict)  # newly active
    refreshed: dict[Subject, Observation] = field(default_factory=dict)  # still active
    down: set[Subject] = field(default_factory=set)  # evaluated inactive (maybe already)


@dataclass(frozen=True, slots=True)
class Interest:
    """Which items an evaluator wants, so the processor routes each item only to those."""

    names: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    events: bool = False


class Evaluator(Protocol):
    interest: Interest

    def observe(self, item: Item, now_ns: int) -> None: ...
    def changes(self, now_ns: int) -> Changes: ...


def metric_interest(metric: str) -> Interest:
    if metric.endswith("*"):
        return Interest(prefixes=(metric[:-1],))
    return Interest(names=frozenset({metric}))


class _Tracker:
    """The set of active subjects, and the changes to report. `_sweep` runs the time-based
    part (staleness, absence, auto-resolve) at most every `_sweep_every_ns`."""

    _sweep_every_ns = 5 * 10**9

    def __init__(self) -> None:
        self._active: dict[Subject, Observation] = {}
        self._pending = Changes()
        self._next_sweep = 0

    def _set(self, subject: Subject, obs: Observation | None) -> None:
        ch = self._pending
        if obs is None:
            self._active.pop(subject, None)
            ch.up.pop(subject, None)
            ch.refreshed.pop(subject, None)
            ch.down.add(subject)
            return
        ch.down.discard(subject)
        if subject in self._active and subject not in ch.up:
            ch.refreshed[subject] = obs
        else:
            ch.up[subject] = obs
        self._active[subject] = obs

    def _sweep(self, now_ns: int) -> None:
        """Time-based changes; evaluators with any override it."""

    def changes(self, now_ns: int) -> Changes:
        if now_ns >= self._next_sweep:
            self._next_sweep = now_ns + self._sweep_every_ns
            self._sweep(now_ns)
        out, self._pending = self._pending, Changes()
        return out


def fmt(v: FieldValue) -> str:
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else f"{v:.2f}".rstrip("0").rstrip(".")
    return str(v)


def numeric(v: FieldValue | None) -> float | None:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, int | float):
        return float(v)
    return None


def tag_of(tags: Mapping[str, str], name: str) -> str | None:
    # a static target has no `device` tag; its `target` id stands in for it
    if name == "device":
        return tags.get("device") or tags.get("target")
    return tags.get(name)


def subject_of(tags: Mapping[str, str], by: list[str]) -> Subject | None:
    values = []
    for name in by:
        v = tag_of(tags, name)
        if v is None:
            if name == "device":
                return None  # a device rule cannot place a sample with no device
            v = ""
        values.append(v)
    return tuple(values)


def base_observation(tags: Mapping[str, str], by: list[str], subject: Subject) -> Observation:
    labels = {k: tags[k] for k in STATIC_TAGS if k in tags}
    for name, v in zip(by, subject, strict=True):
        if v:
            labels[name] = v
    device = labels.get("device")
    values = dict(tags)
    values.update(zip(by, subject, strict=True))  # an absent `by` tag renders empty
    values.update(labels)
    return Observation(labels, device, values)


class _FilterMixin:
    cond: SeriesFilter
    ctx: EvalContext
    _regex: dict[str, re.Pattern[str]]

    def _init_filter(self, cond: SeriesFilter, ctx: EvalContext) -> None:
        self.cond, self.ctx = cond, ctx
        self.interest = metric_interest(cond.metric)
        self._regex = {k: re.compile(p) for k, p in cond.tags_regex.items()}

    def _wanted(self, m: Metric) -> bool:
        want = self.cond.metric
        if not (m.name == want or (want.endswith("*") and m.name.startswith(want[:-1]))):
            return False
        for k, v in self.cond.tags.items():
            if m.tags.get(k) != v:
                return False
        for k, rx in self._regex.items():
            val = m.tags.get(k)
            if val is None or rx.fullmatch(val) is None:
                return False
        if self.cond.device is not None:
            dev_id = m.tags.get("device")
            dev = self.ctx.inventory.device(dev_id) if dev_id else None
            if not self.cond.device.matches(dev):
                return False
        return True

    def _series_id(self, m: Metric) -> SeriesId:
        return tuple(sorted((k, v) for k, v in m.tags.items()
                            if k not in self.cond.ignore_tags))


SeriesId = tuple[tuple[str, str], ...]


@dataclass(slots=True)
class _Series:
    subject: Subject
    truth: bool
    metric: Metric  # the observation is built from it only when needed (most samples are fine)
    observed: float
    seen_ns: int


def _field_truth(m: Metric, fields: list[str], op: str, value: float) -> tuple[bool, float] | None:
    """(holds, observed) over the listed fields present; None when none is present."""
    test = OPS[op]
    found: tuple[bool, float] | None = None
    for f in fields:
        v = numeric(m.fields.get(f))
        if v is None:
            continue
        if test(v, value):
            return True, v
        if found is None:
            found = (False, v)
    return found


class _SeriesGroups(_FilterMixin, _Tracker):
    """Series grouped by subject; a subject's verdict is recomputed when one of its series
    changes or goes stale."""

    def __init__(self, cond: SeriesFilter, ctx: EvalContext, stale_secs: float) -> None:
        _Tracker.__init__(self)
        self._init_filter(cond, ctx)
        self._stale_ns = int(stale_secs * _NS)
        self._sweep_every_ns = min(self._sweep_every_ns, max(self._stale_ns // 10, 1))
        self._series: dict[SeriesId, _Series] = {}
        self._by_subject: dict[Subject, set[SeriesId]] = {}

    def _verdict(self, series: list[_Series]) -> Observation | None:
        raise NotImplementedError

    def _store(self, sid: SeriesId, s: _Series) -> None:
        self._series[sid] = s
        self._by_subject.setdefault(s.subject, set()).add(sid)
        self._judge(s.subject)

    def _judge(self, subject: Subject) -> None:
        sids = self._by_subject.get(subject, set())
        series = [self._series[x] for x in sids]
        self._set(subject, self._verdict(series) if series else None)
        if not series:
            self._by_subject.pop(subject, None)

    def _sweep(self, now_ns: int) -> None:
        horizon = now_ns - self._stale_ns
        touched = set()
        for sid in [sid for sid, v in self._series.items() if v.seen_ns < horizon]:
            subject = self._series.pop(sid).subject
            self._by_subject.get(subject, set()).discard(sid)
            touched.add(subject)
        for subject in touched:
            self._judge(subject)


class ThresholdEval(_SeriesGroups):
    def __init__(self, cond: ThresholdCondition, ctx: EvalContext) -> None:
        super().__init__(cond, ctx, cond.stale_secs)
        self.tcond = cond
        self._alias_rx = re.compile(cond.link_alias_regex)

    def observe(self, item: Item, now_ns: int) -> None:
        if not isinstance(item, Metric) or not self._wanted(item):
            return
        c = self.tcond
        if item.tags.get("error_type") in c.hold_on_errors:
            return
        if c.interfaces == "links" and not self._is_link(item):
            return
        res = _field_truth(item, c.fields, c.op, c.value)
        subject = subject_of(item.tags, c.by)
        if res is None or subject is None:
            return
        truth, observed = res
        for f, want in c.require.items():
            if numeric(item.fields.get(f)) != want:
                truth = False
        self._store(self._series_id(item), _Series(subject, truth, item, observed, now_ns))

    def _is_link(self, m: Metric) -> bool:
        ifname, device = m.tags.get("ifname", ""), m.tags.get("device", "")
        if self._alias_rx.fullmatch(m.tags.get("ifalias", "")):
            return True
        return self.ctx.link_port is not None and self.ctx.link_port(device, ifname)

    def _verdict(self, series: list[_Series]) -> Observation | None:
        if self.tcond.reduce == "all":
            hit = all(s.truth for s in series)
        else:
            hit = any(s.truth for s in series)
        if not hit:
            return None
        win = next(s for s in series if s.truth)
        obs = base_observation(win.metric.tags, self.tcond.by, win.subject)
        obs.values.update({k: fmt(v) for k, v in win.metric.fields.items()})
        obs.values["observed"] = fmt(win.observed)
        obs.values["observed_days"] = f"{win.observed / 86400:.1f}"
        return obs


class RatioEval(_SeriesGroups):
    def __init__(self, cond: RatioCondition, ctx: EvalContext) -> None:
        super().__init__(cond, ctx, cond.stale_secs)
        self.rcond = cond

    def observe(self, item: Item, now_ns: int) -> None:
        if not isinstance(item, Metric) or not self._wanted(item):
            return
        c = self.rcond
        res = _field_truth(item, [c.field], c.op, c.value)
        subject = subject_of(item.tags, c.by)
        if res is None or subject is None:
            return
        self._store(self._series_id(item), _Series(subject, res[0], item, res[1], now_ns))

    def _verdict(self, series: list[_Series]) -> Observation | None:
        count = sum(1 for s in series if s.truth)
        total = len(series)
        if count < self.rcond.min_count or count / total < self.rcond.min_ratio:
            return None
        first = series[0]
        labels = {k: first.metric.tags[k] for k in ("campus",) if k in first.metric.tags}
        labels.update({n: v for n, v in zip(self.rcond.by, first.subject, strict=True) if v})
        return Observation(labels, None, {
            **labels, "count": str(count), "total": str(total),
            "percent": str(round(100 * count / total))})


class AbsentEval(_FilterMixin, _Tracker):
    def __init__(self, cond: AbsentCondition, ctx: EvalContext) -> None:
        _Tracker.__init__(self)
        self._init_filter(cond, ctx)
        self.acond = cond
        self._sweep_every_ns = min(self._sweep_every_ns, int(cond.absent_secs * _NS) // 10)
        self._seen: dict[Subject, tuple[int, Tags]] = {}

    def observe(self, item: Item, now_ns: int) -> None:
        if not isinstance(item, Metric) or not self._wanted(item):
            return
        subject = subject_of(item.tags, self.acond.by)
        if subject is None:
            return
        self._seen[subject] = (now_ns, item.tags)
        self._set(subject, None)  # it reports: not absent (also ends a reopened alert)

    def _sweep(self, now_ns: int) -> None:
        absent_ns, forget_ns = int(self.acond.absent_secs * _NS), int(self.acond.forget_secs * _NS)
        for subject, (seen, tags) in list(self._seen.items()):
            age = now_ns - seen
            if age > forget_ns:
                del self._seen[subject]
                self._set(subject, None)
            elif age > absent_ns and subject not in self._active:
                obs = base_observation(tags, self.acond.by, subject)
                obs.values["silent_secs"] = str(age // _NS)
                self._set(subject, obs)


class EventEval(_Tracker):
    interest = Interest(events=True)

    def __init__(self, cond: EventCondition, ctx: EvalContext) -> None:
        super().__init__()
        self.cond, self.ctx = cond, ctx
        if cond.auto_resolve_secs is not None:
            self._sweep_every_ns = min(self._sweep_every_ns,
                                       int(cond.auto_resolve_secs * _NS) // 10)
        self._seen: dict[Subject, int] = {}
        self._open = {k: re.compile(v) for k, v in cond.labels.items()}
        self._close = {k: re.compile(v) for k, v in cond.resolve_labels.items()}
        # per subject, arrival times of matching events within the burst window (bounded)
        self._recent: dict[Subject, list[int]] = {}

    @staticmethod
    def _matches(e: Event, rx: dict[str, re.Pattern[str]]) -> bool:
        return all(p.fullmatch(e.labels.get(k, "")) is not None for k, p in rx.items())

    def _on_link(self, e: Event, device: str | None) -> bool:
        dev = self.ctx.inventory.device(device) if device else None
        if dev is not None and dev.roles & set(self.cond.link_roles):
            return True
        ifname = e.labels.get("ifname", "")
        return bool(ifname and device and self.ctx.link_port is not None
                    and self.ctx.link_port(device, ifname))

    def _subject(self, e: Event) -> Subject:
        out = []
        for name in self.cond.by:
            if name == "key":
                out.append(e.key)
            elif name == "device":
                out.append(e.device or e.labels.get("device") or e.labels.get("target", ""))
            elif name == "kind":
                out.append(e.kind)
            else:
                out.append(e.labels.get(name, ""))
        return tuple(out)

    def observe(self, item: Item, now_ns: int) -> None:
        if not isinstance(item, Event):
            return
        c = self.cond
        if item.kind not in c.kinds and item.kind not in c.resolve_kinds:
            return
        device = item.device or item.labels.get("device")
        if c.device is not None:
            dev = self.ctx.inventory.device(device) if device else None
            if not c.device.matches(dev):
                return
        closing = (item.kind in c.resolve_kinds or item.state is EventState.RESOLVED
                   or (bool(self._close) and item.kind in c.kinds
                       and self._matches(item, self._close)))
        if not closing and self._open and not self._matches(item, self._open):
            return
        if c.interfaces == "links" and not self._on_link(item, device):
            return
        subject = self._subject(item)
        if closing:
            self._seen.pop(subject, None)
            self._recent.pop(subject, None)
            self._set(subject, None)
            return
        if c.min_count > 1:
            window = int(c.window_secs * _NS)
            times = [t for t in self._recent.get(subject, ()) if now_ns - t <= window]
            times.append(now_ns)
            self._recent[subject] = times[-c.min_count:]
            if len(times) < c.min_count and subject not in self._active:
                return
        labels = {k: item.labels[k] for k in STATIC_TAGS if k in item.labels}
        if device:
            labels["device"] = device
        for name, v in zip(c.by, subject, strict=True):
            if v and name != "key":
                labels[name] = v
        labels["source_key"] = item.key
        values = {**item.labels, **labels, "summary": item.summary, "event_kind": item.kind}
        self._seen[subject] = now_ns
        self._set(subject, Observation(labels, device, values))

    def _sweep(self, now_ns: int) -> None:
        window = int(self.cond.window_secs * _NS)
        for subject, times in list(self._recent.items()):
            if not times or now_ns - times[-1] > window:
                del self._recent[subject]
        limit = self.cond.auto_resolve_secs
        if limit is None:
            return
        for subject, seen in list(self._seen.items()):
            if now_ns - seen > int(limit * _NS):
                del self._seen[subject]
                self._set(subject, None)


def credential_problem(cred: Credential | None, cond: CredentialCondition) -> str | None:
    if isinstance(cred, SnmpV2cCredential):
        community = cred.community.get_secret_value()
        defaults = {c.lower() for c in cond.default_communities}
        if CredentialCheck.SNMP_DEFAULT_COMMUNITY in cond.checks and community.lower() in defaults:
            return f"SNMP v1/v2c with a default community (credential set '{cred.name}')"
        if CredentialCheck.SNMP_V1_V2C in cond.checks:
            return f"SNMP v1/v2c sends its community in cleartext (credential set '{cred.name}')"
    if isinstance(cred, SnmpV3Credential) and CredentialCheck.SNMPV3_NO_AUTH in cond.checks \
            and cred.auth_protocol is None:
        return f"SNMPv3 without authentication (noAuthNoPriv, credential set '{cred.name}')"
    return None


class CredentialEval(_Tracker):
    def __init__(self, cond: CredentialCondition, ctx: EvalContext) -> None:
        super().__init__()
        self.cond, self.ctx = cond, ctx
        self.interest = Interest(prefixes=(cond.metric_prefix,))
        self._seen: dict[Subject, int] = {}

    def observe(self, item: Item, now_ns: int) -> None:
        if not isinstance(item, Metric) or not item.name.startswith(self.cond.metric_prefix):
            return
        dev_id = item.tags.get("device")
        dev = self.ctx.inventory.device(dev_id) if dev_id else None
        if dev is None or dev.credential is None:
            return
        if self.cond.device is not None and not self.cond.device.matches(dev):
            return
        subject = subject_of(item.tags, self.cond.by)
        if subject is None:
            return
        if subject in self._active and now_ns - self._seen.get(subject, 0) < _NS:
            self._seen[subject] = now_ns  # one poll sends many series: judge it once
            return
        problem = credential_problem(self.ctx.credentials.get(dev.credential), self.cond)
        if problem is None:
            self._seen.pop(subject, None)
            self._set(subject, None)
            return
        obs = base_observation(item.tags, self.cond.by, subject)
        obs.values["problem"] = problem
        obs.values["credential"] = dev.credential
        self._seen[subject] = now_ns
        self._set(subject, obs)

    def _sweep(self, now_ns: int) -> None:
        limit = int(self.cond.stale_secs * _NS)
        for subject, seen in list(self._seen.items()):
            if now_ns - seen > limit:
                del self._seen[subject]
                self._set(subject, None)


def evaluator_for(rule: Rule, ctx: EvalContext) -> Evaluator:
    c = rule.condition
    if isinstance(c, ThresholdCondition):
        return ThresholdEval(c, ctx)
    if isinstance(c, AbsentCondition):
        return AbsentEval(c, ctx)
    if isinstance(c, RatioCondition):
        return RatioEval(c, ctx)
    if isinstance(c, EventCondition):
        return EventEval(c, ctx)
    return CredentialEval(c, ctx)
