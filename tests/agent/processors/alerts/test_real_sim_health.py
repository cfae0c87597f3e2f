"""Device-health rules end to end: the simulated campus (snmpsim) with a hot core board, a
failed fan on the egress router and a UPS on battery is polled by the real `snmp` collector
with its health profiles; the alerts processor raises exactly those alerts and the real
Alertmanager holds them."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from agent.core.errors import CollectError, PartialCollect
from agent.core.model import Item, Metric
from agent.core.plugin import BuildContext, Target
from collectors.snmp.plugin import SnmpConfig, build
from collectors.snmp.sim import SimServer, serve
from collectors.snmp.sim.plan import CampusPlan, Health, Ups, make_plan
from collectors.snmp.sim.write import INVENTORY, credentials_list, write_plan
from config.credentials import Credential, SnmpV2cCredential
from exporters.alertmanager.plugin import AlertmanagerConfig, AlertmanagerExporter
from inventory.loader import load_inventory
from tests.agent.processors.alerts.helpers import FakeClock, processor
from tests.agent.processors.alerts.rig import Rig
from tests.collectors.snmp.simhelpers import world_readable_dir
from tests.exporters.alertmanager.amserver import Alertmanager
from tests.servers import free_port, snmpsim_binary

HEALTH_RULES = ["cpu_high", "memory_high", "temperature_over_threshold", "temperature_high",
                "fan_failed", "psu_failed", "ups_on_battery", "ups_battery_low",
                "optical_power_out_of_range", "poe_budget_near_exhaustion",
                "stp_topology_changing", "port_errors_high"]


@pytest.fixture(scope="module")
def failing_campus() -> Iterator[tuple[CampusPlan, Path, SimServer]]:
    snmpsim_binary()
    work = world_readable_dir("campusmon-health-sim-")
    plan = make_plan(3, 0, campus="health", seed=5, port=free_port("127.0.0.1", kind=2),
                     ups=True)
    plan.device("core-sw").health = Health(temp_c=83, temp_threshold_c=75)  # a hot board
    plan.device("egress-router").health = Health(fans_ok=(True, False))  # a failed fan
    plan.device("ups-1").ups = Ups(on_battery=True, charge_percent=20, minutes_remaining=6,
                                   seconds_on_battery=540)
    write_plan(plan, work / "campus")
    server = serve(work / "campus")
    yield plan, work / "campus", server
    server.stop()
    shutil.rmtree(work, ignore_errors=True)


@pytest.mark.timeout(180)
async def test_health_rules_fire_on_the_simulated_campus(
        tmp_path: Path, failing_campus: tuple[CampusPlan, Path, SimServer],
        alertmanager_e2e: Alertmanager) -> None:
    plan, out, _server = failing_campus
    inv = load_inventory(out / INVENTORY)
    creds: dict[str, Credential] = {
        c["name"]: SnmpV2cCredential(name=c["name"], type="snmp_v2c",
                                     community=SecretStr(c["community"]))
        for c in credentials_list(plan)}
    poller = build(SnmpConfig(port=plan.port, request_timeout_secs=2.0,
                              profiles=["system", "interfaces", "health"]),
                   BuildContext(instance="snmp/t", inventory=inv, credentials=creds,
                                data_dir=tmp_path, config_dir=tmp_path))
    run = f"health-{time.time_ns()}"
    clock = FakeClock(now_ns=time.time_ns() - 3600 * 10**9)
    proc = processor(inv, clock, {"overrides": {r: {"for_secs": 0} for r in HEALTH_RULES},
                                  "topology": {"settle_secs": 0}}, creds,
                     rule_names=HEALTH_RULES)
    rig = Rig(tmp_path, proc, {"am": AlertmanagerExporter(
        AlertmanagerConfig(url=alertmanager_e2e.url, extra_labels={"run": run}))})
    seen: dict[str, list[Metric]] = {}
    for _ in range(2):
        for dev in inv.devices:
            if dev.credential not in creds:
                continue
            t = Target(id=dev.id, device=dev, ipv4=dev.ipv4, credential=dev.credential)
            try:
                items: list[Item] = list(await poller.poll(t))
            except PartialCollect as exc:
                items = list(exc.items)
            except CollectError:
                items = []
            seen[dev.id] = [m for m in items if isinstance(m, Metric)]
            rig.submit(items, t)
        await rig.flush()
        await rig.deliver("am")
        clock.advance(30)
    await poller.close()

    def ours() -> dict[str, dict[str, Any]]:
        return {a["annotations"]["key"]: a for a in alertmanager_e2e.alerts()
                if a["labels"].get("run") == run}

    got = ours()
    assert set(got) == {
        "temperature_over_threshold:core-sw/MPU Board 0",
        "temperature_high:core-sw/MPU Board 0",
        "fan_failed:egress-router/0.2",
        "ups_on_battery:ups-1",
        "ups_battery_low:ups-1",
    }, sorted(got)
    assert got["fan_failed:egress-router/0.2"]["labels"]["severity"] == "critical"
    assert "on battery" in str(got["ups_on_battery:ups-1"]["annotations"]["summary"])
    # every device reported its health, the healthy ones too
    for dev_id in ("core-sw", "egress-router", *(d.id for d in plan.devices
                                                 if d.id.startswith("b"))):
        names = {m.name for m in seen[dev_id]}
        assert {"snmp_cpu", "snmp_memory", "snmp_sensor"} <= names, (dev_id, names)
    ups = next(m for m in seen["ups-1"] if m.name == "snmp_ups")
    assert ups.fields["on_battery"] == 1 and ups.fields["battery_charge_percent"] == 20.0
    assert ups.fields["runtime_remaining_seconds"] == 360.0
    rig.close()
