"""Counter arithmetic over a window: deltas that survive resets, rates, percentiles.

A counter that goes down (device reboot, counter wrap handled by the device as a reset, agent
restart of a derived counter) makes that one interval unusable: it is skipped and counted,
never turned into a huge negative or wrapped value.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass


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


def deltas(samples: Sequence[tuple[int, float]]) -> Deltas:
    """Consecutive differences of a counter, oldest first; decreases are skipped as resets."""
    out: list[Interval] = []
    resets = 0
    for (t0, v0), (t1, v1) in itertools.pairwise(samples):
        if t1 <= t0:
            continue
        d = v1 - v0
        if d < 0:
            resets += 1
            continue
        out.append(Interval(t0, t1, d))
    return Deltas(tuple(out), resets)


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
