"""Counter deltas, the one implementation: wrap-aware (Counter32 / Counter64), reboot- and
discontinuity-aware. Used by the SNMP collector's rates (collectors/snmp/rates.py) and by the
audits' window deltas (agent/processors/audit/counters.py).

A counter that went down is a wrap only when the counter's width is known and the wrapped
delta is plausible (under half the counter's range); otherwise it was reset and that interval
has no delta. A changed epoch between two samples — the device's uptime went back (reboot), or
a discontinuity time (ifCounterDiscontinuityTime, ipSystemStatsDiscontinuityTime) changed —
also means no delta, even when the value happens to have grown: the two values do not belong
to the same count.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

Number = int | float


def counter_delta(prev: Number, cur: Number, bits: int | None) -> Number | None:
    """Increase from `prev` to `cur` on a `bits`-wide counter; None when it was a reset.
    `bits=None` (width unknown) reads every decrease as a reset."""
    if cur >= prev:
        return cur - prev
    if bits is None:
        return None
    wrapped = cur + (1 << bits) - prev
    return wrapped if wrapped < (1 << (bits - 1)) else None


def infer_bits(values: Sequence[Number]) -> int | None:
    """64 when a value is beyond Counter32's range (such a counter cannot be 32-bit), else
    None: a small counter may be either width, and guessing 32 would read a reboot of a
    64-bit counter as a wrap."""
    return 64 if any(v >= 1 << 32 for v in values) else None


@dataclass(frozen=True, slots=True)
class Point:
    """One reading of a counter. `epoch`: what must stay the same for two readings to be
    comparable (a discontinuity time); `uptime`: the device's uptime, which only grows
    between reboots."""

    t: Number
    value: Number
    epoch: Number | None = None
    uptime: Number | None = None


def restarted(prev: Point, cur: Point) -> bool:
    """The two readings belong to different counts (reboot or discontinuity)."""
    if prev.epoch != cur.epoch:
        return True
    return prev.uptime is not None and cur.uptime is not None and cur.uptime < prev.uptime


def point_delta(prev: Point, cur: Point, bits: int | None) -> Number | None:
    """The increase between two readings, or None (no valid baseline: reset, reboot,
    discontinuity, or time not moving forward)."""
    if cur.t <= prev.t or restarted(prev, cur):
        return None
    return counter_delta(prev.value, cur.value, bits)


@dataclass(frozen=True, slots=True)
class Interval:
    start: Number
    end: Number
    delta: Number


@dataclass(frozen=True, slots=True)
class Series:
    """Consecutive deltas of one counter: the usable intervals, and how many were set aside
    because the count restarted (reset, reboot, discontinuity)."""

    intervals: tuple[Interval, ...]
    resets: int


def series_deltas(points: Sequence[Point], bits: int | None) -> Series:
    """Deltas between consecutive readings, oldest first. Readings whose time does not move
    forward are skipped without counting (duplicates, clock steps); every other interval
    without a delta counts as a reset."""
    out: list[Interval] = []
    resets = 0
    for p0, p1 in itertools.pairwise(points):
        if p1.t <= p0.t:
            continue
        d = point_delta(p0, p1, bits)
        if d is None:
            resets += 1
            continue
        out.append(Interval(p0.t, p1.t, d))
    return Series(tuple(out), resets)
