"""Terminal OS census from DHCP fingerprints (agent/shared/platforms.py terminal rules, the
discovery listener's passive capture).

Six terminals, each in its own namespace with its own MAC, broadcast DHCP DISCOVERs crafted from
published fingerprints (sources in docs/standards.md#d-5: Windows 10/11 option 55 + "MSFT 5.0"
as identified by Fingerbank; macOS and iOS option 55 lists from Fingerbank; Android option 55
with vendor class android-dhcp-N; NetworkManager's list for Linux desktops — Kylin and UOS are
told apart by their host names only, which the rule id says). `campusmon discover` runs in the
monitor namespace and must name the right OS family per MAC.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.shared.platforms import terminal_from_dhcp
from tests.probes.netns import Lab, run_in
from tests.servers import REPO, require_root

WIN = "1,3,6,15,31,33,43,44,46,47,119,121,249,252"
NM = "1,2,3,6,12,15,17,26,28,33,40,41,42,119,121,249,252"
TERMINALS = [  # (mac, option 55, option 60, option 12, expected family, domestic)
    ("02:21:00:00:00:01", WIN, "MSFT 5.0", "DESKTOP-7K2M9QX", "Windows", "no"),
    ("02:21:00:00:00:02", NM, "", "kylin-pc", "Kylin", "yes"),
    ("02:21:00:00:00:03", NM, "", "uos-PC", "UOS", "yes"),
    ("02:21:00:00:00:04", "1,121,3,6,15,119,252,95,44,46", "", "", "macOS", "no"),
    ("02:21:00:00:00:05", "1,3,6,15,26,28,51,58,59,43", "android-dhcp-10", "", "Android",
     "no"),
    ("02:21:00:00:00:06", "1,121,3,6,15,108,114,119,252", "", "iPhone", "iOS", "no"),
    ("02:21:00:00:00:07", "1,28,2,3,15,6,12", "", "", "unknown", "unknown"),
]
# a host that only announces its name over mDNS (a static-address laptop): host-name rule
MDNS_ONLY = ("02:21:00:00:00:08", "MacBook-Air", "macOS")


def test_fingerprint_rules_without_a_network() -> None:
    for _, prl, vc, host, family, domestic in TERMINALS:
        v = terminal_from_dhcp([int(x) for x in prl.split(",")], vc, host)
        assert (v.os_family, v.domestic) == (family, domestic), v
        assert (v.rule.startswith("d.5") and v.confidence > 0) or family == "unknown"
    # host name alone is weak; the same name on a NetworkManager request is stronger
    alone = terminal_from_dhcp([1, 3, 6], "", "kylin-pc")
    backed = terminal_from_dhcp([int(x) for x in NM.split(",")], "", "kylin-pc")
    assert alone.os_family == backed.os_family == "Kylin"
    assert alone.confidence < backed.confidence
    v = terminal_from_dhcp((), "", "MacBook-Air", name_source="mdns")
    assert v.os_family == "macOS" and "mdns=MacBook-Air" in v.evidence and v.confidence < 0.5
    # hostile values are bounded, never raised on
    v = terminal_from_dhcp(range(300), "x" * 10_000, "\x00" * 5000)
    assert len(v.evidence) <= 256


@dataclass
class TermLab:
    lab: Lab
    mon: str
    clients: list[str]
    work: Path


@pytest.fixture(scope="module")
def termlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TermLab]:
    require_root()
    work = tmp_path_factory.mktemp("terminals")
    lab = Lab()
    try:
        mon, sw = lab.ns("tmon"), lab.ns("tsw")
        lab.sysctl(sw, "net.ipv6.conf.all.disable_ipv6", "1")
        lab.bridge(sw, "br0")
        lab.veth(mon, "m0", sw, "pm")
        lab.enslave(sw, "pm", "br0")
        lab.addr(mon, "m0", "10.21.0.1/24")
        clients = []
        for i, (mac, *_rest) in enumerate([*TERMINALS, MDNS_ONLY]):
            h = lab.ns(f"t{i}")
            lab.veth(h, "e0", sw, f"p{i}")
            lab.enslave(sw, f"p{i}", "br0")
            lab.mac(h, "e0", mac)
            clients.append(h)
        inv = work / "inventory.yaml"
        inv.write_text("campus: {code: lab, name: Lab}\ndevices: []\n")
        (work / "agent.yaml").write_text(
            f"agent:\n  inventory: {inv}\n  data_dir: {work}/data\ninputs:\n"
            "  - type: lan_discovery\n    interfaces: [m0]\n    arp_sweep: false\n")
        yield TermLab(lab, mon, clients, work)
    finally:
        lab.close()


def _send_discover(mac: str, prl: str, vendor_class: str, hostname: str) -> None:
    """In the terminal's namespace: one DHCPDISCOVER with this fingerprint."""
    from scapy.layers.dhcp import BOOTP, DHCP
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.sendrecv import sendp
    opts: list[object] = [("message-type", "discover"),
                          ("param_req_list", [int(x) for x in prl.split(",")])]
    if vendor_class:
        opts.append(("vendor_class_id", vendor_class.encode()))
    if hostname:
        opts.append(("hostname", hostname.encode()))
    opts.append("end")
    frame = (Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") /
             IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) /
             BOOTP(chaddr=bytes.fromhex(mac.replace(":", "")) + b"\0" * 10, xid=0x2121) /
             DHCP(options=opts))
    sendp(frame, iface="e0", verbose=False)


def _send_mdns(mac: str, name: str) -> None:
    """In the host's namespace: an mDNS response announcing `<name>.local` (RFC 6762)."""
    from scapy.layers.dns import DNS, DNSRR
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.sendrecv import sendp
    frame = (Ether(src=mac, dst="01:00:5e:00:00:fb") / IP(src="10.21.0.88", dst="224.0.0.251") /
             UDP(sport=5353, dport=5353) /
             DNS(id=0, qr=1, aa=1, an=DNSRR(rrname=f"{name}.local.", type="A", ttl=120,
                                            rdata="10.21.0.88")))
    sendp(frame, iface="e0", verbose=False)


@pytest.mark.root
@pytest.mark.timeout(180)
def test_crafted_dhcp_requests_give_the_os_family_per_terminal(termlab: TermLab) -> None:
    proc = subprocess.Popen(
        ["ip", "netns", "exec", termlab.mon, sys.executable, "-m", "agent.app.cli", "discover",
         "m0", "--config", str(termlab.work / "agent.yaml"), "--listen-secs", "8"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        # the sniffer starts some seconds after the process (longer on a loaded machine):
        # clients retransmit, as real DHCP clients do, until the pass ends — bounded
        for _ in range(80):
            time.sleep(0.7)
            if proc.poll() is not None:
                break
            for ns, (mac, prl, vc, host, *_rest) in zip(termlab.clients[:-1], TERMINALS,
                                                         strict=True):
                run_in(ns, _send_discover, mac, prl, vc, host, timeout=20)
            run_in(termlab.clients[-1], _send_mdns, MDNS_ONLY[0], MDNS_ONLY[1], timeout=20)
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    got = {t["mac"]: t for t in json.loads(out)["terminals"]}
    assert set(got) == {t[0] for t in TERMINALS} | {MDNS_ONLY[0]}
    mdns = got[MDNS_ONLY[0]]
    assert mdns["os_family"] == MDNS_ONLY[2] and f"mdns={MDNS_ONLY[1]}" in mdns["evidence"]
    for mac, prl, _vc, _host, family, domestic in TERMINALS:
        t = got[mac]
        assert (t["os_family"], t["domestic"]) == (family, domestic), t
        assert f"55={prl}" in t["evidence"]
