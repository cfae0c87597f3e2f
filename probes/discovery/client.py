"""scapy, wrapped: the only module that imports it. Crafts and sniffs ARP, NDP, RA, DHCP; hands
NBNS and LLDP payloads to the bounded parsers of probes/discovery/passive.py.

scapy is ~100× slower than a raw socket for sweeps (baselines.md) but handles every LAN
protocol we need; the sweeps here are one packet per address of a /24-ish LAN, so its cost is
fine. Blocking calls (`sendp`) run in `asyncio.to_thread`; the sniffer is scapy's own thread and
hands parsed `Observation`s to the event loop with `loop.call_soon_threadsafe`. Packets are
parsed in that thread into plain dataclasses; a packet scapy cannot make sense of is counted and
dropped, never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import random
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from scapy.config import conf
from scapy.error import Scapy_Exception
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.dhcp6 import (
    DUID_LL,
    DHCP6_Advertise,
    DHCP6_Reply,
    DHCP6_Solicit,
    DHCP6OptClientId,
    DHCP6OptElapsedTime,
    DHCP6OptIA_NA,
    DHCP6OptServerId,
)
from scapy.layers.dns import DNS
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import (
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6ND_RS,
    ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptSrcLLAddr,
    IPv6,
)
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Packet
from scapy.sendrecv import AsyncSniffer, sendp
from scapy.utils6 import in6_getnsma, in6_getnsmac

from probes.discovery.model import (
    AddressSeen,
    DhcpClient,
    DhcpServer,
    HostName,
    LldpMed,
    Observation,
    RouterAdvert,
)
from probes.discovery.passive import nbns_own_name, parse_lldp

log = logging.getLogger("campusmon.discovery")
conf.verb = 0
BPF = ("arp or icmp6 or ether proto 0x88cc or "
       "(udp and (port 67 or port 68 or port 137 or port 546 or port 547 or port 5353))")
ETH_LLDP = 0x88CC
MAX_MDNS_RECORDS = 32  # answers read from one mDNS packet


@dataclass(slots=True)
class CaptureStats:
    packets: int = 0
    bad: int = 0
    filter: str = ""


def _mac(x: object) -> str:
    return str(x).lower()


def parse(pkt: Packet, own_mac: str) -> list[Observation]:
    """One sniffed frame → what it tells us (empty for frames we do not care about)."""
    if Ether not in pkt:
        return []
    src = _mac(pkt[Ether].src)
    if src == own_mac:
        return []
    out: list[Observation] = []
    if pkt[Ether].type == ETH_LLDP:
        # the payload as received (scapy leaves 0x88cc undissected); MalformedFrame → bad
        info = parse_lldp(bytes(pkt[Ether].payload))
        if info is not None:
            out.append(LldpMed(src, info.system_descr, info.software_rev, info.manufacturer,
                               info.model))
        return out
    if ARP in pkt:
        a = pkt[ARP]
        if a.op in (1, 2) and a.psrc and a.psrc != "0.0.0.0":
            out.append(AddressSeen(_mac(a.hwsrc), str(a.psrc), "arp"))
        return out
    if IPv6 in pkt:
        ip6 = pkt[IPv6]
        if ICMPv6ND_RA in pkt:
            ra = pkt[ICMPv6ND_RA]
            prefixes = []
            opt = ra.getlayer(ICMPv6NDOptPrefixInfo)
            i = 1
            while opt is not None:
                prefixes.append(f"{opt.prefix}/{opt.prefixlen}")
                i += 1
                opt = ra.getlayer(ICMPv6NDOptPrefixInfo, i)
            out.append(RouterAdvert(src, str(ip6.src), tuple(prefixes), int(ra.routerlifetime)))
        elif ICMPv6ND_NA in pkt:
            na = pkt[ICMPv6ND_NA]
            lla = pkt.getlayer(ICMPv6NDOptDstLLAddr)
            out.append(AddressSeen(_mac(lla.lladdr) if lla is not None else src, str(na.tgt),
                                   "ndp"))
        elif ICMPv6ND_NS in pkt and ip6.src != "::":
            out.append(AddressSeen(src, str(ip6.src), "ndp"))
        elif ICMPv6EchoReply in pkt:
            out.append(AddressSeen(src, str(ip6.src), "echo6"))
        elif DHCP6_Advertise in pkt or DHCP6_Reply in pkt:
            sid = pkt.getlayer(DHCP6OptServerId)
            duid = bytes(sid.duid).hex() if sid is not None and sid.duid is not None else ""
            out.append(DhcpServer("dhcpv6", src, str(ip6.src), duid))
        return out
    if IP in pkt and UDP in pkt and pkt[UDP].sport == 5353 and DNS in pkt:
        out.extend(_mdns_names(src, pkt[DNS]))
        return out
    if IP in pkt and UDP in pkt and pkt[UDP].sport == 137:  # sent by a NetBIOS name service
        name = nbns_own_name(bytes(pkt[UDP].payload))  # MalformedFrame → counted as bad
        if name:
            out.append(HostName(src, name, "netbios"))
        return out
    if BOOTP in pkt and IP in pkt:
        b = pkt[BOOTP]
        if DHCP not in pkt:
            return out
        opts = {o[0]: o[1] for o in pkt[DHCP].options if isinstance(o, tuple) and len(o) >= 2}
        if b.op == 1:
            if opts.get("message-type") in (1, 3):  # discover, request: a client's fingerprint
                out.append(_dhcp_client(src, opts))
            return out
        if b.op != 2:
            return out
        if opts.get("message-type") in (2, 5):  # offer, ack
            out.append(DhcpServer("dhcp", src, str(pkt[IP].src), str(opts.get("server_id", "")),
                                  str(b.yiaddr)))
    return out


def _mdns_names(mac: str, dns: Packet) -> list[HostName]:
    """Host names a responder announces: A/AAAA answers for `<name>.local.`."""
    if not dns.qr:
        return []
    an = dns.an
    records = list(an) if isinstance(an, list) else [
        an[i] for i in range(min(int(dns.ancount or 0), MAX_MDNS_RECORDS))] if an else []
    names: list[HostName] = []
    for rr in records[:MAX_MDNS_RECORDS]:
        if getattr(rr, "type", None) not in (1, 28):
            continue
        name = _text(rr.rrname, 128).rstrip(".")
        if name.lower().endswith(".local"):
            names.append(HostName(mac, name[: -len(".local")]))
    return names


def _text(v: object, limit: int) -> str:
    raw = v if isinstance(v, bytes) else str(v).encode()
    return raw[:limit].decode("utf-8", errors="replace").replace("\x00", "").strip()


def _dhcp_client(mac: str, opts: dict[object, object]) -> DhcpClient:
    prl = opts.get("param_req_list", ())
    params = tuple(int(x) for x in prl[:64]) if isinstance(prl, list | tuple | bytes) else ()
    return DhcpClient(mac, params, _text(opts.get("vendor_class_id", b""), 128),
                      _text(opts.get("hostname", b""), 64))


@dataclass
class Capture:
    """Passive listening on one interface; observations go to `sink` on the event loop."""

    iface: str
    own_mac: str
    sink: Callable[[Observation], None]
    stats: CaptureStats = field(default_factory=CaptureStats)
    started: threading.Event = field(default_factory=threading.Event)  # socket open
    last_packet: float = 0.0  # time.monotonic() of the last frame handled
    _sniffer: AsyncSniffer | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Raises PermissionError without CAP_NET_RAW (checked here: scapy would only fail
        inside its sniffer thread, where nobody sees it)."""
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003)).close()

        def on_packet(pkt: Packet) -> None:
            self.last_packet = time.monotonic()
            self.stats.packets += 1
            try:
                obs = parse(pkt, self.own_mac)
            except Exception:  # a malformed frame must not kill the sniffer thread
                self.stats.bad += 1
                return
            for o in obs:
                loop.call_soon_threadsafe(self.sink, o)

        for bpf in (BPF, None):  # the filter needs tcpdump to compile; fall back to Python
            try:
                sniffer = AsyncSniffer(iface=self.iface, filter=bpf, prn=on_packet, store=False,
                                       started_callback=self.started.set)
                sniffer.start()
            except (Scapy_Exception, OSError) as exc:
                if bpf is None:
                    raise
                log.info("no kernel filter on %s (%s): filtering in Python", self.iface, exc)
                continue
            self.stats.filter = bpf or "(none)"
            self._sniffer = sniffer
            return

    def wait_quiet(self, quiet_s: float, max_s: float) -> None:
        """Blocking: return once no frame was handled for `quiet_s` (the sniffer thread has
        caught up: under load it lags, and stopping it drops what it has not read yet)."""
        deadline = time.monotonic() + max_s
        while time.monotonic() < deadline:
            idle = time.monotonic() - self.last_packet
            if idle >= quiet_s:
                return
            time.sleep(quiet_s - idle)

    def stop(self) -> None:
        s, self._sniffer = self._sniffer, None
        if s is not None and s.running:
            with contextlib.suppress(Scapy_Exception):
                s.stop(join=True)


