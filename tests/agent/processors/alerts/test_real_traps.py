"""A real net-snmp linkDown trap on the core switch's uplink to an access switch with 20 devices
behind it, through the `snmp_trap` listener, the alerts processor and a real Alertmanager:

- one root alert (`link_down_reported:core-sw/GE1/0/1`) reaches Alertmanager, at once;
- the poller agrees (the same port polled down): its `uplink_down` is held back by the trap's
  alert (one outage, one alert), and the 20 devices and the access switch behind the port are
  held back by topology: no notification for any of them;
- the linkUp trap resolves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from agent.core.model import Metric
from agent.core.plugin import BuildContext, ListenerContext, PushExporter, Target
from agent.framework.snapshot import Snapshot
from collectors.snmp_trap.config import SnmpTrapConfig
from collectors.snmp_trap.plugin import build
from config.credentials import Credential, SnmpV2cCredential
from exporters.alertlog.plugin import AlertLogConfig, AlertLogExporter
from exporters.alertmanager.plugin import AlertmanagerConfig, AlertmanagerExporter
from inventory.models import DeviceKind, Inventory
from tests.agent.processors.alerts.helpers import FakeClock, campus, dev, icmp, ifstatus, processor
from tests.agent.processors.alerts.rig import Rig
from tests.agent.processors.alerts.sinks import logged
from tests.collectors.snmp_trap.helpers import wait_for
from tests.exporters.alertmanager.amserver import Alertmanager
from tests.servers import require_binary

CREDS: dict[str, Credential] = {"traps": SnmpV2cCredential(
    name="traps", type="snmp_v2c", community=SecretStr("trap-s3cret"))}
LINK_DOWN, LINK_UP = "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.6.3.1.1.5.4"


def inventory(n_behind: int = 20) -> Inventory:
    devices = [
        dev("egress-router", DeviceKind.ROUTER, roles=["egress"], building="dc",
            ipv4="127.0.0.2"),
        dev("core-sw", DeviceKind.CORE_SWITCH, parent="egress-router", building="dc",
            ipv4="127.0.0.1"),
        dev("acc-1", DeviceKind.ACCESS_SWITCH, parent="core-sw", port="GE1/0/1"),
    ]
    for i in range(n_behind):
        kind = DeviceKind.AP if i % 2 == 0 else DeviceKind.CAMERA
        devices.append(dev(f"leaf-{i:02d}", kind, parent="acc-1", port=f"GE0/0/{i + 1}"))
    return campus(devices)


async def trap(port: int, oid: str, oper: int) -> None:
    proc = await asyncio.create_subprocess_exec(
        "snmptrap", "-v", "2c", "-c", "trap-s3cret", f"127.0.0.1:{port}", "", oid,
        "1.3.6.1.2.1.2.2.1.1.1", "i", "1", "1.3.6.1.2.1.2.2.1.7.1", "i", "1",
        "1.3.6.1.2.1.2.2.1.8.1", "i", str(oper))
    assert await proc.wait() == 0


@pytest.mark.timeout(120)
async def test_link_down_trap_on_uplink_is_one_root_alert(
        tmp_path: Path, alertmanager_e2e: Alertmanager) -> None:
    require_binary("snmptrap")
    inv = inventory()
    run = f"traps-{time.time_ns()}"
    clock = FakeClock(now_ns=time.time_ns() - 3600 * 10**9)
    proc = processor(inv, clock, {"overrides": {"uplink_down": {"for_secs": 0}}}, CREDS,
                     rule_names=["link_down_reported", "uplink_down", "device_down_icmp"])
    sinks: dict[str, PushExporter] = {
        "am": AlertmanagerExporter(AlertmanagerConfig(url=alertmanager_e2e.url,
                                                      extra_labels={"run": run})),
        "log": AlertLogExporter(AlertLogConfig(path=str(tmp_path / "alerts.jsonl")), tmp_path),
    }
    rig = Rig(tmp_path, proc, sinks)
    snap = Snapshot(ttl_secs=3600)
    snap.update([ifstatus(inv, "core-sw", "GE1/0/1", up=True)])  # what the poller knows
    lst = build(SnmpTrapConfig(listen=["127.0.0.1:0"], communities=["traps"],
                               report_interval_secs=3600),
                BuildContext(instance="snmp_trap/t", inventory=inv, credentials=CREDS,
                             data_dir=tmp_path, config_dir=tmp_path, snapshot=snap))
    targets = [Target(id=d.id, device=d, ipv4=d.ipv4) for d in inv.devices]
    got_traps: list[str] = []

    def emit(items: Any, target: Target | None = None) -> None:
        got_traps.extend(i.labels.get("trap", "") for i in items if hasattr(i, "labels"))
        rig.submit(items, target)

    task = asyncio.create_task(lst.run(ListenerContext(emit, targets, lambda _e: None)))
    await asyncio.wait_for(lst.ready.wait(), 10)
    port = lst.bound[0][1]
    behind = ["acc-1", *(d.id for d in inv.devices if d.id.startswith("leaf-"))]

    async def poll(port_up: bool, hosts_up: bool, secs: float = 30) -> None:
        items: list[Metric] = [ifstatus(inv, "core-sw", "GE1/0/1", up=port_up)]
        items += [icmp(inv, d, hosts_up) for d in behind]
        for m in items:
            rig.submit([m], next(t for t in targets if t.id == m.tags["device"]))
        await rig.flush()
        for name in rig.outputs:
            await rig.deliver(name)
        clock.advance(secs)

    def ours() -> dict[str, dict[str, Any]]:
        return {a["annotations"]["key"]: a for a in alertmanager_e2e.alerts()
                if a["labels"].get("run") == run}

    try:
        await poll(True, True)
        await trap(port, LINK_DOWN, 2)
        assert await wait_for(lambda: "IF-MIB::linkDown" in got_traps)
        for _ in range(5):  # 150 s: past device_down_icmp's for_secs and the settle time
            await poll(False, False)
        got = ours()
        assert list(got) == ["link_down_reported:core-sw/GE1/0/1"]
        root = got["link_down_reported:core-sw/GE1/0/1"]
        assert root["labels"]["device"] == "core-sw" and root["labels"]["ifname"] == "GE1/0/1"
        # held back: acc-1 and the 20 behind it (device_down_icmp) and the polled uplink_down
        assert root["annotations"]["held_back"] == str(len(behind) + 1)
        keys = {k for k, _ in logged(tmp_path / "alerts.jsonl")}
        assert keys == {"link_down_reported:core-sw/GE1/0/1"}
        # the link comes back: linkUp trap, polls agree
        await trap(port, LINK_UP, 1)
        assert await wait_for(lambda: "IF-MIB::linkUp" in got_traps)
        for _ in range(3):
            await poll(True, True)
        states = logged(tmp_path / "alerts.jsonl")
        assert states == [("link_down_reported:core-sw/GE1/0/1", "raised"),
                          ("link_down_reported:core-sw/GE1/0/1", "resolved")]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        rig.close()
