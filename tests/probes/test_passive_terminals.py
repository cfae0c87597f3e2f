"""NetBIOS and LLDP-MED as passive terminal evidence (probes/discovery/passive.py → the
`terminal_os` rows of the discovery listener, docs/standards.md#d-5).

NBNS frames are built to RFC 1002 §4.2 (name registration request: opcode 5, the question is
the sender's own name; positive name query response; a name query, which names somebody else
and must not be taken as the sender's). LLDP-MED frames carry what lldpd fills on a Linux
desktop (system description `PRETTY_NAME uname`, LLDP-MED inventory software revision = the
kernel release, manufacturer/model from DMI) for Kylin V10 (kernel `.ky10.`) and UOS 20. A
switch announcing LLDP-MED as a network-connectivity device is no terminal. Hostile frames
(TLV lengths past the end, broken NetBIOS name encoding) are counted as bad and dropped.
"""

from __future__ import annotations

import contextlib
import json
import random
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from probes.discovery.passive import MalformedFrame, nbns_own_name, parse_lldp
from tests.probes.netns import Lab, run_in
from tests.servers import REPO, require_root

TIA = b"\x00\x12\xbb"


def nbns(name: str, opcode: int = 5, response: bool = False, suffix: int = 0x00) -> bytes:
    """An NBNS packet with one name (RFC 1002 first-level encoding, no scope)."""
    flags = (0x8000 if response else 0) | (opcode << 11) | 0x0100 | (0 if response else 0x10)
    raw = name.upper().encode("ascii").ljust(15)[:15] + bytes([suffix])
    qname = b"\x20" + b"".join(bytes([0x41 + (b >> 4), 0x41 + (b & 0xF)]) for b in raw) + b"\0"
    rr = struct.pack(">HHIH", 0x20, 1, 300000, 6) + b"\x00\x00" + bytes([10, 22, 0, 9])
    if response:  # answer section: the name and its address record
        return struct.pack(">6H", 0x4242, flags, 0, 1, 0, 0) + qname + rr
    if opcode == 0:  # a query: the question only
        return struct.pack(">6H", 0x4242, flags, 1, 0, 0, 0) + qname + struct.pack(">HH", 0x20, 1)
    return (struct.pack(">6H", 0x4242, flags, 1, 0, 0, 1) + qname + struct.pack(">HH", 0x20, 1)
            + b"\xc0\x0c" + rr)


def tlv(kind: int, value: bytes) -> bytes:
    return struct.pack(">H", (kind << 9) | len(value)) + value


def lldp(mac: str, descr: str, software: str = "", maker: str = "", model: str = "",
         device_type: int = 1) -> bytes:
    m = bytes.fromhex(mac.replace(":", ""))
    out = tlv(1, b"\x04" + m) + tlv(2, b"\x03" + m) + tlv(3, b"\x00\x78")
    out += tlv(5, b"pc") + tlv(6, descr.encode())
    out += tlv(127, TIA + b"\x01" + b"\x00\x33" + bytes([device_type]))
    for sub, text in ((7, software), (9, maker), (10, model)):
        if text:
            out += tlv(127, TIA + bytes([sub]) + text.encode())
    return out + tlv(0, b"")


KYLIN_KERNEL = "4.19.90-52.22.v2207.ky10.x86_64"
# (mac, what is sent, expected os_family, domestic) — None: must not become a terminal
WIN_REG = ("02:22:00:00:00:01", "nbns-register DESKTOP-7K2M9QX", "Windows", "no")
WIN_ANSWER = ("02:22:00:00:00:02", "nbns-answer LAPTOP-AB12CD3", "Windows", "no")
QUERIER = ("02:22:00:00:00:03", "nbns-query KYLIN-PC", None, None)
KYLIN = ("02:22:00:00:00:04", "lldp kylin", "Kylin", "yes")
UOS = ("02:22:00:00:00:05", "lldp uos", "UOS", "yes")
SWITCH = ("02:22:00:00:00:06", "lldp switch", None, None)
HOSTILE = "02:22:00:00:00:07"


def frames() -> list[tuple[str, str, bytes]]:
    """(src mac, kind, payload): kind `lldp` is an Ethernet payload, `nbns` a UDP one."""
    return [
        (WIN_REG[0], "nbns", nbns("DESKTOP-7K2M9QX")),
        (WIN_ANSWER[0], "nbns", nbns("LAPTOP-AB12CD3", opcode=0, response=True)),
        (QUERIER[0], "nbns", nbns("KYLIN-PC", opcode=0)),
        (KYLIN[0], "lldp", lldp(KYLIN[0], f"Kylin V10 SP3 Linux {KYLIN_KERNEL} #1 SMP x86_64",
                                KYLIN_KERNEL, "Lenovo", "开天 M740J")),
        (UOS[0], "lldp", lldp(UOS[0], "UnionTech OS Desktop 20 Pro Linux 5.10.0-amd64-desktop",
                              "5.10.0-amd64-desktop", "Lenovo", "开天 M630Z")),
        (SWITCH[0], "lldp", lldp(SWITCH[0], "Ubuntu 22.04 Linux 5.15.0-91-generic",
                                 device_type=4)),
        # hostile: a TLV claiming 500 bytes in a 20-byte LLDPDU; a NetBIOS name outside A-P
        (HOSTILE, "lldp", tlv(1, b"\x04" + b"\x02" * 6) + struct.pack(">H", (6 << 9) | 500)
         + b"x" * 10),
        (HOSTILE, "nbns", nbns("BROKEN")[:13] + b"\xff" * 40),
    ]


