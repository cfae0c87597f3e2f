"""Alert rules driven by the real SNMP collector (engineer A's `snmp` poller) against snmpsim
serving real device recordings (../shared/fixtures/snmprec):

- a Cisco IOS-XE (foreign, standards d.1) as the campus egress → foreign_vendor_reserved_role;
- a Huawei VRP core switch polled with community `public` → insecure_snmp;
- the core's port to an access switch is down in the recording → uplink_down;
- snmpsim stops: both fall silent → device_down_snmp, one root alert (the egress router; the core
  behind it is held back), all resolved when snmpsim answers again.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from agent.core.errors import CollectError, PartialCollect
from agent.core.model import Item, Metric
from agent.core.plugin import BuildContext, Target
from collectors.snmp.plugin import SnmpConfig, SnmpPoller
from config.credentials import Credential, SnmpV2cCredential
from inventory.models import Campus, Device, DeviceKind, Inventory
from tests.agent.processors.alerts.helpers import FakeClock, processor
from tests.agent.processors.alerts.rig import Rig
from tests.agent.processors.alerts.sinks import all_sinks, logged
from tests.collectors.snmp.conftest import SnmpAgent, fixtures_dir, start_snmpsim
from tests.exporters.alertmanager.amserver import Alertmanager
from tests.exporters.webhook.receiver import RobotReceiver
from tests.servers import Mosquitto

CREDS: dict[str, Credential] = {
    "cisco": SnmpV2cCredential(name="cisco", type="snmp_v2c",
                               community=SecretStr("iosxe_c3850")),
    "v2c-public": SnmpV2cCredential(name="v2c-public", type="snmp_v2c",
                                    community=SecretStr("public")),
}


@pytest.fixture(scope="module")
def snmp_campus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpAgent]:
    src = fixtures_dir()
    data = Path(tempfile.mkdtemp(prefix="campusmon-alerts-snmprec-"))
    data.chmod(0o755)  # snmpsim drops root: nobody must read it
    shutil.copy(src / "iosxe_c3850.snmprec", data / "iosxe_c3850.snmprec")
    shutil.copy(src / "vrp_5720.snmprec", data / "public.snmprec")
    for f in data.iterdir():
        f.chmod(0o644)
    agent = start_snmpsim(data, tmp_path_factory.mktemp("snmpsim-alerts"), "public")
    yield agent
    agent.stop()
    shutil.rmtree(data, ignore_errors=True)


def _inventory(agent: SnmpAgent, access_port: str) -> Inventory:
    def d(id_: str, kind: DeviceKind, **kw: object) -> Device:
        return Device(id=id_, kind=kind, campus="hn-demo", building="dc", room="dc-101",
                      ipv4=agent.host, **kw)  # type: ignore[arg-type]
    return Inventory.build(Campus("hn-demo", "demo"), (), (), [
        d("egress-router", DeviceKind.ROUTER, roles=frozenset({"egress"}), credential="cisco",
          vendor="Cisco"),
        d("core-sw", DeviceKind.CORE_SWITCH, parent="egress-router", credential="v2c-public",
          roles=frozenset({"core"}), vendor="Huawei"),
        Device(id="acc-9", kind=DeviceKind.ACCESS_SWITCH, campus="hn-demo", building="b",
               room=None, parent="core-sw", parent_port=access_port),  # not polled
    ])


async def _poll(poller: SnmpPoller, inv: Inventory) -> list[tuple[Target, list[Item]]]:
    out = []
    for dev in inv.devices:
        if dev.credential is None:
            continue
        t = Target(id=dev.id, device=dev, ipv4=dev.ipv4, credential=dev.credential)
        try:
            items = list(await poller.poll(t))
        except PartialCollect as exc:
            items = list(exc.items)
        except CollectError:
            items = []
        out.append((t, items))
    return out


@pytest.mark.timeout(180)
async def test_snmp_driven_rules(tmp_path: Path, snmp_campus: SnmpAgent,
                                 alertmanager_e2e: Alertmanager, robots: RobotReceiver,
                                 mosquitto: Mosquitto) -> None:
    cfg = SnmpConfig(port=snmp_campus.port, request_timeout_secs=0.5, retries=0,
                     profiles=["system", "interfaces", "lldp"])
    # first look: which core port is down while enabled (the access switch hangs off it)
    probe_inv = _inventory(snmp_campus, "none")
    ctx = BuildContext(instance="snmp/t", inventory=probe_inv, credentials=CREDS,
                       data_dir=tmp_path, config_dir=tmp_path)
    first = await _poll(SnmpPoller(cfg, ctx), probe_inv)
    core_down = sorted(m.tags["ifname"] for t, items in first if t.id == "core-sw"
                       for m in items if isinstance(m, Metric) and m.name == "snmp_interface"
                       and m.fields.get("oper_status") == 2 and m.fields.get("admin_status") == 1)
    assert core_down, "the recording has no enabled port that is down"
    inv = _inventory(snmp_campus, core_down[0])
    poller = SnmpPoller(cfg, BuildContext(instance="snmp/t", inventory=inv, credentials=CREDS,
                                          data_dir=tmp_path, config_dir=tmp_path))
    run = f"snmp-{time.time_ns()}"
    clock = FakeClock(now_ns=time.time_ns() - 3600 * 10**9)
    proc = processor(inv, clock, {"overrides": {"uplink_down": {"for_secs": 0}}}, CREDS,
                     rule_names=["foreign_vendor_reserved_role", "insecure_snmp", "uplink_down",
                                 "device_down_snmp"])
    rig = Rig(tmp_path, proc, all_sinks(tmp_path, alertmanager_e2e, robots, mosquitto, run))

    async def tick(secs: float = 30) -> None:
        for target, items in await _poll(poller, inv):
            rig.submit(items, target)
        await rig.flush()
        for name in rig.outputs:
            await rig.deliver(name)
        clock.advance(secs)

    def ours() -> dict[str, dict[str, Any]]:
        return {a["annotations"]["key"]: a for a in alertmanager_e2e.alerts()
                if a["labels"].get("run") == run}

    await tick()
    await tick()
    got = ours()
    assert set(got) == {"foreign_vendor_reserved_role:egress-router", "insecure_snmp:core-sw",
                        f"uplink_down:core-sw/{core_down[0]}"}
    summary = got["foreign_vendor_reserved_role:egress-router"]["annotations"]["summary"]
    assert "Cisco" in str(summary) and "(foreign)" in str(summary)
    assert "default community" in str(got["insecure_snmp:core-sw"]["annotations"]["summary"])
    # snmpsim dies: nothing answers SNMP any more
    snmp_campus.server.stop()
    try:
        for _ in range(3):  # silent for 230 s of fake time, past the 180 s absence
            await tick(100)
    finally:
        snmp_campus.server.start()
    got = ours()
    down = sorted(k for k in got if k.startswith("device_down_snmp"))
    assert down == ["device_down_snmp:egress-router"]  # core-sw is behind it: held back
    # held back behind it: core-sw's device_down_snmp and its (earlier) uplink_down
    assert got["device_down_snmp:egress-router"]["annotations"]["held_back"] == "2"
    for _ in range(2):
        await tick()
    assert not any(k.startswith("device_down_snmp") for k in ours())
    keys = [k for k, _ in logged(tmp_path / "alerts.jsonl")]
    assert "device_down_snmp:core-sw" not in keys
    assert all(r.verdict == "ok" for r in robots.received)
    await poller.close()
    rig.close()
