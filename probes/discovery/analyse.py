"""Discovery observations compared with the inventory: pure functions, no I/O.

- a host is *registered* when the inventory knows its MAC, or knows one of its addresses on a
  device without a recorded MAC; otherwise *unregistered*;
- an *address conflict* is an address claimed by two MACs in one pass, or an inventory address
  answered by a MAC other than the registered one;
- a *rogue RA* / *rogue DHCP server* is one whose MAC and source address are both absent from
  `allowed_routers` / `allowed_dhcp_servers`.
Event keys are stable so downstream deduplication works: `unregistered:<mac>`,
`conflict:<address>`, `rogue_ra:<mac>`, `rogue_dhcp:<kind>:<mac>`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.core.model import Event, EventState, Metric, Severity
from agent.shared.platforms import (
    TERMINAL_OS,
    TerminalVerdict,
    terminal_from_dhcp,
    terminal_from_lldp,
)
from inventory.models import Inventory
from probes.common import is_ip, normalise_ip
from probes.discovery.model import (
    AddressSeen,
    DhcpClient,
    DhcpServer,
    Host,
    HostName,
    LldpMed,
    Observation,
    RouterAdvert,
)
from probes.discovery.oui import OuiTable


def norm_id(text: str) -> str:
    """A MAC or an address from config, in the form observations use."""
    t = text.strip().lower().replace("-", ":")
    return normalise_ip(t) if is_ip(t) else t


@dataclass(slots=True)
class HostReport:
    mac: str
    vendor: str | None
    ipv4: list[str]
    ipv6: list[str]
    status: str  # registered | unregistered
    device: str | None = None
    seen_via: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Conflict:
    address: str
    macs: list[str]
    registered_device: str | None = None
    registered_mac: str | None = None


@dataclass(slots=True)
class Discovery:
    interface: str
    hosts: list[HostReport] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    rogue_ra: list[RouterAdvert] = field(default_factory=list)
    allowed_ra: list[RouterAdvert] = field(default_factory=list)
    rogue_dhcp: list[DhcpServer] = field(default_factory=list)
    allowed_dhcp: list[DhcpServer] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    terminals: dict[str, TerminalVerdict] = field(default_factory=dict)  # MAC → OS family

    def terminal_metrics(self) -> list[Metric]:
        """One `terminal_os` row per client seen asking DHCP this pass."""
        return [Metric(TERMINAL_OS.name, {
            "mac": mac, "os_family": v.os_family, "platform_vendor": v.vendor,
            "domestic": v.domestic, "rule": v.rule, "evidence": v.evidence,
            "interface": self.interface}, {"confidence_ratio": v.confidence})
            for mac, v in sorted(self.terminals.items())]

    @property
    def unregistered(self) -> list[HostReport]:
        return [h for h in self.hosts if h.status == "unregistered"]

    def metric(self) -> Metric:
        return Metric("lan_hosts", {"interface": self.interface}, {
            "total": len(self.hosts), "registered": len(self.hosts) - len(self.unregistered),
            "unregistered": len(self.unregistered), "conflicts": len(self.conflicts),
            "rogue_ra": len(self.rogue_ra), "rogue_dhcp": len(self.rogue_dhcp)})

    def events(self) -> list[Event]:
        labels = {"interface": self.interface}
        out: list[Event] = []
        for h in self.unregistered:
            where = ", ".join([*h.ipv4, *h.ipv6]) or "no address"
            out.append(Event(
                f"unregistered:{h.mac}", "unregistered_device", EventState.RAISED,
                Severity.WARNING, f"unregistered device {h.mac} ({h.vendor or 'unknown vendor'})"
                f" at {where} on {self.interface}",
                labels={**labels, "mac": h.mac, "vendor": h.vendor or "",
                        "ipv4": ",".join(h.ipv4), "ipv6": ",".join(h.ipv6)}))
        for c in self.conflicts:
            extra = f" (registered to {c.registered_device} {c.registered_mac})" \
                if c.registered_device else ""
            out.append(Event(
                f"conflict:{c.address}", "address_conflict", EventState.RAISED,
                Severity.CRITICAL, f"{c.address} answered by {', '.join(c.macs)}{extra}",
                device=c.registered_device,
                labels={**labels, "address": c.address, "macs": ",".join(c.macs)}))
        for ra in self.rogue_ra:
            out.append(Event(
                f"rogue_ra:{ra.mac}", "rogue_ra", EventState.RAISED, Severity.CRITICAL,
                f"router advertisement from unapproved router {ra.mac} ({ra.address}) "
                f"announcing {', '.join(ra.prefixes) or 'no prefix'} on {self.interface}",
                labels={**labels, "mac": ra.mac, "router": ra.address,
                        "prefixes": ",".join(ra.prefixes)}))
        for d in self.rogue_dhcp:
            out.append(Event(
                f"rogue_dhcp:{d.kind}:{d.mac}", "rogue_dhcp", EventState.RAISED,
                Severity.CRITICAL, f"unapproved {d.kind} server {d.mac} ({d.address}) on "
                f"{self.interface}" + (f" offering {d.offered}" if d.offered else ""),
                labels={**labels, "mac": d.mac, "server": d.address, "dhcp_kind": d.kind}))
        return out

    def to_json(self) -> dict[str, Any]:
        def ra(r: RouterAdvert) -> dict[str, Any]:
            return {"mac": r.mac, "address": r.address, "prefixes": list(r.prefixes),
                    "lifetime_secs": r.lifetime_s}

        def dh(d: DhcpServer) -> dict[str, Any]:
            return {"kind": d.kind, "mac": d.mac, "address": d.address,
                    "server_id": d.server_id, "offered": d.offered}
        return {
            "interface": self.interface,
            "summary": dict(self.metric().fields),
            "hosts": [{"mac": h.mac, "vendor": h.vendor, "ipv4": h.ipv4, "ipv6": h.ipv6,
                       "status": h.status, "device": h.device, "seen_via": h.seen_via}
                      for h in self.hosts],
            "conflicts": [{"address": c.address, "macs": c.macs,
                           "registered_device": c.registered_device,
                           "registered_mac": c.registered_mac} for c in self.conflicts],
            "router_advertisements": {"rogue": [ra(r) for r in self.rogue_ra],
                                      "allowed": [ra(r) for r in self.allowed_ra]},
            "dhcp_servers": {"rogue": [dh(d) for d in self.rogue_dhcp],
                             "allowed": [dh(d) for d in self.allowed_dhcp]},
            "terminals": [{"mac": mac, "os_family": v.os_family, "vendor": v.vendor,
                           "domestic": v.domestic, "confidence": v.confidence, "rule": v.rule,
                           "evidence": v.evidence} for mac, v in sorted(self.terminals.items())],
            "events": [e.to_json_dict() for e in self.events()],
            "notes": self.notes,
        }


def _dedupe(items: Iterable[Any], key: Any) -> list[Any]:
    seen: dict[Any, Any] = {}
    for it in items:
        seen.setdefault(key(it), it)
    return list(seen.values())


def analyse(interface: str, observations: Sequence[Observation], inventory: Inventory,
            allowed_routers: Iterable[str], allowed_dhcp: Iterable[str], oui: OuiTable,
            ignore_macs: Iterable[str] = ()) -> Discovery:
    ignore = {m.lower() for m in ignore_macs}
    routers_ok = {norm_id(x) for x in allowed_routers}
    dhcp_ok = {norm_id(x) for x in allowed_dhcp}
    hosts: dict[str, Host] = {}
    claims: dict[str, set[str]] = {}
    ras: list[RouterAdvert] = []
    dhcps: list[DhcpServer] = []
    clients: dict[str, DhcpClient] = {}
    names: dict[str, HostName] = {}  # mDNS / NetBIOS announcements
    lldp: dict[str, LldpMed] = {}
    for o in observations:
        if isinstance(o, RouterAdvert):
            ras.append(o)
            continue
        if isinstance(o, DhcpServer):
            dhcps.append(o)
            continue
        if isinstance(o, DhcpClient):
            if o.mac not in ignore:
                clients[o.mac] = o  # the last request of a pass speaks for the client
            continue
        if isinstance(o, HostName):
            if o.mac not in ignore:
                names[o.mac] = o
            continue
        if isinstance(o, LldpMed):
            if o.mac not in ignore:
                lldp[o.mac] = o
            continue
        assert isinstance(o, AddressSeen)
        if o.mac in ignore or o.mac in ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"):
            continue
        h = hosts.setdefault(o.mac, Host(o.mac))
        addr = normalise_ip(o.address)
        (h.ipv6 if ":" in addr else h.ipv4).add(addr)
        h.via.add(o.via)
        if not addr.startswith("fe80:"):
            claims.setdefault(addr, set()).add(o.mac)
    res = Discovery(interface)
    res.terminals = {}
    for mac in sorted(set(clients) | set(names)):
        c, n = clients.get(mac), names.get(mac)
        if c is not None and (c.hostname or n is None):
            res.terminals[mac] = terminal_from_dhcp(c.param_list, c.vendor_class, c.hostname)
            continue
        assert n is not None
        v = terminal_from_dhcp(c.param_list if c else (), c.vendor_class if c else "",
                               n.name, name_source=n.via)
        if c is not None or v.os_family != "unknown":  # a name alone counts only when a
            res.terminals[mac] = v                      # rule knows it
    for mac in sorted(lldp):
        m = lldp[mac]
        v = terminal_from_lldp(m.system_descr, m.software_rev, m.manufacturer, m.model)
        cur = res.terminals.get(mac)
        # LLDP-MED an endpoint sends about itself: it decides when a rule knows it and it is
        # stronger than what DHCP/names said
        if v.os_family != "unknown" and (cur is None or cur.os_family == "unknown"
                                         or v.confidence > cur.confidence):
            res.terminals[mac] = v
    conflicts: dict[str, Conflict] = {}
    for addr, macs in sorted(claims.items()):
        dev = inventory.by_address(addr)
        reg_mac = dev.mac.lower() if dev is not None and dev.mac else None
        if len(macs) > 1 or (reg_mac is not None and macs != {reg_mac}):
            conflicts[addr] = Conflict(addr, sorted(macs), dev.id if dev else None, reg_mac)
    for mac in sorted(hosts):
        h = hosts[mac]
        dev = inventory.by_mac(mac)
        if dev is None:
            for addr in sorted(h.ipv4 | h.ipv6):
                d = inventory.by_address(addr)
                if d is not None and not d.mac:
                    dev = d
                    break
        res.hosts.append(HostReport(
            mac, oui.vendor(mac), sorted(h.ipv4), sorted(h.ipv6),
            "registered" if dev is not None else "unregistered",
            dev.id if dev is not None else None, sorted(h.via)))
    res.conflicts = list(conflicts.values())
    if oui.note:  # known only after the first lookup (the table loads lazily)
        res.notes.append(oui.note)
    for r in _dedupe(ras, lambda r: r.mac):
        ok = r.mac in routers_ok or normalise_ip(r.address) in routers_ok
        (res.allowed_ra if ok else res.rogue_ra).append(r)
    for d in _dedupe(dhcps, lambda d: (d.kind, d.mac)):
        ok = d.mac in dhcp_ok or normalise_ip(d.address) in dhcp_ok
        (res.allowed_dhcp if ok else res.rogue_dhcp).append(d)
    return res
