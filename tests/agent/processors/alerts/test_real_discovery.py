"""Alert rules driven by the real LAN discovery listener (engineer C's `lan_discovery`) on a
namespace LAN: an unregistered host, an address conflict, a rogue router advertising IPv6
prefixes and handing out DHCP. The listener runs inside the monitor namespace (forked child);
its emitted batches go through the alerts processor to Alertmanager and the alert log. When
the rogue box is unplugged, its alerts resolve.

    mon ── bridge ns sw ── reg  00:e0:fc:98:00:01 10.98.5.11 (registered)
                       ├── intr c0:56:e3:98:00:04 10.98.5.14 (not registered)
                       ├── dup  02:98:00:00:00:05 10.98.5.11 (claims reg's address)
                       ├── gw   00:e0:fc:98:20:02 10.98.5.2  dnsmasq: DHCP + RA (allowed)
                       └── rog  c0:56:e3:98:20:66 10.98.5.66 dnsmasq: DHCP + RA (rogue)
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent.core.model import Event, Item
from agent.core.plugin import ListenerContext, Target
from inventory.models import Campus, Device, DeviceKind, Inventory
from probes.discovery.plugin import DiscoveryConfig, LanDiscovery
from tests.agent.processors.alerts.helpers import FakeClock, processor
from tests.agent.processors.alerts.rig import Rig
from tests.agent.processors.alerts.sinks import logged
from tests.exporters.alertmanager.amserver import Alertmanager
from tests.probes.netns import Lab, run_in, sh
from tests.servers import require_binary, require_root

GW_MAC, ROGUE_MAC = "00:e0:fc:98:20:02", "c0:56:e3:98:20:66"
INV = Inventory.build(Campus("lab", "Lab"), (), (), [
    Device("reg-1", DeviceKind.SERVER, "lab", None, None, ipv4="10.98.5.11",
           mac="00:e0:fc:98:00:01"),
    Device("gw", DeviceKind.ROUTER, "lab", None, None, ipv4="10.98.5.2", mac=GW_MAC),
])
CFG = DiscoveryConfig(interfaces=["m0"], sweep_interval_secs=3.0, listen_secs=2.0,
                      allowed_routers=[GW_MAC], allowed_dhcp_servers=[GW_MAC],
                      resolve_after_passes=2)


@dataclass
class LanLab:
    lab: Lab
    mon: str
    rogue_ns: str


def _dnsmasq(lab: Lab, ns: str, work: Path, tag: str, v4: str, v6: str) -> None:
    lab.spawn(ns, [require_binary("dnsmasq"), "--no-daemon", "--conf-file=/dev/null",
                   "--no-resolv", "--no-hosts", "--port=0", "--interface=e0",
                   "--bind-interfaces", "--user=root", f"--pid-file={work}/{tag}.pid",
                   f"--dhcp-leasefile={work}/{tag}.leases", f"--dhcp-range={v4},1h",
                   f"--dhcp-range={v6},64,1h", "--enable-ra"], work / f"dnsmasq-{tag}.log")


@pytest.fixture(scope="module")
def lanlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LanLab]:
    require_root()
    work = tmp_path_factory.mktemp("alerts-lan")
    lab = Lab()
    try:
        mon, sw = lab.ns("mon"), lab.ns("sw")
        for key in ("all", "default"):
            lab.sysctl(sw, f"net.ipv6.conf.{key}.disable_ipv6", "1")
        lab.bridge(sw, "br0")
        lab.veth(mon, "m0", sw, "pm")
        lab.enslave(sw, "pm", "br0")
        lab.addr(mon, "m0", "10.98.5.1/24", "fd00:98:5::1/64")
        hosts = [("reg", "00:e0:fc:98:00:01", "10.98.5.11"), ("intr", "c0:56:e3:98:00:04",
                 "10.98.5.14"), ("dup", "02:98:00:00:00:05", "10.98.5.11"),
                 ("gw", GW_MAC, "10.98.5.2"), ("rog", ROGUE_MAC, "10.98.5.66")]
        rogue_ns = ""
        for i, (tag, mac, a4) in enumerate(hosts):
            h = lab.ns(tag)
            lab.veth(h, "e0", sw, f"p{i}")
            lab.enslave(sw, f"p{i}", "br0")
            lab.mac(h, "e0", mac)
            lab.addr(h, "e0", f"{a4}/24", f"fd00:98:5::{i + 20}/64")
            if tag == "gw":
                _dnsmasq(lab, h, work, "gw", "10.98.5.100,10.98.5.150",
                         "fd00:98:5::100,fd00:98:5::1ff")
            elif tag == "rog":
                _dnsmasq(lab, h, work, "rogue", "10.98.5.200,10.98.5.250",
                         "fd00:98:5::1:100,fd00:98:5::1:1ff")
                rogue_ns = h
        time.sleep(1.0)  # dnsmasq up and sending its first RAs
        yield LanLab(lab, mon, rogue_ns)
    finally:
        lab.close()


def _listen(before: int, after: int, rogue_ns: str) -> tuple[list[list[Item]],
                                                           list[list[Item]]]:
    """Run one discovery listener (in the monitor namespace) for `before` emissions, unplug
    the rogue box, and go on for `after` more."""
    batches: list[list[Item]] = []

    async def go() -> None:
        lst = LanDiscovery(CFG, INV)
        enough = asyncio.Event()
        want = before

        def emit(items: Sequence[Item], target: Target | None = None) -> None:
            batches.append(list(items))
            if len(batches) >= want:
                enough.set()

        task = asyncio.create_task(lst.run(ListenerContext(emit, [], lambda e: None)))
        try:
            await asyncio.wait_for(enough.wait(), timeout=before * 5 + 10)
            sh("ip", "-n", rogue_ns, "link", "set", "e0", "down")
            want = before + after
            enough.clear()
            await asyncio.wait_for(enough.wait(), timeout=after * 5 + 10)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await lst.close()

    asyncio.run(go())
    return batches[:before], batches[before:]


@pytest.mark.timeout(120)
async def test_lan_security_alerts_from_real_discovery(
        tmp_path: Path, lanlab: LanLab, alertmanager_e2e: Alertmanager) -> None:
    from exporters.alertlog.plugin import AlertLogConfig, AlertLogExporter
    from exporters.alertmanager.plugin import AlertmanagerConfig, AlertmanagerExporter

    run = f"lan-{time.time_ns()}"
    clock = FakeClock(now_ns=time.time_ns() - 3600 * 10**9)
    proc = processor(INV, clock, rule_names=["unregistered_device", "address_conflict",
                                             "rogue_ra", "rogue_dhcp"])
    rig = Rig(tmp_path, proc, {
        "am": AlertmanagerExporter(AlertmanagerConfig(url=alertmanager_e2e.url,
                                                      extra_labels={"run": run})),
        "log": AlertLogExporter(AlertLogConfig(path=str(tmp_path / "alerts.jsonl")), tmp_path)})

    async def feed(batches: list[list[Item]]) -> None:
        for items in batches:
            rig.submit(items)
            await rig.flush()
            for name in rig.outputs:
                await rig.deliver(name)
            clock.advance(3)

    def ours() -> dict[str, dict[str, Any]]:
        return {a["annotations"]["key"]: a for a in alertmanager_e2e.alerts()
                if a["labels"].get("run") == run}

    first, second = run_in(lanlab.mon, _listen, 2, 2, lanlab.rogue_ns, timeout=90)
    raw = [i for b in first for i in b if isinstance(i, Event)]
    await feed(first)
    got = ours()
    assert {k for k in got if k.startswith("rogue_ra:")} == {f"rogue_ra:rogue_ra:{ROGUE_MAC}"}
    assert {k for k in got if k.startswith("rogue_dhcp:")} >= {
        f"rogue_dhcp:rogue_dhcp:dhcp:{ROGUE_MAC}"}
    assert "address_conflict:conflict:10.98.5.11" in got
    assert "unregistered_device:unregistered:c0:56:e3:98:00:04" in got
    assert not any(GW_MAC in k for k in got)  # the approved router is not rogue
    assert got[f"rogue_ra:rogue_ra:{ROGUE_MAC}"]["labels"]["team"] == "security"
    # one alert, notified once, per fact the discovery raised
    keys = [k for k, s in logged(tmp_path / "alerts.jsonl") if s == "raised"]
    assert len(keys) == len(set(keys)) == len(raw)
    # the rogue box was unplugged: after two passes without it, its alerts resolve
    await feed(second)
    left = ours()
    assert not any(ROGUE_MAC in k for k in left), sorted(left)
    assert "address_conflict:conflict:10.98.5.11" in left  # still there
    resolved = {k for k, s in logged(tmp_path / "alerts.jsonl") if s == "resolved"}
    assert f"rogue_ra:rogue_ra:{ROGUE_MAC}" in resolved
    rig.close()
