"""Last value of every series, for pull exporters: a scrape never waits on a device.

Series not refreshed within their TTL disappear (a device that vanished stops being exported).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from agent.core.model import Metric

SeriesKey = tuple[str, frozenset[tuple[str, str]]]


class Snapshot:
    def __init__(self, ttl_secs: float) -> None:
        self.ttl_ns = int(ttl_secs * 1e9)
        self._series: dict[SeriesKey, tuple[Metric, int]] = {}
        self._lock = threading.Lock()  # scrapes run on the exporter's HTTP thread

    def update(self, metrics: Iterable[Metric]) -> None:
        now = time.monotonic_ns()
        with self._lock:
            for m in metrics:
                key = (m.name, frozenset(m.tags.items()))
                prev = self._series.get(key)
                if prev is not None and prev[0].ts_ns > m.ts_ns:
                    continue  # a late, older point must not overwrite a newer one
                if prev is not None and prev[0].fields.keys() - m.fields.keys():
                    merged = dict(prev[0].fields)
                    merged.update(m.fields)
                    m = Metric(m.name, m.tags, merged, m.ts_ns, m.kind)
                self._series[key] = (m, now)

    def current(self) -> list[Metric]:
        cutoff = time.monotonic_ns() - self.ttl_ns
        with self._lock:
            stale = [k for k, (_, seen) in self._series.items() if seen < cutoff]
            for k in stale:
                del self._series[k]
            return [m for m, _ in self._series.values()]

    def __len__(self) -> int:
        return len(self._series)
