"""ICMP / ICMPv6 echo with one socket per family shared by every target.

Linux offers two ways to ping:
- unprivileged ICMP datagram sockets (`SOCK_DGRAM, IPPROTO_ICMP/ICMPV6`), allowed when the
  process's group is inside `net.ipv4.ping_group_range` (one sysctl for both families, per
  network namespace). The kernel picks the echo identifier (the socket's "port"), fills the
  checksum and delivers only our replies.
- raw sockets, which need CAP_NET_RAW and see every ICMP packet of the host, so replies are
  filtered by identifier (and, for ICMPv6, by an ICMP6_FILTER in the kernel).
`auto` tries the datagram socket first (least privilege), then raw; when neither is allowed the
socket is "unavailable" with a sentence saying why, and the ICMP probe reports
`ErrorType.PERMISSION` with that sentence while the other probes go on.

Replies are read in an `add_reader` callback (no thread, no socket per target) and matched to
waiting requests by sequence number and source address. Method measured in
../shared/reference/baselines.md (ICMP sweep).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import enum
import errno
import itertools
import math
import os
import random
import socket
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agent.core.model import ErrorType
from probes.common import Family, describe, error_type_of, normalise_ip

_ECHO_REQUEST = {Family.IPV4: 8, Family.IPV6: 128}
_ECHO_REPLY = {Family.IPV4: 0, Family.IPV6: 129}
_PAYLOAD = b"campusmon-probe!"  # 16 bytes; makes our packets easy to spot in a capture
_ICMP6_FILTER = 1  # <netinet/icmp6.h>; Python's socket module lacks the constant
_SO_ATTACH_FILTER = 26  # <asm-generic/socket.h>
_SO_RCVBUFFORCE = 33
_PING_RANGE = Path("/proc/sys/net/ipv4/ping_group_range")
_HEADER = struct.Struct("!BBHHH")  # type, code, checksum, identifier, sequence
_IDSEQ = struct.Struct("!HH")


class IcmpMode(enum.StrEnum):
    AUTO = "auto"
    DGRAM = "dgram"
    RAW = "raw"


class IcmpUnavailable(Exception):
    """No ICMP socket of this family can be opened; `str()` says why and how to fix it."""

    def __init__(self, message: str, error_type: ErrorType = ErrorType.PERMISSION) -> None:
        super().__init__(message)
        self.error_type = error_type


@dataclass(slots=True)
class PingStats:
    """RTTs of the echoes that came back (seconds); `error` when no echo could be sent."""

    sent: int
    rtts: list[float] = field(default_factory=list)
    error: ErrorType | None = None
    detail: str = ""

    @property
    def received(self) -> int:
        return len(self.rtts)

    @property
    def loss_ratio(self) -> float:
        return 1.0 - self.received / self.sent if self.sent else 1.0

    @property
    def ok(self) -> bool:
        return self.received > 0

    def summary(self) -> dict[str, float]:
        """min/avg/max and jitter = mean absolute difference of consecutive RTTs (RFC 3550's
        idea without its smoothing: a burst is too short to smooth)."""
        r = self.rtts
        n = len(r)
        # loss_ratio inline (not the properties): this runs once per target per tick
        loss = 1.0 - n / self.sent if self.sent else 1.0
        if not n:
            return {"loss_ratio": loss}
        if n == 1:  # one echo (a sweep's count 1): no sums to take
            x = r[0]
            return {"loss_ratio": loss, "rtt_min_seconds": x, "rtt_avg_seconds": x,
                    "rtt_max_seconds": x, "jitter_seconds": 0.0}
        jitter = (sum(abs(a - b) for a, b in itertools.pairwise(r)) / (len(r) - 1)
                  if len(r) > 1 else 0.0)
        return {"loss_ratio": self.loss_ratio, "rtt_min_seconds": min(r),
                "rtt_avg_seconds": math.fsum(r) / len(r), "rtt_max_seconds": max(r),
                "jitter_seconds": jitter}


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return int(~s & 0xFFFF)


def ping_group_range() -> str:
    try:
        return " ".join(_PING_RANGE.read_text().split())
    except OSError:
        return "unknown"


def _grow_receive_buffer(sock: socket.socket, size: int = 1 << 20) -> None:
    """Room for a sweep's replies (each costs ~1 KiB of buffer): the default ~200 KiB drops
    replies once a few hundred arrive faster than the loop reads them. SO_RCVBUFFORCE needs
    CAP_NET_ADMIN; otherwise SO_RCVBUF, which the kernel caps at net.core.rmem_max."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, size)
    except OSError:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)


