"""link_saturation from the real SNMP collector against engineer B's simulated campus (snmpsim,
counters advancing at planned rates): the egress router's ISP uplink is planned at 96% of its
speed, so two polls a few seconds apart give a rate the rule flags; no other port is near it.
The collector's LLDP and FDB series also reach the processor's topology."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent.core.errors import CollectError, PartialCollect
from agent.core.model import Item
from agent.core.plugin import BuildContext, Target
from collectors.snmp.plugin import SnmpConfig, SnmpPoller
from collectors.snmp.sim import SimServer, serve
from collectors.snmp.sim.plan import CampusPlan, make_plan
from collectors.snmp.sim.write import INVENTORY, credentials_list, write_plan
from config.credentials import Credential, SnmpV2cCredential
from inventory.loader import load_inventory
from tests.agent.processors.alerts.helpers import FakeClock, processor
from tests.agent.processors.alerts.rig import Rig
from tests.agent.processors.alerts.sinks import logged
from tests.collectors.snmp.simhelpers import world_readable_dir
from tests.servers import free_port, snmpsim_binary


@pytest.fixture(scope="module")
def saturated_campus() -> Iterator[tuple[CampusPlan, Path, SimServer]]:
    snmpsim_binary()
    work = world_readable_dir("campusmon-alerts-sim-")
    plan = make_plan(2, 2, campus="satur", seed=3, port=free_port("127.0.0.1", kind=2))
    router = next(d for d in plan.devices if "egress" in d.roles)
    isp = next(i for i in router.interfaces if i.index == router.uplink_if)
    isp.in_rate = int(isp.speed_mbps * 1_000_000 / 8 * 0.96)  # 96% inbound
    write_plan(plan, work / "campus")
    server = serve(work / "campus")
    yield plan, work / "campus", server
    server.stop()
    shutil.rmtree(work, ignore_errors=True)


@pytest.mark.timeout(120)
async def test_saturated_uplink_from_the_simulated_campus(
        tmp_path: Path, saturated_campus: tuple[CampusPlan, Path, SimServer]) -> None:
    from exporters.alertlog.plugin import AlertLogConfig, AlertLogExporter

    plan, out, _server = saturated_campus
    inv = load_inventory(out / INVENTORY)
    creds: dict[str, Credential] = {
        c["name"]: SnmpV2cCredential(name=c["name"], type="snmp_v2c",
                                     community=SecretStr(c["community"]))
        for c in credentials_list(plan)}
    poller = SnmpPoller(SnmpConfig(port=plan.port, request_timeout_secs=2.0,
                                   profiles=["system", "interfaces", "lldp", "fdb"]),
                        BuildContext(instance="snmp/t", inventory=inv, credentials=creds,
                                     data_dir=tmp_path, config_dir=tmp_path))
    clock = FakeClock()
    proc = processor(inv, clock, {"overrides": {"link_saturation": {"for_secs": 0}}}, creds,
                     rule_names=["link_saturation"])
    rig = Rig(tmp_path, proc, {"log": AlertLogExporter(
        AlertLogConfig(path=str(tmp_path / "alerts.jsonl")), tmp_path)})
    polled = [d for d in inv.devices if d.credential in creds]
    for round_ in range(2):
        if round_:
            await asyncio.sleep(3.0)  # the counters advance in real time
        for dev in polled:
            t = Target(id=dev.id, device=dev, ipv4=dev.ipv4, credential=dev.credential)
            try:
                items: list[Item] = list(await poller.poll(t))
            except PartialCollect as exc:
                items = list(exc.items)
            except CollectError:
                items = []
            rig.submit(items, t)
        await rig.flush()
        await rig.deliver("log")
        clock.advance(60)
    await poller.close()
    router = next(d for d in plan.devices if "egress" in d.roles)
    isp = next(i for i in router.interfaces if i.index == router.uplink_if)
    raised = [k for k, s in logged(tmp_path / "alerts.jsonl") if s == "raised"]
    assert raised == [f"link_saturation:{router.id}/{isp.name}"]
    assert proc.topology is not None
    lldp, fdb = proc.topology.learned
    assert lldp and fdb, "LLDP and FDB series from the collector reached the topology"
    rig.close()
