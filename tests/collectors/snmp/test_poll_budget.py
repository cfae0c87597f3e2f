"""A poll that outlasts its timeout keeps what it read: the SNMP plugin stops at its budget
(the framework's timeout less a margin) and hands on the finished steps, where the
framework's cancellation would have dropped the whole poll.

The device is a real recording in snmpsim behind a loopback relay that holds back only the
replies to LLDP-MIB requests: a switch whose LLDP agent is stuck, the rest of it healthy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from agent.core.model import ErrorType, Item, Metric
from agent.core.plugin import BuildContext, Target
from agent.framework.scheduler import PollerRunner, PollerTiming, PollOutcome
from agent.framework.telemetry import PluginStats
from collectors.snmp.plugin import SnmpConfig, build, poll_budget
from config.credentials import SnmpV2cCredential
from inventory.models import Inventory
from tests.collectors.snmp.conftest import SnmpAgent, UdpRelay
from tests.collectors.snmp.simhelpers import pysnmp_decode_request

COMMUNITY = "vrp_5720"  # a Huawei S5720 access switch: 65 interfaces, LLDP, health tables
LLDP = (1, 0, 8802, 1, 1, 2)
TIMEOUT_S = 10.0  # the framework's per-target timeout (the agent's default)


class StuckLldpRelay(UdpRelay):
    """Relays every request at once except LLDP-MIB ones, which never get an answer while
    the test runs (the held replies are cancelled when it ends)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        super().__init__(upstream)
        self.held: set[asyncio.Task[None]] = set()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        request = pysnmp_decode_request(data)
        if any(oid[:len(LLDP)] == LLDP for oid in request.oids):
            task = asyncio.get_running_loop().create_task(asyncio.sleep(3600))
            self.held.add(task)
            return
        super().datagram_received(data, addr)


@pytest.mark.timeout(120)
async def test_a_poll_past_its_budget_hands_on_what_it_read(
        snmpsim_fixtures: SnmpAgent, tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    transport, relay = await loop.create_datagram_endpoint(
        lambda: StuckLldpRelay((snmpsim_fixtures.host, snmpsim_fixtures.port)),
        local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    creds = {COMMUNITY: SnmpV2cCredential(name=COMMUNITY, type="snmp_v2c",
                                          community=COMMUNITY)}
    ctx = BuildContext(instance="snmp/t", inventory=Inventory.empty(), credentials=creds,
                       data_dir=tmp_path, config_dir=tmp_path, timeout_s=TIMEOUT_S)
    # one request may wait 60 s: only the poll's budget can end the stuck LLDP walk
    poller = build(SnmpConfig(transport="pysnmp", credential=COMMUNITY,
                              request_timeout_secs=60, retries=0), ctx)
    got: list[tuple[Sequence[Item], PollOutcome]] = []

    def sink(items: Sequence[Item], target: Target | None, outcome: PollOutcome | None) -> None:
        assert outcome is not None
        got.append((items, outcome))

    stats = PluginStats("snmp", "snmp/t")
    runner = PollerRunner(
        "snmp/t", poller, [Target(id="sw-1", ipv4="127.0.0.1", port=port)],
        PollerTiming(interval_s=60.0, timeout_s=TIMEOUT_S, jitter_s=0.0),
        asyncio.Semaphore(1), asyncio.Semaphore(1), sink, stats)
    t0 = time.monotonic()
    try:
        await runner.run_once()
    finally:
        took = time.monotonic() - t0
        await poller.close()
        transport.close()
        for task in relay.held:
            task.cancel()

    assert relay.held, "the poll never reached the LLDP walk"
    [(items, outcome)] = got
    # the poll ended at its own budget, not at the framework's cancellation
    budget = poll_budget(TIMEOUT_S)
    assert budget is not None and budget <= took < TIMEOUT_S, took
    assert outcome.error is ErrorType.TIMEOUT and not outcome.ok
    assert "budget" in outcome.detail
    by_name: dict[str, list[Metric]] = {}
    for it in items:
        assert isinstance(it, Metric)
        by_name.setdefault(it.name, []).append(it)
    # the steps before LLDP arrived whole: identity, all 65 interfaces, the IPv6 summary
    assert len(by_name["snmp_system"]) == 1
    assert len(by_name["snmp_device_info"]) == 1
    assert len(by_name["snmp_interface"]) == 65
    assert "snmp_ipv6" in by_name
    # the stuck step and the ones after it did not
    assert "snmp_lldp_neighbor" not in by_name
    assert "snmp_cpu" not in by_name
    assert stats.received == len(items)
