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


# A Sample kept compact: (value, t_s, discontinuity, poll it was last touched in). A device
# keeps one per counter (~450 per 48-port switch), so the bytes per entry are the plugin's RSS
# at campus scale: no Sample object, and no set of touched keys (with the key tuples of every
# poll) beside the dict — the poll number in the entry tells end() what went unseen.
_Prev = tuple[int, float, int | None, int]


class RateTracker:
    """Previous samples of one device's counters, keyed by series."""

    def __init__(self) -> None:
        self._prev: dict[Hashable, _Prev] = {}
        self._poll = 0  # the current poll (begin() counts them)
        self._touched = 0  # distinct series seen in it
        self._uptime_s: float | None = None

    def begin(self, uptime_s: float | None) -> bool:
        """Start a poll; returns True when the device rebooted (all baselines dropped)."""
        self._poll += 1
        self._touched = 0
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
        prev = self._prev.get(key)
        poll = self._poll
        self._prev[key] = (value, t_s, discontinuity, poll)
        if prev is None:
            self._touched += 1
            return None
        p_value, p_t, p_disc, p_poll = prev
        if p_poll != poll:
            self._touched += 1
        # point_delta: time must move forward and the epoch (discontinuity) stay the same
        if t_s <= p_t or p_disc != discontinuity:
            return None
        if value >= p_value:
            return (value - p_value) / (t_s - p_t)
        delta = shared_delta(p_value, value, bits)  # a wrap, or a reset (None)
        return None if delta is None else delta / (t_s - p_t)

    def end(self) -> None:
        """Finish a poll: series not seen in it (removed interfaces) are forgotten."""
        if self._touched == len(self._prev):  # every entry was seen in this poll
            return
        poll = self._poll
        for k in [k for k, v in self._prev.items() if v[3] != poll]:
            del self._prev[k]
