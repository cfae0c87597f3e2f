"""The framework's wall clock for its own bookkeeping: it never runs backwards.

Queue rows are stamped when enqueued, and "fresh" (sent at once) vs "backlog" (paced) is decided
by those stamps; queue ages, alert `for` durations and re-notify intervals are differences of
wall times too. A backward step of the system clock (NTP fixing a clock that ran an hour ahead,
an operator's `date -s`) would make old backlog look fresh (unpaced), ages negative
(oldest_age_seconds came out as -31,535,996 s) and pending alerts wait for the step to pass.

`WallClock.now_ns()` follows the system clock forwards, but when it sees it step back (by more
than `step_threshold_s` against the monotonic clock) it logs the step once, keeps counting from
where it was, and then eases back onto the system clock at 10% of elapsed time (as NTP slews),
so it is monotonic throughout and back on the system clock after ten times the step. Data
timestamps (a reading's `ts_ns`) stay the system's: this clock is only for bookkeeping.
Durations that do not need a wall time use time.monotonic() directly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("campusmon.clock")

SLEW = 0.1  # the correction shrinks by this share of the elapsed time


class WallClock:
    def __init__(self, source: Callable[[], int] = time.time_ns,
                 monotonic: Callable[[], int] = time.monotonic_ns,
                 step_threshold_s: float = 1.0) -> None:
        self.source = source
        self.monotonic = monotonic
        self.step_threshold_ns = int(step_threshold_s * 1e9)
        self.correction_ns = 0
        self.steps = 0
        self._last: tuple[int, int] | None = None  # (our last answer, monotonic then)
        self._lock = threading.Lock()  # queues stamp rows from worker threads
        self._listeners: list[Callable[[int], None]] = []

    def on_step(self, listener: Callable[[int], None]) -> None:
        """Call `listener(step_ns)` whenever a backward step is detected."""
        self._listeners.append(listener)

    def now_ns(self) -> int:
        stepped = 0
        with self._lock:
            real, mono = self.source(), self.monotonic()
            if self._last is None:
                self._last = (real, mono)
                return real
            last, last_mono = self._last
            elapsed = max(0, mono - last_mono)
            expected = last + elapsed
            now = real + self.correction_ns
            if now < expected - self.step_threshold_ns:
                stepped = expected - now
                self.correction_ns += stepped
                self.steps += 1
            elif self.correction_ns:  # easing back: slower than real time, never backwards
                self.correction_ns = max(0, self.correction_ns - int(elapsed * SLEW))
            now = real + self.correction_ns
            now = max(now, last)  # monotonic, also under the threshold
            self._last = (now, mono)
        if stepped:
            log.warning("the system clock stepped back by %.1f s; queue ages, backlog pacing "
                        "and alert durations keep counting from before the step and ease back "
                        "onto the system clock over %.0f s", stepped / 1e9,
                        stepped / 1e9 / SLEW)
            for listener in self._listeners:
                listener(stepped)
        return now


_DEFAULT = WallClock()


def default_clock() -> WallClock:
    return _DEFAULT


def wall_ns() -> int:
    """The framework's bookkeeping wall time (the process's one clock)."""
    return _DEFAULT.now_ns()
