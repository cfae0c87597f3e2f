"""`FastSession`: an `SnmpSession` for SNMPv2c over the shared per-loop dispatcher.

Per device: timeout and retries per request, at most `max_in_flight` requests outstanding
(through the collector's `RequestLimiter`: per device and global), and GETBULK walks through the
transport-neutral `walker.bulk_walk`, whose max-repetitions steps down on timeout or tooBig
(the Huawei AC6605 sends nothing back for its 12 KB VLAN bitmaps at 6 or more repetitions).
Only the wire format and the socket handling are this module's own.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from agent.core.errors import CollectError
from agent.core.model import ErrorType
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
from collectors.snmp.limits import RequestLimiter
from collectors.snmp.session import InBounds, Oid, VarBind
from collectors.snmp.walker import (
    ColumnResult,
    Repetitions,
    TooBigError,
    bulk_walk,
    bulk_walk_many,
)


@dataclass(frozen=True, slots=True)
class FastOptions:
    port: int = 161
    timeout_s: float = 2.0
    retries: int = 1
    max_repetitions: int = 25
    min_repetitions: int = 1
    max_in_flight: int = 1
    max_get_oids: int = 32  # OIDs per GET PDU; halves on tooBig


class FastSession:
    """One device, SNMPv2c. Used from one event loop (the one of its first request)."""

    def __init__(self, host: str, community: str | bytes, options: FastOptions | None = None,
                 *, limiter: RequestLimiter | None = None, reps: Repetitions | None = None
                 ) -> None:
        self.host = host
        self.options = options or FastOptions()
        self._community = community.encode() if isinstance(community, str) else community
        self._encoder = RequestEncoder(self._community)
        self._addr: tuple[str, int] | None = None
        self._family = socket.AF_INET
        self._dispatcher: _dispatch.Dispatcher | None = None  # borrowed on first request
        self._closed = False
        self._limiter = limiter or RequestLimiter(max(1, self.options.max_in_flight), None)
        self.reps = reps or Repetitions(self.options.max_repetitions,
                                        self.options.min_repetitions)
        self.requests = 0  # counters for benches and debugging
        self.timeouts = 0

    # -- SnmpSession ----------------------------------------------------------------------
    async def get(self, oids: Sequence[Oid]) -> list[VarBind]:
        out: list[VarBind] = []
        clean = True  # every reply InBounds: so is the answer (bounds.screen skips it)
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
            if [vb.oid for vb in resp.varbinds] != [tuple(o) for o in part]:
                raise CollectError(ErrorType.PROTOCOL, f"{self.host}: GET of {len(part)} OIDs "
                                   f"answered with {len(resp.varbinds)} other varbinds")
            out.extend(resp.varbinds)
            clean = clean and type(resp.varbinds) is InBounds
            i += len(part)
        return InBounds(out) if clean else out

    async def walk(self, root: Oid) -> list[VarBind]:
        """GETBULK walk of `root`; PartialCollect (items = varbinds) keeps what arrived."""
        return await bulk_walk(self._bulk, tuple(root), self.reps)

    async def walk_many(self, roots: Sequence[Oid]) -> list[ColumnResult]:
        """Several columns side by side, several per GETBULK (walker.bulk_walk_many)."""
        return await bulk_walk_many(self._bulk_many, roots, self.reps)

    async def _bulk(self, oid: Oid, max_repetitions: int) -> list[VarBind]:
        return await self._bulk_many((oid,), max_repetitions)

    async def _bulk_many(self, oids: Sequence[Oid], max_repetitions: int) -> list[VarBind]:
        resp = await self._request(GETBULK, oids, 0, max_repetitions)
        if resp.error_status == TOO_BIG:
            raise TooBigError(f"{self.host}: tooBig at max-repetitions {max_repetitions}")
        if resp.error_status != NO_ERROR:
            raise CollectError(ErrorType.PROTOCOL,
                               f"{self.host}: GETBULK errorStatus {resp.error_status}")
        return resp.varbinds

    async def close(self) -> None:
        self._closed = True
        if self._dispatcher is not None:
            _dispatch.release(self._dispatcher)
            self._dispatcher = None

    # -- internals ------------------------------------------------------------------------
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

    async def _request(self, pdu: int, oids: Sequence[Oid], non_rep: int, max_rep: int
                       ) -> Response:
        if self._closed:
            raise CollectError(ErrorType.INTERNAL, "session is closed")
        d = self._dispatcher
        if d is None:
            d = self._dispatcher = _dispatch.acquire()
        addr = self._addr or await self._resolve()
        self._addr = addr
        rid = d.new_request_id()
        payload = self._encoder.encode(pdu, rid, oids, non_rep, max_rep)
        tries = self.options.retries + 1
        timeout = self.options.timeout_s
        loop = asyncio.get_running_loop()
        async with self._limiter.slot(), d.in_flight:
            try:
                for _ in range(tries):
                    fut = d.expect(rid, addr)
                    timer = loop.call_later(timeout, _expire, fut)
                    try:
                        d.send(self._family, addr, payload)
                    except OSError as exc:  # no route, broadcast refused, family disabled
                        timer.cancel()
                        raise CollectError(ErrorType.UNREACHABLE,
                                           f"{self.host}: cannot send: {exc}") from None
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