def arp_sweep_frames(own_mac: str, own_ip: str, targets: Iterable[str]) -> list[Packet]:
    return [Ether(dst="ff:ff:ff:ff:ff:ff", src=own_mac) /
            ARP(op=1, hwsrc=own_mac, psrc=own_ip, pdst=t) for t in targets]


def ndp_frames(own_mac: str, sources: Iterable[str], solicit: Iterable[str]) -> list[Packet]:
    """Multicast echo to all nodes from each of our addresses (hosts answer from the matching
    scope), a neighbour solicitation for each expected address, and a router solicitation."""
    frames: list[Packet] = []
    srcs = list(sources)
    ident = random.randrange(1, 0xFFFF)
    for seq, src in enumerate(srcs):
        frames.append(Ether(dst="33:33:00:00:00:01", src=own_mac) /
                      IPv6(src=src, dst="ff02::1", hlim=255) /
                      ICMPv6EchoRequest(id=ident, seq=seq, data=b"campusmon"))
    ll = next((s for s in srcs if s.startswith("fe80")), srcs[0] if srcs else None)
    if ll is None:
        return frames
    for addr in solicit:
        nsma = in6_getnsma(ipaddress.IPv6Address(addr).packed)
        dst = str(ipaddress.IPv6Address(nsma))
        frames.append(Ether(dst=in6_getnsmac(nsma), src=own_mac) /
                      IPv6(src=ll, dst=dst, hlim=255) / ICMPv6ND_NS(tgt=addr) /
                      ICMPv6NDOptSrcLLAddr(lladdr=own_mac))
    frames.append(Ether(dst="33:33:00:00:00:02", src=own_mac) /
                  IPv6(src=ll, dst="ff02::2", hlim=255) / ICMPv6ND_RS() /
                  ICMPv6NDOptSrcLLAddr(lladdr=own_mac))
    return frames


