"""Last value of every series, for pull exporters: a scrape never waits on a device.

Series not refreshed within their TTL disappear (a device that vanished stops being exported).
Pruning runs on its own timer (`prune`, called by the agent), not only on a scrape: without a
Prometheus output nobody scrapes, and 150k random-MAC FDB series once took 304 MiB. The number
of series and the fields kept per series are capped; what a cap refuses is counted through
`on_drop` (agent_rejected{instance="snapshot"}) and the newer data still flows to the queues.

Only measurements someone reads are kept (`keep`): the agent keeps every measurement when a pull
exporter serves them, else its own self-telemetry plus what a plugin asked for at build
(`want`, e.g. the trap listener's interface names). Without that, a 1,000-switch campus with
only a push output held ~60k last-value series (~3.5 KB each: the metric, its tag and field
dicts, the frozenset key) nobody read — about 0.18 MiB per switch, most of the RSS.

A point older than the one kept is ignored (a late point must not overwrite a newer one) —
unless the wall clock stepped back since (`clock_epoch`): after a backward step every new point
looks "older", and the series would freeze until the clock caught up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterable

from agent.core.model import Metric

SeriesKey = tuple[str, frozenset[tuple[str, str]]]
MAX_SERIES = 250_000  # ~2 KB each: about 500 MB at the very worst; a campus has ~50k
MAX_FIELDS_PER_SERIES = 256

DropFn = Callable[[str, str | None, str], None]  # (reason, device, detail)


def _ignore(reason: str, device: str | None, detail: str) -> None:
    return None


class Snapshot:
    def __init__(self, ttl_secs: float, *, max_series: int = MAX_SERIES,
                 max_fields: int = MAX_FIELDS_PER_SERIES, on_drop: DropFn | None = None,
                 keep: Collection[str] | None = None) -> None:
        self.ttl_ns = int(ttl_secs * 1e9)
        # measurement names kept (None: every one); what a build asks for accumulates in
        # `_wanted` and replaces `keep` only when the build is done (`end_wants`), so a reload
        # never empties what a running pull exporter serves
        self.keep: frozenset[str] | None = None if keep is None else frozenset(keep)
        self._base: frozenset[str] = frozenset()
        self._wanted: set[str] | None = set()
        self.max_series = max_series
        self.max_fields = max_fields
        self.on_drop: DropFn = on_drop or _ignore
        self.dropped = 0
        self.clock_epoch = 0  # bumped by the agent when the wall clock steps back
        # key -> (metric, monotonic ns last seen, clock epoch it arrived in)
        self._series: dict[SeriesKey, tuple[Metric, int, int]] = {}
        self._lock = threading.Lock()  # scrapes run on the exporter's HTTP thread

    def begin_wants(self, base: Collection[str]) -> None:
        """A build starts: the measurements kept whatever plugins ask for (the agent's own)."""
        self._base = frozenset(base)
        self._wanted = set(self._base)

    def want(self, names: Collection[str] | None) -> None:
        """A plugin being built reads these measurements from the snapshot (None: all)."""
        if names is None or self._wanted is None:
            self._wanted = None
        else:
            self._wanted.update(names)

    def end_wants(self) -> None:
        """The build is done: keep what it asked for; forget series nobody reads any more."""
        keep = None if self._wanted is None else frozenset(self._wanted)
        self.keep, self._wanted = keep, set(self._base)
        if keep is not None:
            with self._lock:
                for k in [k for k in self._series if k[0] not in keep]:
                    del self._series[k]

    def update(self, metrics: Iterable[Metric]) -> None:
        keep = self.keep
        if keep is not None and not keep:
            return
        now = time.monotonic_ns()
        epoch = self.clock_epoch
        drops: list[tuple[str, Metric]] = []
        with self._lock:
            series = self._series
            for m in metrics:
                if keep is not None and m.name not in keep:
                    continue
                key = (m.name, frozenset(m.tags.items()))
                prev = series.get(key)
                if prev is None:
                    if len(series) >= self.max_series:
                        drops.append(("snapshot_series_cap", m))
                        continue
                elif prev[0].ts_ns > m.ts_ns and prev[2] == epoch:
                    continue  # a late, older point must not overwrite a newer one
                elif prev[0].fields.keys() - m.fields.keys():
                    merged = dict(prev[0].fields)
                    merged.update(m.fields)
                    if len(merged) > self.max_fields:  # the union of every name ever sent
                        drops.append(("snapshot_fields_cap", m))
                    else:
                        m = Metric(m.name, m.tags, merged, m.ts_ns, m.kind)
                series[key] = (m, now, epoch)
        for reason, m in drops:  # outside the lock: the callback logs
            self.dropped += 1
            self.on_drop(reason, m.tags.get("device"), f"{m.name}: cap reached")

    def prune(self) -> int:
        """Drop the series not refreshed within the TTL; returns how many went."""
        cutoff = time.monotonic_ns() - self.ttl_ns
        with self._lock:
            stale = [k for k, (_, seen, _e) in self._series.items() if seen < cutoff]
            for k in stale:
                del self._series[k]
        return len(stale)

    def current(self) -> list[Metric]:
        self.prune()
        with self._lock:
            return [m for m, _, _e in self._series.values()]

    def __len__(self) -> int:
        return len(self._series)