def _attach_reply_filter(sock: socket.socket, family: Family, ident: int) -> None:
    """Classic BPF on a raw socket: accept only echo replies carrying our identifier.

    A raw socket gets a copy of every ICMP packet of the namespace (other pingers, fping,
    errors); without this filter their packets fill our receive buffer while the loop is busy
    and our own replies are dropped. Same idea as iputils ping's filter."""
    if family is Family.IPV4:  # the data starts at the IP header: X = its length
        prog = [(0xB1, 0, 0, 0),  # ldxb 4*([0]&0xf)
                (0x50, 0, 0, 0),  # ldb [x+0]       ICMP type
                (0x15, 0, 3, 0),  # jeq #0 (echo reply) else drop
                (0x48, 0, 0, 4),  # ldh [x+4]       identifier
                (0x15, 0, 1, ident),
                (0x06, 0, 0, 0xFFFF),  # accept
                (0x06, 0, 0, 0)]  # drop
    else:  # the data starts at the ICMPv6 header
        prog = [(0x30, 0, 0, 0),  # ldb [0]
                (0x15, 0, 3, 129),  # jeq #129 (echo reply) else drop
                (0x28, 0, 0, 4),  # ldh [4]
                (0x15, 0, 1, ident),
                (0x06, 0, 0, 0xFFFF),
                (0x06, 0, 0, 0)]
    insns = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in prog))
    fprog = struct.pack("HL", len(prog), ctypes.addressof(insns))  # struct sock_fprog
    sock.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER, fprog)


class _Batch:
    """Echoes awaited together (a burst to one target, or one echo to many targets)."""

    __slots__ = ("future", "remaining", "rtts", "seqs")

    def __init__(self, n: int, future: asyncio.Future[None]) -> None:
        self.rtts: list[float | None] = [None] * n
        self.remaining = n
        self.future = future
        self.seqs: list[int] = []  # sequence numbers used, to forget them without a scan

    async def wait(self, timeout_s: float) -> None:
        """Until every echo is answered or `timeout_s` passed (then the rest are lost).
        One timer handle, no timeout context or shield: this runs once per target per tick."""
        if self.remaining:
            timer = asyncio.get_running_loop().call_later(timeout_s, self._expire)
            try:
                await self.future
            finally:
                timer.cancel()

    def _expire(self) -> None:
        if not self.future.done():
            self.future.set_result(None)

    def hit(self, index: int, rtt: float) -> None:  # FamilySocket._on_readable inlines it
        if self.rtts[index] is None:
            self.rtts[index] = rtt
            self.remaining -= 1
            if self.remaining == 0 and not self.future.done():
                self.future.set_result(None)


