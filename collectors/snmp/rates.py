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


_Prev = tuple[int, float, int | None]  # a Sample's (value, t_s, discontinuity), kept compact


class RateTracker:
    """Previous samples of one device's counters, keyed by series."""

    def __init__(self) -> None:
        self._prev: dict[Hashable, _Prev] = {}
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
        """`counter_rate(previous sample, this one)`, inlined: it runs for every counter of
        every poll, and the Sample/Point objects cost more than the arithmetic."""
        self._touched.add(key)
        prev = self._prev.get(key)
        self._prev[key] = (value, t_s, discontinuity)
        if prev is None:
            return None
        p_value, p_t, p_disc = prev
        # point_delta: time must move forward and the epoch (discontinuity) stay the same
        if t_s <= p_t or p_disc != discontinuity:
            return None
        if value >= p_value:
            return (value - p_value) / (t_s - p_t)
        delta = shared_delta(p_value, value, bits)  # a wrap, or a reset (None)
        return None if delta is None else delta / (t_s - p_t)

    def end(self) -> None:
        """Finish a poll: series not seen in it (removed interfaces) are forgotten."""
        if len(self._touched) == len(self._prev):  # every key touched is in _prev
            return
        for k in [k for k in self._prev if k not in self._touched]:
            del self._prev[k]
