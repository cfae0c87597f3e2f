"""Malformed and truncated SNMP replies never crash the poll: it ends with a typed error.

A small asyncio UDP proxy on loopback forwards each request to the snmpsim recordings server
and mangles the real reply (truncation, byte flips, garbage, duplicated or swapped datagrams)
before sending it back to the pysnmp session.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import pytest

from agent.errors import CollectError
from agent.model import ErrorType
from collectors.snmp.collect import DevicePoller
from collectors.snmp.records import Profile
from collectors.snmp.session import oid_from_str
from collectors.snmp.transport import TransportKind, TransportOptions, open_session
from config.credentials import SnmpV2cCredential
from tests.collectors.snmp.conftest import SnmpAgent

Mangle = Callable[[bytes, random.Random], list[bytes]]


def truncate(data: bytes, rnd: random.Random) -> list[bytes]:
    return [data[: rnd.randrange(0, len(data))]]


def flip(data: bytes, rnd: random.Random) -> list[bytes]:
    b = bytearray(data)
    for _ in range(rnd.randint(1, 6)):
        b[rnd.randrange(len(b))] ^= 1 << rnd.randrange(8)
    return [bytes(b)]


def garbage(data: bytes, rnd: random.Random) -> list[bytes]:
    return [rnd.randbytes(rnd.randint(0, 300))]


def bad_lengths(data: bytes, rnd: random.Random) -> list[bytes]:
    """Outer SEQUENCE claims more (or less) than there is."""
    b = bytearray(data)
    if len(b) > 4 and b[1] & 0x80:
        b[2] = rnd.randrange(256)
    else:
        b[1] = rnd.randrange(256)
    return [bytes(b)]


def garbage_then_real(data: bytes, rnd: random.Random) -> list[bytes]:
    return [rnd.randbytes(40), data[:-3], data]  # junk first, then the genuine reply


MANGLERS: tuple[Mangle, ...] = (truncate, flip, garbage, bad_lengths, garbage_then_real)


class ManglingProxy(asyncio.DatagramProtocol):
    def __init__(self, upstream: tuple[str, int], mangle: Mangle, seed: int) -> None:
        self.upstream = upstream
        self.mangle = mangle
        self.rnd = random.Random(seed)
        self.transport: asyncio.DatagramTransport | None = None
        self.replies = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        asyncio.get_running_loop().create_task(self._relay(data, addr))

    async def _relay(self, data: bytes, client: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[bytes] = loop.create_future()

        class Once(asyncio.DatagramProtocol):
            def datagram_received(self, d: bytes, a: tuple[str, int]) -> None:
                if not reply.done():
                    reply.set_result(d)

        up, _ = await loop.create_datagram_endpoint(Once, remote_addr=self.upstream)
        try:
            up.sendto(data)
            real = await asyncio.wait_for(reply, 2.0)
        except TimeoutError:
            return
        finally:
            up.close()
        assert self.transport is not None
        for out in self.mangle(real, self.rnd):
            self.transport.sendto(out, client)
            self.replies += 1


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mangle", MANGLERS, ids=lambda m: m.__name__)
async def test_mangled_replies_end_in_a_typed_error(snmpsim_fixtures: SnmpAgent,
                                                    mangle: Mangle) -> None:
    loop = asyncio.get_running_loop()
    transport, proxy = await loop.create_datagram_endpoint(
        lambda: ManglingProxy((snmpsim_fixtures.host, snmpsim_fixtures.port), mangle, 7),
        local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    cred = SnmpV2cCredential(name="f", type="snmp_v2c", community="dahua-nvr")
    options = TransportOptions(timeout_s=0.3, retries=0, max_repetitions=2,
                               transport=TransportKind.PYSNMP)
    outcomes: list[ErrorType | None] = []
    # Keeps the shared engine alive across the short-lived sessions below (as the plugin does).
    keeper = await open_session("127.0.0.1", port, cred, options)
    try:
        for _ in range(6):
            session = await open_session("127.0.0.1", port, cred, options)
            try:
                await session.get([oid_from_str("1.3.6.1.2.1.1.2.0")])
                await session.walk(oid_from_str("1.3.6.1.2.1.2.2.1.2"))
                outcomes.append(None)
            except CollectError as exc:  # the only exception type allowed out of a session
                outcomes.append(exc.error_type)
            finally:
                await session.close()
        # The collector on top keeps going too, and reports what went wrong per walk.
        session = await open_session("127.0.0.1", port, cred, options)
        try:
            result = await DevicePoller(session, [Profile.SYSTEM, Profile.INTERFACES]).run()
            assert all(isinstance(f.error_type, ErrorType) for f in result.failures)
        except CollectError as exc:
            assert isinstance(exc.error_type, ErrorType)
        finally:
            await session.close()
    finally:
        await keeper.close()
        transport.close()
    assert proxy.replies > 0
    allowed = {None, ErrorType.TIMEOUT, ErrorType.PROTOCOL, ErrorType.AUTH}
    assert set(outcomes) <= allowed, outcomes
    if mangle is garbage_then_real:
        assert None in outcomes  # junk is skipped; the genuine reply still counts
