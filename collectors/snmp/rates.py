"""Counters to rates: wrap-safe for Counter32/Counter64, baseline reset instead of spikes.

The delta arithmetic (wraps, resets, discontinuities) is agent/shared/counters.py, the one the
audits use too. A device reboot (sysUpTime went back) drops every baseline of the device; a
changed discontinuity time (ifCounterDiscontinuityTime, ipSystemStatsDiscontinuityTime) drops
that series' baseline: the next sample gives no rate rather than a spike. Raw counters are never
touched.
"""

from __future__ import annotations

import contextlib
from array import array
from collections.abc import Callable, Hashable
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


# A device keeps one baseline per counter (~450 per 48-port switch), so the bytes per
# baseline are the plugin's RSS at campus scale. Baselines live in four typed arrays (~28 B
# each) indexed by a slot; the key → slot map is shared by every device whose counters came
# in the same order (switches of one model and port count: one map for hundreds of them),
# copied before a device adds a key to it. A slot's stamp says which poll last touched it
# (0: no baseline), so end() needs no set of touched keys.
# Discontinuity times are TimeStamps (0..2^32-1) and only compared for equality; a slot
# holds 0 for "none" (a cached small int: nothing allocated per read on the common path),
# t + 1 for a time t below 2^64 - 1, and anything else a device sends folded in.
_NO_DISCONTINUITY = 0
_DISC_LIMIT = 2**64 - 1
# key → slot maps kept for sharing: a campus has a few layouts per model and port count;
# past the bound the oldest is let go (devices using it keep it, new ones make their own)
_SHARED_MAX = 256
_shared: dict[tuple[Hashable, ...], dict[Hashable, int]] = {}


def _folded(discontinuity: int) -> int:
    """A discontinuity no TimeStamp can be (negative, huge): still compared for equality."""
    return hash(discontinuity) % (_DISC_LIMIT - 1) + 1


class RateTracker:
    """Previous samples of one device's counters, keyed by series."""

    __slots__ = (
        "_disc",
        "_grew",
        "_live",
        "_own",
        "_poll",
        "_slot",
        "_stamp",
        "_t",
        "_touched",
        "_uptime_s",
        "_value",
    )

    def __init__(self) -> None:
        self._slot: dict[Hashable, int] = {}  # key → index into the arrays below
        self._own = True  # False while _slot is a shared map (copy before adding a key)
        self._value = array("Q")
        self._t = array("d")  # monotonic seconds
        self._disc = array("Q")
        self._stamp = array("I")  # the poll that last touched the slot; 0: no baseline
        self._poll = 1  # the current poll's stamp (begin() moves it on)
        self._touched = 0  # distinct series seen in it
        self._live = 0  # slots with a baseline
        self._grew = False  # keys added in this poll
        self._uptime_s: float | None = None

    def begin(self, uptime_s: float | None) -> bool:
        """Start a poll; returns True when the device rebooted (all baselines dropped)."""
        self._poll = self._poll % 0xFFFF_FFFF + 1  # never 0 (0 marks "no baseline")
        self._touched = 0
        rebooted = (uptime_s is not None and self._uptime_s is not None
                    and uptime_s < self._uptime_s)
        if rebooted:
            self._forget(lambda stamp: True)
        if uptime_s is not None:
            self._uptime_s = uptime_s
        return rebooted

    def rate(self, key: Hashable, value: int, bits: int, t_s: float,
             discontinuity: int | None = None) -> float | None:
        """`counter_rate(previous sample, this one)`, inlined: it runs for every counter of
        every poll, and the Sample/Point objects cost more than the arithmetic."""
        slot = self._slot.get(key)
        if slot is None:
            slot = self._add(key)
        stamps, values, times, discs = self._stamp, self._value, self._t, self._disc
        p_stamp = stamps[slot]
        p_value, p_t, p_disc = values[slot], times[slot], discs[slot]
        if discontinuity is None:
            disc = _NO_DISCONTINUITY
        elif 0 <= discontinuity < _DISC_LIMIT:
            disc = discontinuity + 1
        else:
            disc = _folded(discontinuity)
        try:
            values[slot] = value
            if p_disc != disc:  # mostly the same epoch: no write
                discs[slot] = disc
        except (OverflowError, TypeError):  # not a counter: no baseline from it
            if p_stamp:
                stamps[slot] = 0
                self._live -= 1
                if p_stamp == self._poll:  # counted as seen in this poll: not any more
                    self._touched -= 1
            return None
        times[slot] = t_s
        poll = self._poll
        stamps[slot] = poll
        if not p_stamp:
            self._touched += 1
            self._live += 1
            return None
        if p_stamp != poll:
            self._touched += 1
        # point_delta: time must move forward and the epoch (discontinuity) stay the same
        if t_s <= p_t or p_disc != disc:
            return None
        if value >= p_value:
            return (value - p_value) / (t_s - p_t)
        delta = shared_delta(p_value, value, bits)  # a wrap, or a reset (None)
        return None if delta is None else delta / (t_s - p_t)

    def end(self) -> None:
        """Finish a poll: series not seen in it (removed interfaces) are forgotten; a map
        that grew is shared with devices that have the same one."""
        if self._touched != self._live:
            poll = self._poll
            self._forget(lambda stamp: stamp != poll)
            if len(self._slot) > 2 * self._live + 64:  # interfaces come and go: compact
                self._compact()
        if self._grew:
            self._grew = False
            self._share()

    def _add(self, key: Hashable) -> int:
        if not self._own:
            self._slot = dict(self._slot)
            self._own = True
        slot = self._slot[key] = len(self._value)
        self._value.append(0)
        self._t.append(0.0)
        self._disc.append(_NO_DISCONTINUITY)
        self._stamp.append(0)
        self._grew = True
        return slot

    def _forget(self, which: Callable[[int], bool]) -> None:
        stamps = self._stamp
        for i, stamp in enumerate(stamps):
            if stamp and which(stamp):
                stamps[i] = 0
        self._live = sum(1 for stamp in stamps if stamp)

    def _compact(self) -> None:
        keep = [(k, i) for k, i in self._slot.items() if self._stamp[i]]
        self._slot = {k: n for n, (k, _) in enumerate(keep)}
        self._own = self._grew = True
        for name in ("_value", "_t", "_disc", "_stamp"):
            old = getattr(self, name)
            setattr(self, name, array(old.typecode, (old[i] for _, i in keep)))

    def _share(self) -> None:
        keys = tuple(self._slot)  # slot order: a map equal to it numbers the same slots
        shared = _shared.get(keys)
        if shared is None:
            if len(_shared) >= _SHARED_MAX:  # bounded: the oldest layout goes
                with contextlib.suppress(StopIteration, KeyError, RuntimeError):
                    del _shared[next(iter(_shared))]
            shared = _shared.setdefault(keys, self._slot)
        self._slot = shared
        self._own = False
