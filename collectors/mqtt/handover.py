"""A bounded hand-over from paho's network thread to the event loop.

The producer (paho's thread) appends to a deque and schedules a wake-up with
`loop.call_soon_threadsafe` only when none is pending. While messages keep coming the consumer
does not go back to sleep: it polls again after `linger_s` (2 ms), so a busy stream costs one
wake-up per 2 ms instead of one self-pipe write and epoll round per message, for at most 2 ms
of added latency. When the deque is full the message is dropped and counted: paho's thread must
never block (it also answers the broker's keep-alives). CPython's deque append/popleft are
atomic; the flag is cleared *before* the queue is looked at a last time, so a message appended
meanwhile is either seen or schedules its own wake-up: none is stranded.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from typing import NamedTuple


class Received(NamedTuple):
    """A tuple: the cheapest record to build in paho's thread, where the GIL is contended."""

    topic: str
    payload: bytes
    retained: bool
    qos: int
    ts_ns: int  # when paho's thread received it


class HandOver:
    def __init__(self, loop: asyncio.AbstractEventLoop, maxlen: int,
                 consume: Callable[[list[Received]], None], batch_max: int = 2000,
                 linger_s: float = 0.002) -> None:
        self._loop = loop
        self._maxlen = maxlen
        self._consume = consume
        self._batch_max = batch_max
        self._linger_s = linger_s
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
        self._wake()

    def put_many(self, batch: list[Received]) -> None:
        """`put` for the messages of one read buffer (paho's thread): one call, one extend.
        The same outcome as `put` of each in turn: what does not fit is dropped, counted."""
        if self.closed or not batch:
            return
        room = self._maxlen - len(self._q)
        if room < len(batch):
            room = max(room, 0)
            self.dropped += len(batch) - room
            if not room:
                return
            batch = batch[:room]
        self._q.extend(batch)
        self.accepted += len(batch)
        self._wake()

    def _wake(self) -> None:
        """Schedule one drain on the loop for whatever arrived (paho's thread)."""
        if not self._scheduled:
            self._scheduled = True
            try:
                self._loop.call_soon_threadsafe(self._drain)
            except RuntimeError:  # loop closed during shutdown
                self.closed = True

    def depth(self) -> int:
        return len(self._q)

    def _drain(self) -> None:
        """On the event loop: hand at most `batch_max` messages on; keep polling while busy."""
        q = self._q
        if not q:
            self._scheduled = False
            if not q:  # looked at again after clearing: a put in between saw the flag set
                return
            self._scheduled = True
        batch: list[Received] = []
        popleft = q.popleft
        for _ in range(min(len(q), self._batch_max)):
            batch.append(popleft())
        # still scheduled: come back soon (at once if a full batch was left behind)
        if q:
            self._loop.call_soon(self._drain)
        else:
            self._loop.call_later(self._linger_s, self._drain)
        self._consume(batch)

    def drain_now(self) -> None:
        """Hand everything queued on at once (used when closing)."""
        while self._q:
            batch = [self._q.popleft() for _ in range(min(len(self._q), self._batch_max))]
            self._consume(batch)
