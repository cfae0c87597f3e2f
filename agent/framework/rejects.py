"""Items set aside because they are unusable: counted by cause, logged once per cause and device.

One hostile reply (an INTEGER of 1,800 octets, a 60 kB string, a number past float range) must
cost that one item, never the flush or the device's other data. Whoever finds such an item
(the pipeline, a collector at the edge, an exporter) calls `Rejections.reject`; the count goes
out as `agent_rejected{plugin,instance,reason}` and the cause is logged once per
(instance, reason, device), so a device that sends the same garbage every tick does not flood
the log.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable

from agent.core.catalogue import Measurement, counter, tag
from agent.core.model import Metric, MetricKind

log = logging.getLogger("campusmon.rejected")

MAX_LOGGED_CAUSES = 10_000  # bounded memory: past this, new causes are counted, not logged
MAX_DETAIL_CHARS = 200  # a detail quotes the offender; never the whole 60 kB of it

# (reason, device or None, detail) — handed to plugins through BuildContext.reject
RejectFn = Callable[[str, str | None, str], None]

REJECTED = Measurement(
    "agent_rejected", "items set aside as unusable (out of range, oversized, unrenderable), "
    "by the plugin instance they came from and the cause",
    tags=(tag("plugin", "plugin type"), tag("instance", "plugin instance (type/name)"),
          tag("reason", "cause: int_out_of_range, string_too_long, bad_oid, render_error …")),
    fields=(counter("items_total", "", "items set aside since the agent started"),))


def short(detail: str) -> str:
    return detail if len(detail) <= MAX_DETAIL_CHARS else detail[:MAX_DETAIL_CHARS] + "…"


class Rejections:
    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, str]] = Counter()
        self._logged: set[tuple[str, str, str]] = set()
        # scrapes (the exporter's HTTP threads) and flushes (worker threads) report too
        self._lock = threading.Lock()

    def reject(self, plugin: str, instance: str, reason: str, device: str | None,
               detail: str, n: int = 1) -> None:
        key = (instance, reason, device or "")
        with self._lock:
            self._counts[(plugin, instance, reason)] += n
            if key in self._logged or len(self._logged) >= MAX_LOGGED_CAUSES:
                return
            self._logged.add(key)
        log.warning("%s: set aside %s%s: %s (logged once; counted in agent_rejected)",
                    instance, reason, f" from device {device}" if device else "", short(detail))

    def for_instance(self, plugin: str, instance: str) -> RejectFn:
        def reject(reason: str, device: str | None, detail: str) -> None:
            self.reject(plugin, instance, reason, device, detail)
        return reject

    def _items(self) -> list[tuple[tuple[str, str, str], int]]:
        with self._lock:
            return sorted(self._counts.items())

    def count(self, instance: str, reason: str | None = None) -> int:
        return sum(n for (_, i, r), n in self._items()
                   if i == instance and (reason is None or r == reason))

    def total(self) -> int:
        return sum(n for _, n in self._items())

    def metrics(self, ts_ns: int) -> list[Metric]:
        return [Metric("agent_rejected", {"plugin": p, "instance": i, "reason": r},
                       {"items_total": n}, ts_ns, MetricKind.COUNTER)
                for (p, i, r), n in self._items()]