class FamilySocket:
    """The one ICMP socket of one family."""

    def __init__(self, family: Family, mode: IcmpMode) -> None:
        self.family = family
        self.sock, self.kind = self._open(family, mode)
        self.sock.setblocking(False)
        _grow_receive_buffer(self.sock)
        if self.kind == "dgram":
            self.sock.bind(("0.0.0.0" if family is Family.IPV4 else "::", 0))
            self.ident = int(self.sock.getsockname()[1])
        else:
            self.ident = random.randrange(1, 0xFFFF)
            _attach_reply_filter(self.sock, family, self.ident)
            if family is Family.IPV6:
                # let the kernel drop everything but echo replies before Python sees it
                words = [0xFFFFFFFF] * 8
                words[129 >> 5] &= ~(1 << (129 & 31))
                self.sock.setsockopt(socket.IPPROTO_ICMPV6, _ICMP6_FILTER,
                                     struct.pack("8I", *words))
        self._seq = random.randrange(0, 0x10000)
        self._base_sum = sum(struct.unpack(f"!{(8 + len(_PAYLOAD)) // 2}H", _HEADER.pack(
            8, 0, 0, self.ident, 0) + _PAYLOAD))
        self._pending: dict[int, tuple[_Batch, int, str, float]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.received_foreign = 0

    @staticmethod
    def _open(family: Family, mode: IcmpMode) -> tuple[socket.socket, str]:
        try:
            return FamilySocket._try_open(family, mode)
        except OSError as exc:  # e.g. IPv6 disabled in the kernel: not a permission problem
            raise IcmpUnavailable(f"{family.value} ICMP socket: {describe(exc)}",
                                  error_type_of(exc)) from None

    @staticmethod
    def _try_open(family: Family, mode: IcmpMode) -> tuple[socket.socket, str]:
        proto = socket.IPPROTO_ICMP if family is Family.IPV4 else socket.IPPROTO_ICMPV6
        why: list[str] = []
        if mode in (IcmpMode.AUTO, IcmpMode.DGRAM):
            try:
                return socket.socket(family.af, socket.SOCK_DGRAM, proto), "dgram"
            except OSError as exc:
                if exc.errno not in (errno.EACCES, errno.EPERM, errno.EPROTONOSUPPORT):
                    raise
                why.append(f"unprivileged ICMP sockets are not allowed for group {os.getegid()} "
                           f"(net.ipv4.ping_group_range is '{ping_group_range()}')")
        if mode in (IcmpMode.AUTO, IcmpMode.RAW):
            try:
                return socket.socket(family.af, socket.SOCK_RAW, proto), "raw"
            except PermissionError:
                why.append("raw ICMP sockets need CAP_NET_RAW")
        raise IcmpUnavailable(
            f"{family.value} ICMP cannot run: {' and '.join(why)}; allow it with "
            "sysctl net.ipv4.ping_group_range='0 2147483647' or grant CAP_NET_RAW")

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Read replies in `loop` (moving from a previous loop, e.g. after asyncio.run ended)."""
        if self._loop is loop:
            return
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self.sock.fileno())
        self._loop = loop
        loop.add_reader(self.sock.fileno(), self._on_readable)

    def close(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self.sock.fileno())
        self._loop = None
        self.sock.close()
        for batch, _i, _a, _t in self._pending.values():
            if not batch.future.done():
                batch.future.cancel()
        self._pending.clear()

    def _next_seq(self) -> int:
        for _ in range(0x10000):
            self._seq = (self._seq + 1) & 0xFFFF
            if self._seq not in self._pending:
                return self._seq
        raise OSError(errno.ENOBUFS, "65536 ICMP echoes in flight")

    def _packet(self, seq: int) -> bytes:
        if self.family is Family.IPV6:  # the kernel fills the ICMPv6 checksum (pseudo-header)
            return _HEADER.pack(128, 0, 0, self.ident, seq) + _PAYLOAD
        # only the sequence number changes: add it to the precomputed sum of the rest
        s = self._base_sum + seq
        s = (s >> 16) + (s & 0xFFFF)
        s += s >> 16
        return _HEADER.pack(8, 0, ~s & 0xFFFF, self.ident, seq) + _PAYLOAD

    def send_nowait(self, address: str, batch: _Batch, index: int
                    ) -> tuple[int, bytes, tuple[str, int]] | None:
        """Send one echo without yielding; the reply lands in `batch[index]`. Returns what is
        left to send when the socket buffer is full (finish with `send_blocked`). OSError
        means it was not sent."""
        pending = self._pending
        seq = (self._seq + 1) & 0xFFFF
        if seq in pending:  # rare (65536 numbers): walk to a free one
            seq = self._next_seq()
        else:
            self._seq = seq
        dest = (address, 0)
        pkt = self._packet(seq)
        # replies come from the address without its scope ("fe80::1", not "fe80::1%eth0")
        key = address.partition("%")[0] if "%" in address else address
        pending[seq] = (batch, index, key, time.perf_counter())
        batch.seqs.append(seq)
        try:
            self.sock.sendto(pkt, dest)
        except BlockingIOError:
            return seq, pkt, dest
        except BaseException:
            del pending[seq]
            raise
        return None

    async def send_blocked(self, seq: int, pkt: bytes, dest: tuple[str, int]) -> None:
        assert self._loop is not None
        try:
            await self._loop.sock_sendto(self.sock, pkt, dest)
        except BaseException:
            self._pending.pop(seq, None)
            raise

    async def send(self, address: str, batch: _Batch, index: int) -> None:
        left = self.send_nowait(address, batch, index)
        if left is not None:
            await self.send_blocked(*left)

    def forget(self, batch: _Batch) -> None:
        """Drop the batch's unanswered echoes (a late reply is then ignored)."""
        pending = self._pending
        for seq in batch.seqs:
            p = pending.get(seq)
            if p is not None and p[0] is batch:  # the number may serve another batch now
                del pending[seq]

    def drain(self) -> None:
        """Read what has arrived now, without waiting (also the add_reader callback)."""
        self._on_readable()

    def _on_readable(self) -> None:
        reply = _ECHO_REPLY[self.family]
        raw4 = self.kind == "raw" and self.family is Family.IPV4
        # once per reply of every target: attributes bound to locals, `_Batch.hit` inlined
        recvfrom, pending_of, my_ident = self.sock.recvfrom, self._pending, self.ident
        clock, unpack_from = time.perf_counter, _IDSEQ.unpack_from
        while True:
            try:
                data, src = recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # an ICMP error queued on the socket; the echo times out instead
            now = clock()
            off = (data[0] & 0x0F) * 4 if raw4 and data else 0
            if len(data) < off + 8 or data[off] != reply:
                continue
            ident, seq = unpack_from(data, off + 4)
            if ident != my_ident:
                self.received_foreign += 1
                continue
            pending = pending_of.get(seq)
            if pending is None:
                continue
            host = src[0]
            if pending[2] != (host.partition("%")[0] if "%" in host else host):
                continue
            del pending_of[seq]
            batch, index, _addr, sent = pending
            rtts = batch.rtts
            if rtts[index] is None:  # as batch.hit(index, now - sent)
                rtts[index] = now - sent
                batch.remaining -= 1
                if batch.remaining == 0 and not batch.future.done():
                    batch.future.set_result(None)


GATHER_S = 0.005  # ping_batched: how long a burst waits for more requests to join it


@dataclass(slots=True)
class _Request:
    address: str
    fs: FamilySocket
    future: asyncio.Future[PingStats]


class Pinger:
    """Per-family sockets opened on first use; the reason is kept when one cannot open."""

    def __init__(self, mode: IcmpMode = IcmpMode.AUTO) -> None:
        self.mode = mode
        self._socks: dict[Family, FamilySocket] = {}
        self._unavailable: dict[Family, IcmpUnavailable] = {}
        # ping_batched: requests gathering for the next burst, per (count, interval, timeout)
        self._gathering: dict[tuple[int, float, float], list[_Request]] = {}
        self._bursts: set[asyncio.Task[None]] = set()
        self.bursts_sent = 0  # bursts started by ping_batched (tests count them)

    def socket_for(self, family: Family) -> FamilySocket:
        """Raises IcmpUnavailable (with the reason) when ICMP of this family cannot run."""
        fs = self._socks.get(family)
        if fs is not None:
            fs.attach(asyncio.get_running_loop())  # a no-op unless the loop changed
            return fs
        if family in self._unavailable:  # a fresh exception: re-raising one grows its traceback
            known = self._unavailable[family]
            raise IcmpUnavailable(str(known), known.error_type)
        try:
            fs = FamilySocket(family, self.mode)
        except IcmpUnavailable as exc:
            self._unavailable[family] = exc
            raise
        fs.attach(asyncio.get_running_loop())
        self._socks[family] = fs
        return fs

    def kind(self, family: Family) -> str:
        fs = self._socks.get(family)
        return fs.kind if fs else "none"

    async def ping(self, address: str, *, count: int = 3, interval_s: float = 0.1,
                   timeout_s: float = 1.0) -> PingStats:
        """A burst of `count` echoes `interval_s` apart; waits `timeout_s` after the last."""
        address = normalise_ip(address, keep_scope=True)
        fs = self.socket_for(Family.IPV6 if ":" in address else Family.IPV4)
        loop = asyncio.get_running_loop()
        batch = _Batch(count, loop.create_future())
        stats = PingStats(sent=0)
        try:
            for i in range(count):
                if i:
                    await asyncio.sleep(interval_s)
                try:
                    await fs.send(address, batch, i)
                    stats.sent += 1
                except OSError as exc:  # e.g. no route: lost, and no reason to wait for it
                    stats.sent += 1
                    stats.error, stats.detail = error_type_of(exc), describe(exc)
                    batch.hit(i, math.nan)
            await batch.wait(timeout_s)
        finally:
            fs.forget(batch)
        stats.rtts = [r for r in batch.rtts if r is not None and not math.isnan(r)]
        if stats.rtts:
            stats.error, stats.detail = None, ""
        elif stats.error is None:
            stats.error, stats.detail = ErrorType.TIMEOUT, f"no echo reply within {timeout_s}s"
        return stats

    async def sweep(self, addresses: list[str], *, timeout_s: float = 1.0) -> list[float | None]:
        """One echo to each address at once, both families mixed as given; addresses in the
        canonical form of `normalise_ip`. Returns the RTT or None per address, in order."""
        loop = asyncio.get_running_loop()
        batch = _Batch(len(addresses), loop.create_future())
        used: dict[bool, FamilySocket] = {}  # is IPv6 → its socket, looked up once
        try:
            for i, addr in enumerate(addresses):
                v6 = ":" in addr
                fs = used.get(v6) or used.setdefault(
                    v6, self.socket_for(Family.IPV6 if v6 else Family.IPV4))
                try:
                    left = fs.send_nowait(addr, batch, i)
                    if left is not None:
                        await fs.send_blocked(*left)
                except OSError:
                    batch.hit(i, math.nan)  # not sent: count as an answer to stop waiting
                if i & 63 == 63:  # read replies between sends: a full buffer drops them
                    fs.drain()
            await batch.wait(timeout_s)
        finally:
            for fs in used.values():
                fs.forget(batch)
        return [None if r is None or math.isnan(r) else r for r in batch.rtts]

    async def ping_batched(self, address: str, *, count: int = 3, interval_s: float = 0.1,
                           timeout_s: float = 1.0) -> PingStats:
        """`ping`, but requests made within GATHER_S of each other (one tick's targets: the
        scheduler starts them together) share one burst: each round is one pass of sends
        over every target, then one wait with one timer for all. One tick of N targets
        costs one sweep instead of N tasks each with its own future, timer and sleeps.
        Bad addresses (ValueError) and unavailable sockets (IcmpUnavailable) raise here."""
        address = normalise_ip(address, keep_scope=True)
        fs = self.socket_for(Family.IPV6 if ":" in address else Family.IPV4)
        loop = asyncio.get_running_loop()
        key = (count, interval_s, timeout_s)
        group = self._gathering.get(key)
        if group is None:
            group = self._gathering[key] = []
            loop.call_later(GATHER_S, self._launch, key)
        req = _Request(address, fs, loop.create_future())
        group.append(req)
        return await req.future

    def _launch(self, key: tuple[int, float, float]) -> None:
        reqs = [r for r in self._gathering.pop(key, ()) if not r.future.done()]
        if not reqs:
            return
        self.bursts_sent += 1
        task = asyncio.get_running_loop().create_task(self._burst(reqs, *key))
        self._bursts.add(task)
        task.add_done_callback(self._bursts.discard)

    async def _burst(self, reqs: list[_Request], count: int, interval_s: float,
                     timeout_s: float) -> None:
        try:
            stats = await self._rounds([(r.address, r.fs) for r in reqs], count, interval_s,
                                       timeout_s)
        except BaseException:
            for req in reqs:
                if not req.future.done():
                    req.future.cancel()
            raise
        for req, st in zip(reqs, stats, strict=True):
            if not req.future.done():  # its poll may have timed out meanwhile
                req.future.set_result(st)

    async def ping_many(self, addresses: Sequence[str], *, count: int = 3,
                        interval_s: float = 0.1, timeout_s: float = 1.0
                        ) -> list[PingStats | IcmpUnavailable]:
        """`ping` to every address at once, for a caller that holds all of them (a batch
        poller's tick): one burst as in `ping_batched`, without a future per address or the
        GATHER_S wait. Addresses in the canonical form of `normalise_ip` (scope kept for
        link-local), both families mixed; an address whose family has no ICMP socket gets
        the IcmpUnavailable saying why, the others are pinged."""
        send: list[tuple[str, FamilySocket]] = []
        socks: dict[bool, FamilySocket] = {}  # is IPv6 → its socket, looked up once
        bad: dict[bool, IcmpUnavailable] = {}
        for addr in addresses:
            v6 = ":" in addr
            fs = socks.get(v6)
            if fs is None:
                if v6 in bad:
                    continue
                try:
                    fs = socks[v6] = self.socket_for(Family.IPV6 if v6 else Family.IPV4)
                except IcmpUnavailable as exc:
                    bad[v6] = exc
                    continue
            send.append((addr, fs))
        stats: list[PingStats] = []
        if send:
            self.bursts_sent += 1
            stats = await self._rounds(send, count, interval_s, timeout_s)
        if not bad:  # the common case: the stats are already in the addresses' order
            return list(stats)
        sent = iter(stats)
        out: list[PingStats | IcmpUnavailable] = []
        for addr in addresses:
            why = bad.get(":" in addr)
            out.append(next(sent) if why is None else IcmpUnavailable(str(why), why.error_type))
        return out

    async def _rounds(self, reqs: Sequence[tuple[str, FamilySocket]], count: int,
                      interval_s: float, timeout_s: float) -> list[PingStats]:
        """`count` rounds of one echo to every (address, socket), then one wait for all."""
        batch = _Batch(len(reqs) * count, asyncio.get_running_loop().create_future())
        # a failed send's reason, per request (the last one counts, as in `ping`); the
        # PingStats are built once, at the end: one object per target, no updates
        failed: dict[int, tuple[ErrorType, str]] = {}
        used = {id(fs): fs for _a, fs in reqs}
        try:
            for i in range(count):
                if i:
                    await asyncio.sleep(interval_s)
                for j, (address, fs) in enumerate(reqs):
                    index = j * count + i
                    try:
                        left = fs.send_nowait(address, batch, index)
                        if left is not None:
                            await fs.send_blocked(*left)
                    except OSError as exc:  # e.g. no route: lost, no reason to wait for it
                        failed[j] = (error_type_of(exc), describe(exc))
                        batch.hit(index, math.nan)
                    if j & 63 == 63:  # read replies between sends: a full buffer drops them
                        fs.drain()
            await batch.wait(timeout_s)
        finally:
            for fs in used.values():
                fs.forget(batch)
        rtts = batch.rtts
        lost = f"no echo reply within {timeout_s}s"  # one string for every silent target
        stats: list[PingStats] = []
        # every echo counts as sent, also one whose send failed (as `ping` counts them)
        for j in range(len(reqs)):
            if count == 1:  # a sweep: no slice, no comprehension
                r = rtts[j]
                got = [r] if r is not None and r == r else []  # r == r: not NaN (send failed)
            else:
                got = [r for r in rtts[j * count:(j + 1) * count] if r is not None and r == r]
            if got:  # an answer: a failed send of another round is no error
                stats.append(PingStats(count, got))
            else:
                why = failed.get(j)
                stats.append(PingStats(count, got, *why) if why is not None
                             else PingStats(count, got, ErrorType.TIMEOUT, lost))
        return stats

    def close(self) -> None:
        for task in self._bursts:
            task.cancel()
        for group in self._gathering.values():
            for req in group:
                req.future.cancel()
        self._gathering.clear()
        for fs in self._socks.values():
            fs.close()
        self._socks.clear()
