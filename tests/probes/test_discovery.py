"""LAN discovery on namespace LANs joined by a bridge, through `campusmon discover`.

LAN 1: the monitor and five hosts; the inventory registers three → exactly two unregistered.
LAN 2: an approved router/DHCP server (dnsmasq: DHCPv4, DHCPv6, router advertisements) and an
unapproved one doing the same → rogue RA and rogue DHCP/DHCPv6 for the unapproved one only.
The command runs inside the monitor namespace (`ip netns exec`), as root (raw sockets).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from inventory.models import Campus, Device, DeviceKind, Inventory
from probes.discovery.analyse import analyse
from probes.discovery.model import AddressSeen, DhcpServer, Observation, RouterAdvert
from probes.discovery.oui import OuiTable
from tests.probes.netns import Lab
from tests.servers import REPO, require_binary, require_root

pytestmark = [pytest.mark.root, pytest.mark.timeout(180)]

HOSTS = [  # (mac, ipv4, ipv6, registered)
    ("00:e0:fc:99:00:01", "10.99.10.11", "fd00:99:10::11", True),
    ("00:e0:fc:99:00:02", "10.99.10.12", "fd00:99:10::12", True),
    ("00:e0:fc:99:00:03", "10.99.10.13", "fd00:99:10::13", True),
    ("c0:56:e3:99:00:04", "10.99.10.14", "fd00:99:10::14", False),
    ("02:99:00:00:00:05", "10.99.10.15", "fd00:99:10::15", False),
]
GW_MAC, ROGUE_MAC = "00:e0:fc:99:20:02", "c0:56:e3:99:20:66"


@dataclass
class LanLab:
    lab: Lab
    mon: str
    work: Path


def _dnsmasq(lab: Lab, ns: str, work: Path, tag: str, v4: str, v6: str) -> None:
    dnsmasq = require_binary("dnsmasq")
    lab.spawn(ns, [dnsmasq, "--no-daemon", "--conf-file=/dev/null", "--no-resolv",
                   "--no-hosts", "--port=0", "--interface=e0", "--bind-interfaces",
                   "--user=root", f"--pid-file={work}/{tag}.pid",
                   f"--dhcp-leasefile={work}/{tag}.leases", f"--dhcp-range={v4},1h",
                   f"--dhcp-range={v6},64,1h", "--enable-ra", "--log-dhcp"],
              work / f"dnsmasq-{tag}.log")


@pytest.fixture(scope="module")
def lanlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LanLab]:
    require_root()
    work = tmp_path_factory.mktemp("lan")
    lab = Lab()
    try:
        mon = lab.ns("mon")
        for lan_no, (tag, mon_if, mon_v4, mon_v6) in enumerate(
                (("l1", "m0", "10.99.10.1/24", "fd00:99:10::1/64"),
                 ("l2", "m1", "10.99.20.1/24", "fd00:99:20::1/64"))):
            sw = lab.ns(tag)
            lab.sysctl(sw, "net.ipv6.conf.all.disable_ipv6", "1")  # the switch stays silent
            lab.sysctl(sw, "net.ipv6.conf.default.disable_ipv6", "1")
            lab.bridge(sw, "br0")
            lab.veth(mon, mon_if, sw, f"pm{lan_no}")
            lab.enslave(sw, f"pm{lan_no}", "br0")
            lab.addr(mon, mon_if, mon_v4, mon_v6)
            members = ([(m, a4, a6) for m, a4, a6, _ in HOSTS] if lan_no == 0 else
                       [(GW_MAC, "10.99.20.2", "fd00:99:20::2"),
                        (ROGUE_MAC, "10.99.20.66", "fd00:99:20::66")])
            for i, (mac, a4, a6) in enumerate(members):
                h = lab.ns(f"h{lan_no}{i}")
                lab.veth(h, "e0", sw, f"p{i}")
                lab.enslave(sw, f"p{i}", "br0")
                lab.mac(h, "e0", mac)
                lab.addr(h, "e0", f"{a4}/24", f"{a6}/64")
                if mac == GW_MAC:
                    _dnsmasq(lab, h, work, "gw", "10.99.20.100,10.99.20.150",
                             "fd00:99:20::100,fd00:99:20::1ff")
                elif mac == ROGUE_MAC:
                    _dnsmasq(lab, h, work, "rogue", "10.99.20.200,10.99.20.250",
                             "fd00:99:20::1:100,fd00:99:20::1:1ff")
        inv = work / "inventory.yaml"
        inv.write_text("campus: {code: lab, name: Lab}\ndevices:\n" + "".join(
            f"  - {{id: host{i + 1}, kind: server, mac: '{m}', ipv4: {a4}, ipv6: '{a6}'}}\n"
            for i, (m, a4, a6, reg) in enumerate(HOSTS) if reg))
        (work / "agent.yaml").write_text(
            f"agent:\n  inventory: {inv}\n  data_dir: {work}/data\ninputs:\n"
            "  - type: lan_discovery\n    interfaces: [m0, m1]\n"
            f"    allowed_routers: ['{GW_MAC}']\n"
            f"    allowed_dhcp_servers: ['{GW_MAC}', '10.99.20.2']\n")
        yield LanLab(lab, mon, work)
    finally:
        lab.close()


def _discover(ll: LanLab, iface: str) -> dict[str, Any]:
    r = subprocess.run(["ip", "netns", "exec", ll.mon, sys.executable, "-m", "agent.app.cli",
                        "discover", iface, "--config", str(ll.work / "agent.yaml"),
                        "--listen-secs", "5"], capture_output=True, text=True, cwd=REPO,
                       timeout=90)
    assert r.returncode == 0, r.stderr
    doc: dict[str, Any] = json.loads(r.stdout)
    return doc


def test_discovery_reports_exactly_the_unregistered_hosts(lanlab: LanLab) -> None:
    doc = _discover(lanlab, "m0")
    by_mac = {h["mac"]: h for h in doc["hosts"]}
    assert set(by_mac) == {m for m, *_ in HOSTS}  # the monitor itself is not a host
    for mac, a4, a6, registered in HOSTS:
        h = by_mac[mac]
        assert a4 in h["ipv4"] and a6 in h["ipv6"], h
        assert h["status"] == ("registered" if registered else "unregistered")
    unreg = [e for e in doc["events"] if e["kind"] == "unregistered_device"]
    assert sorted(e["key"] for e in unreg) == ["unregistered:02:99:00:00:00:05",
                                               "unregistered:c0:56:e3:99:00:04"]
    assert by_mac["c0:56:e3:99:00:04"]["vendor"].startswith("Hangzhou Hikvision")
    assert by_mac["00:e0:fc:99:00:01"]["vendor"].startswith("HUAWEI")
    assert by_mac["02:99:00:00:00:05"]["vendor"] == "(locally administered address)"
    assert doc["summary"]["unregistered"] == 2 and doc["summary"]["registered"] == 3
    assert doc["conflicts"] == []
    assert doc["router_advertisements"]["rogue"] == []
    assert doc["dhcp_servers"]["rogue"] == []


def test_rogue_router_advertisements_and_dhcp_servers(lanlab: LanLab) -> None:
    doc = _discover(lanlab, "m1")
    ra = doc["router_advertisements"]
    assert [r["mac"] for r in ra["rogue"]] == [ROGUE_MAC]
    assert [r["mac"] for r in ra["allowed"]] == [GW_MAC]
    assert "fd00:99:20::/64" in ra["rogue"][0]["prefixes"]
    rogue = sorted((d["kind"], d["mac"]) for d in doc["dhcp_servers"]["rogue"])
    assert rogue == [("dhcp", ROGUE_MAC), ("dhcpv6", ROGUE_MAC)]
    allowed = sorted((d["kind"], d["mac"]) for d in doc["dhcp_servers"]["allowed"])
    assert allowed == [("dhcp", GW_MAC), ("dhcpv6", GW_MAC)]
    keys = sorted(e["key"] for e in doc["events"] if e["kind"] in ("rogue_ra", "rogue_dhcp"))
    assert keys == [f"rogue_dhcp:dhcp:{ROGUE_MAC}", f"rogue_dhcp:dhcpv6:{ROGUE_MAC}",
                    f"rogue_ra:{ROGUE_MAC}"]


def test_address_conflicts_from_observations() -> None:
    """Pure analysis: a registered address answered by another MAC, and one address claimed
    by two MACs in one pass."""
    inv = Inventory.build(Campus("lab", "Lab"), (), (), (
        Device("cam-1", DeviceKind.CAMERA, "lab", None, None, ipv4="10.0.0.5",
               mac="c0:56:e3:00:00:05"),
        Device("nas", DeviceKind.SERVER, "lab", None, None, ipv4="10.0.0.6")))
    obs: list[Observation] = [
           AddressSeen("c0:56:e3:00:00:05", "10.0.0.5", "arp"),
           AddressSeen("02:00:00:00:00:99", "10.0.0.5", "arp"),  # impostor
           AddressSeen("02:00:00:00:00:07", "10.0.0.6", "arp"),  # matches a MAC-less device
           AddressSeen("02:00:00:00:00:08", "10.0.0.8", "arp"),
           AddressSeen("02:00:00:00:00:09", "10.0.0.8", "arp"),
           RouterAdvert("02:00:00:00:00:aa", "fe80::1", ("2001:db8::/64",)),
           DhcpServer("dhcp", "02:00:00:00:00:bb", "10.0.0.1", "10.0.0.1", "10.0.0.50")]
    d = analyse("eth0", obs, inv, ["fe80::1"], [], OuiTable(Path("/nonexistent/oui.txt")))
    assert [(c.address, c.macs, c.registered_device) for c in d.conflicts] == [
        ("10.0.0.5", ["02:00:00:00:00:99", "c0:56:e3:00:00:05"], "cam-1"),
        ("10.0.0.8", ["02:00:00:00:00:08", "02:00:00:00:00:09"], None)]
    status = {h.mac: (h.status, h.device) for h in d.hosts}
    assert status["02:00:00:00:00:07"] == ("registered", "nas")
    assert status["c0:56:e3:00:00:05"] == ("registered", "cam-1")
    assert d.rogue_ra == [] and len(d.allowed_ra) == 1  # allowed by its address
    assert [x.mac for x in d.rogue_dhcp] == ["02:00:00:00:00:bb"]
    assert "ieee-data" in d.notes[0]  # the OUI table is missing: said, not crashed
    keys = {e.key for e in d.events()}
    assert {"conflict:10.0.0.5", "conflict:10.0.0.8", "rogue_dhcp:dhcp:02:00:00:00:00:bb",
            "unregistered:02:00:00:00:00:99"} <= keys


def test_listener_in_the_agent_emits_lan_hosts_and_events(lanlab: LanLab) -> None:
    """`campusmon once --listen-secs` runs the lan_discovery listener for one pass."""
    cfg = lanlab.work / "agent-once.yaml"
    cfg.write_text((lanlab.work / "agent.yaml").read_text().replace(
        "interfaces: [m0, m1]", "interfaces: [m0]\n    listen_secs: 4\n"
        "    sweep_interval_secs: 600"))
    r = subprocess.run(["ip", "netns", "exec", lanlab.mon, sys.executable, "-m", "agent.app.cli",
                        "once", "--config", str(cfg), "--listen-secs", "12"],
                       capture_output=True, text=True, cwd=REPO, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    [hosts] = [line for line in lines if line.startswith("lan_hosts,")]
    assert "interface=m0" in hosts and "unregistered=2i" in hosts and "registered=3i" in hosts
    events = [line for line in lines if line.startswith("event,")]
    assert sum("event_kind=unregistered_device" in e for e in events) == 2, events
