"""Counters to rates: wrap-safe for Counter32/Counter64, baseline reset instead of spikes.

The delta arithmetic (wraps, resets, discontinuities) is agent/shared/counters.py, the one the
audits use too. A device reboot (sysUpTime went back) drops every baseline of the device; a
changed discontinuity time (ifCounterDiscontinuityTime, ipSystemStatsDiscontinuityTime) drops
that series' baseline: the next sample gives no rate rather than a spike. Raw counters are never
touched.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from agent.shared.counters import Point, point_delta
from agent.shared.counters import counter_delta as shared_delta


@dataclass(frozen=True, slots=True)
class Sample:
    value: int
    t_s: float  # monotonic seconds
    discontinuity: int | None = None

    def point(self) -> Point:
        return Point(self.t_s, self.value, self.discontinuity)


def counter_delta(prev: int, cur: int, bits: int) -> int | None:
    """Increase from `prev` to `cur` on a `bits`-wide counter; None when it was a reset."""
    delta = shared_delta(prev, cur, bits)
    return None if delta is None else int(delta)


def counter_rate(prev: Sample | None, cur: Sample, bits: int) -> float | None:
    """Per-second increase between two samples, or None when there is no valid baseline."""
    if prev is None:
        return None
    delta = point_delta(prev.point(), cur.point(), bits)
    return None if delta is None else delta / (cur.t_s - prev.t_s)


class RateTracker:
    """Previous samples of one device's counters, keyed by series."""

    def __init__(self) -> None:
        self._prev: dict[Hashable, Sample] = {}
        self._touched: set[Hashable] = set()
        self._uptime_s: float | None = None

    def begin(self, uptime_s: float | None) -> bool:
        """Start a poll; returns True when the device rebooted (all baselines dropped)."""
        self._touched = set()
        rebooted = (uptime_s is not None and self._uptime_s is not None
                    and uptime_s < self._uptime_s)
        if rebooted:
            self._prev.clear()
        if uptime_s is not None:
            self._uptime_s = uptime_s
        return rebooted

    def rate(self, key: Hashable, value: int, bits: int, t_s: float,
             discontinuity: int | None = None) -> float | None:
        cur = Sample(value, t_s, discontinuity)
        self._touched.add(key)
        prev = self._prev.get(key)
        self._prev[key] = cur
        return counter_rate(prev, cur, bits)

    def end(self) -> None:
        """Finish a poll: series not seen in it (removed interfaces) are forgotten."""
        for k in [k for k in self._prev if k not in self._touched]:
            del self._prev[k]
