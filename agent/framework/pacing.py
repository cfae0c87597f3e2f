"""How fast a backlog drains after an outage, and when it will be done.

`AimdPace` adapts the backfill rate to the centre's answers, like TCP's congestion control:
each acknowledged backlog batch raises the allowed rate by a small step (additive increase,
up to `backfill_points_per_sec` when configured); an answer that says "slow down" — HTTP 429
or 503, a `Retry-After`, a timeout — halves it (multiplicative decrease), never below a floor.
So a thousand campuses coming back from the same outage settle on what the centre can take
instead of hammering it at their configured maximum. Fresh data is never paced (outputs.py).

`CatchUp` estimates the time until the queue is empty from the net drain rate (how fast
the queue's depth shrank over the last minute): the `agent_queue` field
`catch_up_seconds`. No estimate while the queue is not shrinking (the centre is down, or
data arrives faster than it leaves).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

FLOOR_POINTS_PER_SEC = 100.0  # a paced backlog still moves (the centre asked us to slow down)
STEP_SHARE = 0.05  # additive step: this share of the ceiling (or of the rate) per batch
SMOOTHING_SECS = 60.0  # window of the drain rate


@dataclass(slots=True)
class AimdPace:
    ceiling: float | None  # configured backfill_points_per_sec; None: no configured limit
    rate: float | None = None  # points/s allowed now; None: unpaced
    floor: float = FLOOR_POINTS_PER_SEC
    decreases: int = 0
    _sent: list[tuple[float, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.rate is None and self.ceiling is not None:
            self.rate = self.ceiling

    def _observed(self, now: float) -> float:
        """Backlog points/s acknowledged over the last 10 s."""
        self._sent = [(t, n) for t, n in self._sent if now - t <= 10.0]
        if not self._sent:
            return 0.0
        span = max(1.0, now - self._sent[0][0])
        return sum(n for _, n in self._sent) / span

    def on_delivered(self, n: int, now: float | None = None) -> None:
        """A backlog batch of `n` points was acknowledged: additive increase."""
        now = time.monotonic() if now is None else now
        self._sent.append((now, n))
        if len(self._sent) > 1000:
            del self._sent[:500]
        if self.rate is None:
            return
        base = self.ceiling if self.ceiling is not None else self.rate
        self.rate += max(self.floor / 10, STEP_SHARE * base)
        if self.ceiling is not None:
            self.rate = min(self.rate, self.ceiling)

    def on_overload(self, now: float | None = None) -> None:
        """The centre said slow down: multiplicative decrease (from what actually went
        through, when unpaced so far)."""
        now = time.monotonic() if now is None else now
        current = self.rate if self.rate is not None else self._observed(now)
        if current <= 0:
            current = self.ceiling or self.floor * 10
        self.rate = max(self.floor, current / 2)
        self.decreases += 1


@dataclass(slots=True)
class CatchUp:
    """Shrink rate of a queue's depth over the last minute → seconds until it is empty.

    The depth counts everything (acknowledged, dropped, set aside, newly queued), so its
    change is the net drain rate whatever happens to the items. A window, not an average
    that remembers the outage: the estimate is right a minute after the drain starts."""

    _samples: list[tuple[float, int]] = field(default_factory=list)  # (monotonic, depth)
    net_per_s: float = 0.0

    def update(self, depth_items: int, now: float | None = None) -> float | None:
        now = time.monotonic() if now is None else now
        self._samples.append((now, depth_items))
        # keep the last minute, and always one older sample to measure against
        while len(self._samples) > 2 and now - self._samples[1][0] >= SMOOTHING_SECS:
            del self._samples[0]
        if depth_items <= 0:
            self.net_per_s = 0.0
            return 0.0
        t0, d0 = self._samples[0]
        if now <= t0:
            return None
        self.net_per_s = (d0 - depth_items) / (now - t0)
        if self.net_per_s <= 0:
            return None
        return depth_items / self.net_per_s

    def fields(self, depth_items: int) -> dict[str, float]:
        """`{"catch_up_seconds": …}` for agent_queue, or nothing while the queue grows."""
        eta = self.update(depth_items)
        return {} if eta is None else {"catch_up_seconds": eta}


_OVERLOAD_STATUSES = (429, 503)


def is_overload(exc: BaseException) -> bool:
    """Did the centre say "slow down" (not merely "unreachable")? HTTP 429/503 (an exporter
    error's `status`, or its message `HTTP 429: …`), a Retry-After, or a timeout."""
    if getattr(exc, "retry_after_s", None) is not None:
        return True
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        return status in _OVERLOAD_STATUSES
    if str(exc).startswith(tuple(f"HTTP {s}" for s in _OVERLOAD_STATUSES)):
        return True
    error_type = getattr(exc, "error_type", None)
    return error_type is not None and str(error_type) == "timeout"
