"""One UDP socket per address family per event loop, shared by every fast-path session.

Requests are matched to replies by request-id (and the reply must come from the address the
request went to, so a stray or spoofed datagram cannot complete someone else's request).

Why `loop.add_reader` and not a `DatagramProtocol`: the protocol transport allocates a 256 KiB
buffer per `recvfrom` and wakes the loop once per datagram. Reading with `recvfrom_into` into
one pre-allocated buffer and draining every queued datagram per wake-up costs noticeably less
CPU when hundreds of replies arrive together, which is the whole point of this path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import weakref
from dataclasses import dataclass, field

from collectors.snmp.fast.ber import BerError, parse_request_id

log = logging.getLogger(__name__)

_MAX_DATAGRAM = 65535
_RCVBUF = 4 * 1024 * 1024  # bursts of replies from many devices at once
_DRAIN_LIMIT = 256  # datagrams read per wake-up before yielding to other callbacks


@dataclass
class _Waiter:
    future: asyncio.Future[bytes | None]
    addr: tuple[str, int]


@dataclass
class DispatchStats:
    sent: int = 0
    received: int = 0
    unmatched: int = 0  # late replies, wrong source, unknown request-id
    malformed: int = 0  # could not even read a request-id


@dataclass
class _Family:
    sock: socket.socket
    buf: bytearray = field(default_factory=lambda: bytearray(_MAX_DATAGRAM))


class Dispatcher:
    """Owns the sockets of one event loop; sessions borrow it through `acquire()`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, max_in_flight: int) -> None:
        self._loop = loop
        self._families: dict[int, _Family] = {}
        self._waiting: dict[int, _Waiter] = {}
        self._next_id = random.randrange(1, 2**30)
        self._users = 0
        self.in_flight = asyncio.Semaphore(max_in_flight)
        self.stats = DispatchStats()

    # -- request ids ----------------------------------------------------------------------
    def new_request_id(self) -> int:
        rid = self._next_id
        while rid in self._waiting:
            rid = rid + 1 if rid < 2**31 - 1 else 1
        self._next_id = rid + 1 if rid < 2**31 - 1 else 1
        return rid

    # -- sending --------------------------------------------------------------------------
    def _family(self, family: int) -> _Family:
        fam = self._families.get(family)
        if fam is None:
            sock = socket.socket(family, socket.SOCK_DGRAM)
            sock.setblocking(False)
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF)
            fam = _Family(sock)
            self._families[family] = fam
            self._loop.add_reader(sock.fileno(), self._readable, fam)
        return fam

    def expect(self, rid: int, addr: tuple[str, int]) -> asyncio.Future[bytes | None]:
        """Register interest in the reply to `rid` from `addr` (replaces an older attempt)."""
        fut: asyncio.Future[bytes | None] = self._loop.create_future()
        self._waiting[rid] = _Waiter(fut, addr)
        return fut

    def forget(self, rid: int) -> None:
        self._waiting.pop(rid, None)

    def send(self, family: int, addr: tuple[str, int], payload: bytes) -> None:
        """Best effort, like UDP: a full send buffer is a lost packet the retry covers."""
        fam = self._family(family)
        try:
            fam.sock.sendto(payload, addr)
            self.stats.sent += 1
        except (BlockingIOError, InterruptedError):
            log.debug("send buffer full, datagram to %s dropped", addr)

    # -- receiving ------------------------------------------------------------------------
    def _readable(self, fam: _Family) -> None:
        sock = fam.sock
        buf = fam.buf
        view = memoryview(buf)
        waiting = self._waiting
        stats = self.stats
        for _ in range(_DRAIN_LIMIT):
            try:
                n, src = sock.recvfrom_into(buf)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. ICMP errors queued on the socket
                log.debug("recvfrom: %s", exc)
                return
            stats.received += 1
            data = bytes(view[:n])
            try:
                rid = parse_request_id(data)
            except BerError:
                stats.malformed += 1
                continue
            w = waiting.get(rid)
            if w is None or w.future.done() or src[0] != w.addr[0] or src[1] != w.addr[1]:
                stats.unmatched += 1
                continue
            w.future.set_result(data)

    # -- life cycle -----------------------------------------------------------------------
    def close(self) -> None:
        for fam in self._families.values():
            with contextlib.suppress(Exception):
                self._loop.remove_reader(fam.sock.fileno())
            fam.sock.close()
        self._families.clear()
        for w in self._waiting.values():
            if not w.future.done():
                w.future.set_result(None)
        self._waiting.clear()


_BY_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Dispatcher] = (
    weakref.WeakKeyDictionary())

GLOBAL_MAX_IN_FLIGHT = 512


def acquire() -> Dispatcher:
    """The running loop's dispatcher, created on first use; pair with `release()`."""
    loop = asyncio.get_running_loop()
    d = _BY_LOOP.get(loop)
    if d is None:
        d = Dispatcher(loop, GLOBAL_MAX_IN_FLIGHT)
        _BY_LOOP[loop] = d
    d._users += 1
    return d


def release(d: Dispatcher) -> None:
    d._users -= 1
    if d._users <= 0:
        d.close()
        if _BY_LOOP.get(d._loop) is d:
            del _BY_LOOP[d._loop]