def test_parsers_classify_and_refuse_without_a_network() -> None:
    assert nbns_own_name(nbns("DESKTOP-7K2M9QX")) == "DESKTOP-7K2M9QX"
    assert nbns_own_name(nbns("LAPTOP-AB12CD3", opcode=0, response=True)) == "LAPTOP-AB12CD3"
    assert nbns_own_name(nbns("KYLIN-PC", opcode=0)) is None  # somebody else's name
    assert nbns_own_name(nbns("WORKGROUP", suffix=0x1E)) is None  # a group name
    info = parse_lldp(lldp(KYLIN[0], "Kylin V10", KYLIN_KERNEL, "Lenovo", "开天 M740J"))
    assert info is not None and info.software_rev == KYLIN_KERNEL and info.model == "开天 M740J"
    assert parse_lldp(lldp(SWITCH[0], "Ubuntu", device_type=4)) is None
    assert parse_lldp(tlv(1, b"\x04abcdef") + tlv(0, b"")) is None  # plain LLDP, no MED
    for _mac, kind, payload in frames()[-2:]:
        with pytest.raises(MalformedFrame):
            (parse_lldp if kind == "lldp" else nbns_own_name)(payload)
    # every truncation and random corruption of the good frames: parsed or MalformedFrame,
    # never another exception (bounded: a few thousand inputs)
    rng = random.Random(21)
    for _mac, kind, payload in frames()[:-2]:
        parse = parse_lldp if kind == "lldp" else nbns_own_name
        for cut in range(len(payload)):
            with contextlib.suppress(MalformedFrame):
                parse(payload[:cut])
        for _ in range(300):
            b = bytearray(payload)
            for _k in range(rng.randrange(1, 6)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            with contextlib.suppress(MalformedFrame):
                parse(bytes(b))
    many = tlv(1, b"\x04abcdef") + tlv(5, b"x") * 200 + tlv(0, b"")
    with pytest.raises(MalformedFrame):
        parse_lldp(many)


@dataclass
class PassiveLab:
    lab: Lab
    mon: str
    host: str
    work: Path


@pytest.fixture(scope="module")
def plab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PassiveLab]:
    require_root()
    work = tmp_path_factory.mktemp("passive")
    lab = Lab()
    try:
        mon, host = lab.ns("pmon"), lab.ns("phost")
        # one veth pair, no bridge: a Linux bridge does not forward LLDP's 01:80:c2:00:00:0e
        lab.veth(mon, "m0", host, "e0")
        lab.addr(mon, "m0", "10.22.0.1/24")
        inv = work / "inventory.yaml"
        inv.write_text("campus: {code: lab, name: Lab}\ndevices: []\n")
        (work / "agent.yaml").write_text(
            f"agent:\n  inventory: {inv}\n  data_dir: {work}/data\ninputs:\n"
            "  - type: lan_discovery\n    interfaces: [m0]\n    arp_sweep: false\n")
        yield PassiveLab(lab, mon, host, work)
    finally:
        lab.close()


def _send(batch: list[tuple[str, str, bytes]]) -> None:
    """In the host namespace: each frame with its own source MAC (the terminals)."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw
    from scapy.sendrecv import sendp
    out = []
    for i, (mac, kind, payload) in enumerate(batch):
        if kind == "lldp":
            out.append(Ether(src=mac, dst="01:80:c2:00:00:0e", type=0x88CC) / Raw(payload))
        else:
            out.append(Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") /
                       IP(src=f"10.22.0.{10 + i}", dst="10.22.0.255") /
                       UDP(sport=137, dport=137) / Raw(payload))
    sendp(out, iface="e0", verbose=False)


@pytest.mark.root
@pytest.mark.timeout(180)
def test_netbios_and_lldp_med_give_the_os_family_per_terminal(plab: PassiveLab) -> None:
    proc = subprocess.Popen(
        ["ip", "netns", "exec", plab.mon, sys.executable, "-m", "agent.app.cli", "discover",
         "m0", "--config", str(plab.work / "agent.yaml"), "--listen-secs", "8"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        # the sniffer starts some seconds after the process: terminals repeat their
        # announcements (as NBNS refreshes and LLDP's 30 s timer do) until the pass ends
        for _ in range(80):
            time.sleep(0.7)
            if proc.poll() is not None:
                break
            run_in(plab.host, _send, frames(), timeout=20)
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    doc = json.loads(out)
    got = {t["mac"]: t for t in doc["terminals"]}
    for mac, _what, family, domestic in (WIN_REG, WIN_ANSWER, KYLIN, UOS):
        t = got[mac]
        assert (t["os_family"], t["domestic"]) == (family, domestic), t
        assert 0 < t["confidence"] <= 0.95 and t["rule"].startswith("d.5"), t
    assert "netbios=DESKTOP-7K2M9QX" in got[WIN_REG[0]]["evidence"]
    assert "d.3 kernel suffix .ky10." in got[KYLIN[0]]["rule"]
    assert "mfr=Lenovo" in got[KYLIN[0]]["evidence"]
    # LLDP-MED kernel + description agree: stronger than a NetBIOS name alone
    assert got[KYLIN[0]]["confidence"] > got[WIN_REG[0]]["confidence"]
    for mac in (QUERIER[0], SWITCH[0], HOSTILE):
        assert mac not in got, got.get(mac)
    assert doc["capture"]["bad_frames"] >= 2, doc["capture"]
