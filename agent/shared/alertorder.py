"""Never deliver an alert event older than one already delivered for the same key.

The disk queue sends live data before backlog after an outage (agent/framework/outputs.py), so a
`resolved` raised during the outage's last seconds can go out before the `raised` queued at its
start. Delivered late, that `raised` would re-open an alert that is over (Alertmanager keeps
the younger update; a chat group would read "firing" last). Each alert sink keeps the newest
timestamp it delivered per key and drops what is superseded. Memory is bounded by `max_keys`
(oldest forgotten first).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from agent.core.model import Event


class LatestPerKey:
    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._latest: OrderedDict[str, int] = OrderedDict()
        self.superseded = 0  # events dropped because a newer one for the key went out

    def current(self, events: Sequence[Event]) -> list[Event]:
        """The events still worth sending, oldest first."""
        out = []
        for e in sorted(events, key=lambda e: e.ts_ns):
            if e.ts_ns < self._latest.get(e.key, -1):
                self.superseded += 1
                continue
            out.append(e)
        return out

    def delivered(self, events: Sequence[Event]) -> None:
        for e in events:
            if e.ts_ns >= self._latest.get(e.key, -1):
                self._latest[e.key] = e.ts_ns
                self._latest.move_to_end(e.key)
        while len(self._latest) > self.max_keys:
            self._latest.popitem(last=False)