def dhcp_frames(own_mac: str, link_local: str | None) -> list[Packet]:
    """A DHCPDISCOVER and a DHCPv6 SOLICIT: every server on the link answers with an offer /
    advertise, which is how an unapproved server shows itself."""
    mac_bytes = bytes.fromhex(own_mac.replace(":", ""))
    frames: list[Packet] = [
        Ether(dst="ff:ff:ff:ff:ff:ff", src=own_mac) /
        IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) /
        BOOTP(chaddr=mac_bytes + b"\0" * 10, xid=random.randrange(1, 2**32), flags=0x8000) /
        DHCP(options=[("message-type", "discover"), "end"])]
    if link_local:
        frames.append(Ether(dst="33:33:00:01:00:02", src=own_mac) /
                      IPv6(src=link_local, dst="ff02::1:2") / UDP(sport=546, dport=547) /
                      DHCP6_Solicit(trid=random.randrange(1, 2**24)) /
                      DHCP6OptElapsedTime() /
                      DHCP6OptClientId(duid=DUID_LL(lladdr=own_mac)) /
                      DHCP6OptIA_NA(iaid=random.randrange(1, 2**32)))
    return frames


def send_frames(iface: str, frames: list[Packet]) -> None:
    """Blocking; call through asyncio.to_thread. scapy's errors become OSError."""
    if not frames:
        return
    try:
        sendp(frames, iface=iface, verbose=False)
    except (Scapy_Exception, ValueError, struct.error) as exc:
        raise OSError(errno.EIO, f"sending on {iface}: {exc}") from None
