"""Requests in flight are bounded per device (1 by default) and globally, seen on the wire."""

from __future__ import annotations

import asyncio

import pytest

from collectors.snmp.session import oid_from_str
from collectors.snmp.transport import TransportKind, TransportOptions, open_session
from config.credentials import SnmpV2cCredential
from tests.collectors.snmp.conftest import SnmpAgent, start_relay

UPTIME = oid_from_str("1.3.6.1.2.1.1.3.0")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("per_device", [1, 3])
async def test_per_device_inflight_bound(snmpsim_fixtures: SnmpAgent, per_device: int) -> None:
    transport, relay, port = await start_relay(
        (snmpsim_fixtures.host, snmpsim_fixtures.port), delay_s=0.05)
    cred = SnmpV2cCredential(name="c", type="snmp_v2c", community="vrp_5720")
    session = await open_session("127.0.0.1", port, cred, TransportOptions(
        timeout_s=2.0, retries=0, max_inflight_per_device=per_device,
        transport=TransportKind.PYSNMP))
    try:
        results = await asyncio.gather(*(session.get([UPTIME]) for _ in range(12)))
    finally:
        await session.close()
        transport.close()
    assert all(r[0].value for r in results)
    assert relay.max_inflight == per_device


@pytest.mark.timeout(60)
async def test_global_inflight_bound_across_devices(snmpsim_fixtures: SnmpAgent) -> None:
    transport, relay, port = await start_relay(
        (snmpsim_fixtures.host, snmpsim_fixtures.port), delay_s=0.05)
    options = TransportOptions(timeout_s=2.0, retries=0, max_inflight_per_device=4,
                               max_inflight_global=2, transport=TransportKind.PYSNMP)
    sessions = [await open_session("127.0.0.1", port, SnmpV2cCredential(
        name=c, type="snmp_v2c", community=c), options) for c in ("vrp_5720", "vrp_ne", "bison")]
    try:
        await asyncio.gather(*(s.get([UPTIME]) for s in sessions for _ in range(4)))
    finally:
        for s in sessions:
            await s.close()
        transport.close()
    assert relay.max_inflight == 2


@pytest.mark.timeout(60)
async def test_two_sessions_to_one_agent_share_its_bound(snmpsim_fixtures: SnmpAgent) -> None:
    """Two plugin instances polling the same switch still send it one request at a time."""
    transport, relay, port = await start_relay(
        (snmpsim_fixtures.host, snmpsim_fixtures.port), delay_s=0.05)
    options = TransportOptions(timeout_s=2.0, retries=0, transport=TransportKind.PYSNMP)
    cred = SnmpV2cCredential(name="c", type="snmp_v2c", community="vrp_5720")
    a = await open_session("127.0.0.1", port, cred, options)
    b = await open_session("127.0.0.1", port, cred, options)
    try:
        await asyncio.gather(*(s.get([UPTIME]) for s in (a, b) for _ in range(4)))
    finally:
        await a.close()
        await b.close()
        transport.close()
    assert relay.max_inflight == 1
