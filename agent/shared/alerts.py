"""What an alert event looks like to the sinks (the Alerts section of docs/metrics.md).

An alert is an `Event` whose `kind` is the rule name and whose labels carry `alertname` (so a
sink can tell alerts from the raw events they were derived from: a raw `unregistered_device`
fact must not page anyone, its deduplicated alert may). Labels are the alert's identity and
stay the same from raised to resolved; the few below describe one notification only, and
sinks with label identity (Alertmanager) move them to annotations.
"""

from __future__ import annotations

from collections.abc import Mapping

from agent.core.model import Event

ALERTNAME = "alertname"
NOTIFY_REASON = "notify_reason"  # new / renotify / flapping / released / resolved
HELD_BACK = "held_back"  # on a root alert: how many alerts behind it are held back
TRANSIENT_LABELS = frozenset({NOTIFY_REASON, HELD_BACK})


def is_alert(e: Event) -> bool:
    return ALERTNAME in e.labels


def identity_labels(e: Event) -> dict[str, str]:
    return {k: v for k, v in e.labels.items() if k not in TRANSIENT_LABELS}


def transient_labels(e: Event) -> Mapping[str, str]:
    return {k: v for k, v in e.labels.items() if k in TRANSIENT_LABELS}
