"""Counter arithmetic over a window: deltas that survive wraps and resets, rates, percentiles.

The deltas are agent/shared/counters.py's (the same the SNMP collector's rates use): a counter
that went down is a wrap when its width is known and the wrapped increase is plausible, else a
reset (device reboot, counter cleared, agent restart of a derived counter) that makes that one
interval unusable: it is skipped and counted, never turned into a huge negative or wrapped
value. Without a width (`bits=None`) every decrease is a reset.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from agent.shared.counters import Point, infer_bits, series_deltas

__all__ = ["Deltas", "Interval", "deltas", "infer_bits", "percentile", "share"]


@dataclass(frozen=True, slots=True)
class Interval:
    start_ns: int
    end_ns: int
    delta: float

    @property
    def seconds(self) -> float:
        return (self.end_ns - self.start_ns) / 1e9


@dataclass(frozen=True, slots=True)
class Deltas:
    intervals: tuple[Interval, ...]
    resets: int

    @property
    def total(self) -> float:
        return sum(i.delta for i in self.intervals)


def deltas(samples: Sequence[tuple[int, float]], bits: int | None = None) -> Deltas:
    """Consecutive differences of a counter, oldest first; a decrease is a wrap on a counter
    of known width when plausible, else skipped as a reset."""
    s = series_deltas([Point(t, v) for t, v in samples], bits)
    return Deltas(tuple(Interval(int(i.start), int(i.end), float(i.delta)) for i in s.intervals),
                  s.resets)


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile (the method of 95th-percentile bandwidth billing)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[rank - 1]


def share(numerator: float, denominator: float) -> float | None:
    """Percentage, or None when there is nothing to divide by."""
    if denominator <= 0:
        return None
    return 100.0 * numerator / denominator
