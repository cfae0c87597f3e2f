"""`FastSession`: an `SnmpSession` for SNMPv2c over the shared per-loop dispatcher.

Per device: timeout and retries per request, at most `max_in_flight` requests outstanding
(1 by default: small switch CPUs drop what they cannot queue), GETBULK walks whose
max-repetitions step down when the device times out or answers tooBig, and the value that
worked is remembered per subtree. The Huawei AC6605 is the case in point: its 12 KB VLAN
bitmaps make a reply of 6 or more repetitions exceed a UDP datagram, and it then sends nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from agent.errors import CollectError, PartialCollect
from agent.model import ErrorType
from collectors.snmp.fast import dispatcher as _dispatch
from collectors.snmp.fast.ber import (
    GET,
    GETBULK,
    NO_ERROR,
    TOO_BIG,
    BerError,
    RequestEncoder,
    Response,
    decode_response,
)
from collectors.snmp.session import Oid, SnmpType, VarBind

# Lowering max-repetitions walks down this ladder (the largest rung below the current value).
_LADDER = (100, 50, 25, 10, 5, 2, 1)


def step_down(max_repetitions: int) -> int:
    return next((r for r in _LADDER if r < max_repetitions), 1)


class PartialWalk(PartialCollect):
    """A walk stopped early; `varbinds` holds what arrived (in order) before the failure."""

    def __init__(self, varbinds: list[VarBind], error_type: ErrorType, message: str) -> None:
        super().__init__([], error_type, message)
        self.varbinds = varbinds


@dataclass(frozen=True, slots=True)
class FastOptions:
    port: int = 161
    timeout_s: float = 2.0
    retries: int = 1
    max_repetitions: int = 25
    max_in_flight: int = 1
    max_get_oids: int = 32  # OIDs per GET PDU; halves on tooBig
    max_walk_varbinds: int = 1_000_000  # a runaway agent cannot walk us forever


class FastSession:
    """One device, SNMPv2c. Used from one event loop (the one of its first request)."""

    def __init__(self, host: str, community: str | bytes, options: FastOptions | None = None
                 ) -> None:
        self.host = host
        self.options = options or FastOptions()
        self._community = community.encode() if isinstance(community, str) else community
        self._encoder = RequestEncoder(self._community)
        self._addr: tuple[str, int] | None = None
        self._family = socket.AF_INET
        self._dispatcher: _dispatch.Dispatcher | None = None  # borrowed on first request
        self._closed = False
        self._slots = asyncio.Semaphore(max(1, self.options.max_in_flight))
        self._max_rep_for: dict[Oid, int] = {}
        self.requests = 0  # counters for benches and debugging
        self.timeouts = 0

    # -- SnmpSession ----------------------------------------------------------------------
    async def get(self, oids: Sequence[Oid]) -> list[VarBind]:
        out: list[VarBind] = []
        chunk = max(1, self.options.max_get_oids)
        i = 0
        while i < len(oids):
            part = oids[i:i + chunk]
            resp = await self._request(GET, part, 0, 0)
            if resp.error_status == TOO_BIG and len(part) > 1:
                chunk = max(1, len(part) // 2)
                continue
            if resp.error_status != NO_ERROR:
                raise CollectError(ErrorType.PROTOCOL, f"{self.host}: GET failed with "
                                   f"errorStatus {resp.error_status} at {resp.error_index}")
            if len(resp.varbinds) != len(part):
                raise CollectError(ErrorType.PROTOCOL, f"{self.host}: GET of {len(part)} OIDs "
                                   f"answered with {len(resp.varbinds)} varbinds")
            out.extend(resp.varbinds)
            i += len(part)
        return out

    async def walk(self, root: Oid) -> list[VarBind]:
        root = tuple(root)
        n = len(root)
        out: list[VarBind] = []
        cur = root
        max_rep = self._max_rep_for.get(root, self.options.max_repetitions)
        attempts_left = self.options.retries + 1
        limit = self.options.max_walk_varbinds
        end_of_view = SnmpType.END_OF_MIB_VIEW
        stepped = False
        while True:
            try:
                resp = await self._request(GETBULK, (cur,), 0, max_rep, attempts=1)
            except CollectError as exc:
                if exc.error_type is not ErrorType.TIMEOUT:
                    raise self._partial(out, exc.error_type, str(exc)) from None
                # Silence after a GETBULK most often means the reply would not fit a datagram
                # (no tooBig comes back): step down the ladder without spending a retry. The
                # ladder is short, so a dead device still fails after a bounded number of tries.
                if max_rep > 1:
                    max_rep = step_down(max_rep)
                    stepped = True
                    continue
                attempts_left -= 1
                if attempts_left <= 0:
                    raise self._partial(out, ErrorType.TIMEOUT, str(exc)) from None
                continue
            if resp.error_status == TOO_BIG and max_rep > 1:
                max_rep = step_down(max_rep)
                stepped = True
                continue
            if stepped:  # remember only a value the device has answered with
                self._max_rep_for[root] = max_rep
                stepped = False
            if resp.error_status != NO_ERROR:
                raise self._partial(out, ErrorType.PROTOCOL,
                                    f"{self.host}: GETBULK errorStatus {resp.error_status}")
            attempts_left = self.options.retries + 1
            vbs = resp.varbinds
            if not vbs:
                return out
            for vb in vbs:
                oid = vb.oid
                if vb.type is end_of_view or oid[:n] != root:
                    return out
                if oid <= cur:
                    raise self._partial(out, ErrorType.PROTOCOL,
                                        f"{self.host}: OID not increasing after {cur}")
                out.append(vb)
                cur = oid
            if len(out) >= limit:
                raise self._partial(out, ErrorType.PROTOCOL,
                                    f"{self.host}: walk of {root} exceeds {limit} varbinds")

    async def close(self) -> None:
        self._closed = True
        if self._dispatcher is not None:
            _dispatch.release(self._dispatcher)
            self._dispatcher = None

    # -- internals ------------------------------------------------------------------------
    def _partial(self, got: list[VarBind], error_type: ErrorType, message: str
                 ) -> CollectError:
        if got:
            return PartialWalk(got, error_type, message)
        return CollectError(error_type, message)

    async def _resolve(self) -> tuple[str, int]:
        host = self.host.strip("[]")
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            ip = await self._lookup(host)
        self._family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        return (ip.compressed, self.options.port)

    async def _lookup(self, host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, self.options.port, type=socket.SOCK_DGRAM)
        except OSError as exc:
            raise CollectError(ErrorType.DNS, f"{host}: {exc}") from None
        if not infos:
            raise CollectError(ErrorType.DNS, f"{host}: no address")
        return ipaddress.ip_address(infos[0][4][0])

    async def _request(self, pdu: int, oids: Sequence[Oid], non_rep: int, max_rep: int,
                       attempts: int | None = None) -> Response:
        if self._closed:
            raise CollectError(ErrorType.INTERNAL, "session is closed")
        d = self._dispatcher
        if d is None:
            d = self._dispatcher = _dispatch.acquire()
        addr = self._addr or await self._resolve()
        self._addr = addr
        rid = d.new_request_id()
        payload = self._encoder.encode(pdu, rid, oids, non_rep, max_rep)
        tries = attempts if attempts is not None else self.options.retries + 1
        timeout = self.options.timeout_s
        loop = asyncio.get_running_loop()
        async with self._slots, d.in_flight:
            try:
                for _ in range(tries):
                    fut = d.expect(rid, addr)
                    timer = loop.call_later(timeout, _expire, fut)
                    d.send(self._family, addr, payload)
                    self.requests += 1
                    try:
                        data = await fut
                    finally:
                        timer.cancel()
                    if data is None:
                        self.timeouts += 1
                        continue
                    try:
                        resp = decode_response(data, self._community)
                    except BerError as exc:
                        raise CollectError(ErrorType.PROTOCOL,
                                           f"{self.host}: malformed response: {exc}") from None
                    return resp
            finally:
                d.forget(rid)
        raise CollectError(ErrorType.TIMEOUT,
                           f"{self.host}: no response after {tries} attempt(s) of {timeout}s")


def _expire(fut: asyncio.Future[bytes | None]) -> None:
    if not fut.done():
        fut.set_result(None)
