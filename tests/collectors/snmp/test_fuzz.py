"""Malformed and truncated SNMP replies never crash the poll: it ends with a typed error.

A small asyncio UDP proxy on loopback forwards each request to the snmpsim recordings server
and mangles the real reply (truncation, byte flips, garbage, duplicated or swapped datagrams)
before sending it back to the pysnmp session.
"""

from __future__ import annotations

import random

import pytest

from agent.core.errors import CollectError
from agent.core.model import ErrorType
from collectors.snmp.collect import DevicePoller
from collectors.snmp.records import Profile
from collectors.snmp.session import oid_from_str
from collectors.snmp.transport import TransportKind, TransportOptions, open_session
from config.credentials import SnmpV2cCredential
from tests.collectors.snmp.conftest import Mangle, SnmpAgent, start_relay


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


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mangle", MANGLERS, ids=lambda m: m.__name__)
async def test_mangled_replies_end_in_a_typed_error(snmpsim_fixtures: SnmpAgent,
                                                    mangle: Mangle) -> None:
    transport, proxy, port = await start_relay(
        (snmpsim_fixtures.host, snmpsim_fixtures.port), mangle=mangle, seed=7)
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
