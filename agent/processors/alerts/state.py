"""Per-alert state: pending → firing → resolved, and when a notification goes out.

One `Alert` per key (rule + subject): repeated observations of the same condition update it,
they never add a second one. Notifications (raised/resolved `Event`s) leave only when an alert
is firing and not held back: by a root alert upstream (topology), a silence or maintenance
window, or the settle/release grace that gives an upstream failure time to show itself.
Flap damping: an alert whose condition changed `start_transitions` times within the window is
held firing (one `flapping` notification) until it has been calm for the window.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.core.model import Event, EventState, Metric, Severity
from agent.processors.alerts.conditions import Changes, Subject
from agent.processors.alerts.rules import Rule, TopologyRole, render
from agent.processors.alerts.topology import Topology, same_port
from agent.shared.alerts import ALERTNAME, HELD_BACK, NOTIFY_REASON

_NS = 10**9
_FLAP_HISTORY = 64  # transitions remembered per key: bounds memory whatever the input does


class Phase(enum.StrEnum):
    PENDING = "pending"
    FIRING = "firing"


@dataclass(frozen=True, slots=True)
class BookSettings:
    renotify_secs: float = 4 * 3600.0
    flap_window_secs: float = 600.0
    flap_start: int = 4
    flap_stop: int = 1
    settle_secs: float = 30.0
    release_grace_secs: float = 60.0


@dataclass(slots=True)
class Alert:
    key: str
    rule: Rule
    labels: dict[str, str]  # identity, fixed when the alert opens
    device: str | None
    values: dict[str, str]  # summary placeholders, refreshed by each observation
    phase: Phase
    active_since_ns: int
    fired_ns: int = 0
    active: bool = True  # the condition holds now
    notified: bool = False  # a raised notification is out and not yet resolved
    last_notified_ns: int = 0
    hold_until_ns: int = 0
    suppressed_by: str | None = None
    muted_by: str | None = None
    flapping: bool = False
    flap_announced: bool = False
    unconfirmed_until_ns: int = 0  # restored from a previous run: kept until data says

    @property
    def port(self) -> str | None:
        """The interface a root alert is about (uplink down), if any."""
        return self.labels.get("ifname")


def _label(a: Alert, name: str) -> str | None:
    return a.labels.get(name) or a.values.get(name)


def _inhibits(source: Alert, target: Alert) -> bool:
    inh = source.rule.inhibits
    return (inh is not None and target.rule.name in inh.rules and source.key != target.key
            and all(_label(source, k) == _label(target, k) for k in inh.equal))


def alert_key(rule: str, subject: Subject) -> str:
    return f"{rule}:{'/'.join(subject)}"


MuteFn = Callable[[dict[str, str], int], str | None]


class AlertBook:
    def __init__(self, topology: Topology | None, settings: BookSettings,
                 mute: MuteFn | None = None, inhibited: frozenset[str] = frozenset()) -> None:
        self.topology = topology
        self.inhibited = inhibited  # rules some other rule may hold back
        self.s = settings
        self.mute = mute
        self.by_rule: dict[str, dict[str, Alert]] = {}
        self._flaps: dict[str, deque[int]] = {}
        self.resolved_with_root = 0  # held-back alerts that cleared with their root
        self._emitted: dict[str, Metric] = {}  # `alert` series sent last time

    # ------------------------------------------------------------ condition updates
    def _flap(self, key: str, now: int) -> None:
        self._flaps.setdefault(key, deque(maxlen=_FLAP_HISTORY)).append(now)

    def update(self, rule: Rule, ch: Changes, now: int) -> bool:
        """Apply what the rule's evaluator learnt; True when an alert changed state."""
        alerts = self.by_rule.setdefault(rule.name, {})
        changed = False
        for subject, obs in ch.up.items():
            key = alert_key(rule.name, subject)
            a = alerts.get(key)
            if a is None:
                labels = {**obs.labels, **rule.labels, ALERTNAME: rule.name}
                alerts[key] = Alert(key, rule, labels, obs.device, dict(obs.values),
                                    Phase.PENDING, now)
                self._flap(key, now)
                changed = True
            elif not a.active:
                a.active, a.active_since_ns = True, now
                a.values.update(obs.values)
                self._flap(key, now)
                changed = True
            else:
                a.values.update(obs.values)
                a.unconfirmed_until_ns = 0
        for subject, obs in ch.refreshed.items():
            a = alerts.get(alert_key(rule.name, subject))
            if a is not None:
                a.values.update(obs.values)
                a.unconfirmed_until_ns = 0
        for subject in ch.down if alerts else ():
            a = alerts.get(alert_key(rule.name, subject))
            if a is not None and a.active:
                a.active, a.unconfirmed_until_ns = False, 0
                self._flap(a.key, now)
                changed = True
        return changed

    def _tick(self, now: int) -> None:
        """Time-based changes: for-durations elapsed, reopened alerts never confirmed."""
        for a in self.alerts():
            if a.unconfirmed_until_ns and now >= a.unconfirmed_until_ns:
                a.active, a.unconfirmed_until_ns = False, 0
                self._flap(a.key, now)
            if (a.active and a.phase is Phase.PENDING
                    and now - a.active_since_ns >= a.rule.for_secs * _NS):
                self._fire(a, now)

    def _fire(self, a: Alert, now: int) -> None:
        a.phase = Phase.FIRING
        a.fired_ns = now
        if a.rule.name in self.inhibited or (
                a.rule.topology is not TopologyRole.NONE and a.device and self.topology
                and self.topology.ancestors(a.device)):
            # give an upstream failure a moment to show up before paging for this one
            a.hold_until_ns = max(a.hold_until_ns, now + int(self.s.settle_secs * _NS))

    # ------------------------------------------------------------ restarts
    def snapshot(self) -> list[dict[str, object]]:
        """The notified alerts: someone was told they fire, so someone must hear the end."""
        return [{"key": a.key, "rule": a.rule.name, "labels": a.labels, "device": a.device,
                 "values": a.values, "active_since_ns": a.active_since_ns,
                 "fired_ns": a.fired_ns, "last_notified_ns": a.last_notified_ns}
                for a in self.alerts() if a.notified]

    def restore(self, records: list[dict[str, Any]], rules: dict[str, Rule], now: int,
                grace_secs: float) -> int:
        """Reopen notified alerts of a previous run. Each stays firing (no new notification)
        until its condition is seen again, or resolves if `grace_secs` pass without it."""
        n = 0
        for r in records:
            rule = rules.get(str(r.get("rule")))
            if rule is None:
                continue  # the rule is gone from the config: nothing will ever resolve it
            a = Alert(str(r["key"]), rule, dict(r["labels"]), r.get("device"),
                      dict(r.get("values") or {}), Phase.FIRING, int(r["active_since_ns"]),
                      fired_ns=int(r["fired_ns"]), notified=True,
                      last_notified_ns=int(r["last_notified_ns"]),
                      unconfirmed_until_ns=now + int(grace_secs * _NS))
            self.by_rule.setdefault(rule.name, {})[a.key] = a
            n += 1
        return n

    def alerts(self) -> list[Alert]:
        return [a for group in self.by_rule.values() for a in group.values()]

    # ------------------------------------------------------------ decisions
    def _update_flapping(self, now: int) -> None:
        horizon = now - int(self.s.flap_window_secs * _NS)
        for key in list(self._flaps):
            dq = self._flaps[key]
            while dq and dq[0] < horizon:
                dq.popleft()
            if not dq:
                del self._flaps[key]
        for a in self.alerts():
            n = len(self._flaps.get(a.key, ()))
            if not a.flapping and n >= self.s.flap_start:
                a.flapping = True
                if a.phase is Phase.PENDING:
                    self._fire(a, now)
            elif a.flapping and n <= self.s.flap_stop:
                a.flapping = False
                a.flap_announced = False

    def _update_suppression(self, now: int) -> None:
        topo = self.topology
        roots: dict[str, list[Alert]] = {}
        inhibitors: list[Alert] = []
        for a in self.alerts():
            if not (a.active or a.flapping):
                continue
            if a.rule.topology is TopologyRole.ROOT and a.device:
                roots.setdefault(a.device, []).append(a)
            if a.rule.inhibits is not None:
                inhibitors.append(a)
        for a in self.alerts():
            by: str | None = None
            if a.rule.name in self.inhibited:
                by = next((i.key for i in inhibitors if _inhibits(i, a)), None)
            if a.rule.topology is TopologyRole.NONE or not a.device or topo is None:
                self._hold(a, by, now)
                continue
            # the farthest upstream root wins: that is the one failure everyone pages for
            if roots:
                for link in topo.ancestors(a.device):
                    for r in roots.get(link.parent, ()):
                        port = r.port
                        if port is None or (link.port is not None and same_port(link.port, port)):
                            by = r.key
            self._hold(a, by, now)

    def _hold(self, a: Alert, by: str | None, now: int) -> None:
        if a.suppressed_by and by is None:  # released: give it the grace to clear by itself
            a.hold_until_ns = max(a.hold_until_ns, now + int(self.s.release_grace_secs * _NS))
        a.suppressed_by = by

    def settle(self, now: int) -> list[Event]:
        self._tick(now)
        self._update_flapping(now)
        self._update_suppression(now)
        held: dict[str, int] = {}
        for a in self.alerts():
            if a.suppressed_by:
                held[a.suppressed_by] = held.get(a.suppressed_by, 0) + 1
        out: list[Event] = []
        for group in self.by_rule.values():
            for key in list(group):
                a = group[key]
                if not a.active and not a.flapping:
                    if a.notified:
                        out.append(self._event(a, EventState.RESOLVED, "resolved", now, held))
                    elif a.suppressed_by:
                        self.resolved_with_root += 1
                    del group[key]
                    continue
                if a.phase is not Phase.FIRING:
                    continue
                a.muted_by = self.mute(a.labels, now) if self.mute else None
                if a.suppressed_by or a.muted_by or now < a.hold_until_ns:
                    continue
                reason: str | None = None
                if not a.notified:
                    reason = "flapping" if a.flapping else "new"
                    a.flap_announced = a.flapping
                elif a.flapping and not a.flap_announced:
                    reason, a.flap_announced = "flapping", True
                else:
                    every = a.rule.renotify_secs or self.s.renotify_secs
                    if now - a.last_notified_ns >= every * _NS:
                        reason = "renotify"
                if reason is not None:
                    a.notified = True
                    a.last_notified_ns = now
                    out.append(self._event(a, EventState.RAISED, reason, now, held))
        return out

    def _event(self, a: Alert, state: EventState, reason: str, now: int,
               held: dict[str, int]) -> Event:
        if state is EventState.RESOLVED:
            a.notified = False
        labels = dict(a.labels)
        labels[NOTIFY_REASON] = reason
        if a.rule.topology is TopologyRole.ROOT or a.rule.inhibits is not None:
            labels[HELD_BACK] = str(held.get(a.key, 0))
        return Event(a.key, a.rule.name, state, a.rule.severity, render(a.rule.summary, a.values),
                     a.device, labels, now)

    def metrics(self, now: int, base_tags: dict[str, str]) -> list[Metric]:
        counts = {s: {"firing": 0, "pending": 0, "suppressed": 0} for s in Severity}
        for a in self.alerts():
            c = counts[a.rule.severity]
            if a.suppressed_by:
                c["suppressed"] += 1
            elif a.phase is Phase.FIRING:
                c["firing"] += 1
            else:
                c["pending"] += 1
        out = [Metric("alerts", {**base_tags, "severity": s.value}, dict(c), now)
               for s, c in counts.items()]
        # one series per firing alert (`alert_firing` centrally): facts only the agent sees
        # (rogue RA on its segment, its own credentials) reach the central rules this way
        current: dict[str, Metric] = {}
        for a in self.alerts():
            if a.phase is Phase.FIRING:
                tags = {**base_tags, **{k: v for k, v in a.labels.items()
                                        if k in ("alertname", "device", "building")},
                        "severity": a.rule.severity.value, "key": a.key}
                current[a.key] = Metric("alert", tags, {
                    "firing": 1, "suppressed": 1 if a.suppressed_by else 0}, now)
        for key, gone in self._emitted.items():
            if key not in current:  # resolved since: say so once rather than go stale
                out.append(Metric("alert", gone.tags, {"firing": 0, "suppressed": 0}, now))
        self._emitted = current
        out.extend(current.values())
        return out
