"""A bounded hand-over from paho's network thread to the event loop.

The producer (paho's thread) appends to a deque and schedules one wake-up with
`loop.call_soon_threadsafe` only when none is pending, so a burst of 10,000 messages costs one
wake-up, not 10,000. When the deque is full the message is dropped and counted: paho's thread
must never block (it also answers the broker's keep-alives). CPython's deque append/popleft are
atomic; the one flag has a single writer per side and is cleared *before* draining, so a message
appended during a drain either is drained or schedules another wake-up: none is stranded.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Received:
    topic: str
    payload: bytes
    retained: bool
    qos: int
    ts_ns: int  # when paho's thread received it


class HandOver:
    def __init__(self, loop: asyncio.AbstractEventLoop, maxlen: int,
                 consume: Callable[[list[Received]], None], batch_max: int = 2000) -> None:
        self._loop = loop
        self._maxlen = maxlen
        self._consume = consume
        self._batch_max = batch_max
        self._q: collections.deque[Received] = collections.deque()
        self._scheduled = False
        self.accepted = 0
        self.dropped = 0
        self.closed = False

    def put(self, msg: Received) -> None:
        """Called from paho's thread. Never blocks, never raises."""
        if self.closed:
            return
        if len(self._q) >= self._maxlen:
            self.dropped += 1
            return
        self._q.append(msg)
        self.accepted += 1
        if not self._scheduled:
            self._scheduled = True
            try:
                self._loop.call_soon_threadsafe(self._drain)
            except RuntimeError:  # loop closed during shutdown
                self.closed = True

    def depth(self) -> int:
        return len(self._q)

    def _drain(self) -> None:
        """On the event loop: hand at most `batch_max` messages on, then yield to other tasks."""
        self._scheduled = False
        q = self._q
        batch: list[Received] = []
        popleft = q.popleft
        for _ in range(min(len(q), self._batch_max)):
            batch.append(popleft())
        if q and not self._scheduled:
            # more left: come back after other callbacks had their turn
            self._scheduled = True
            self._loop.call_soon(self._drain)
        if batch:
            self._consume(batch)

    def drain_now(self) -> None:
        """Hand everything queued on at once (used when closing)."""
        while self._q:
            batch = [self._q.popleft() for _ in range(min(len(self._q), self._batch_max))]
            self._consume(batch)
