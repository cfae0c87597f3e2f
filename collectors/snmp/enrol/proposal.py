"""From a scan to an inventory diff an admin approves: new devices, changed facts, devices not
seen, conflicts, each with its evidence. Pure: no I/O (client.py writes the YAML).

Matching a responder to an inventory device: serial (labels.serial), then chassis MAC, then
management address, then id = sysName. Placement: building/room from sysLocation patterns
(only ids the inventory has), parent and parent_port from LLDP/CDP links oriented away from
the routers, FDB when no link names the device.
"""

from __future__ import annotations

import ipaddress
import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.shared.vendors import UNKNOWN_VENDOR, DeviceClass
from collectors.snmp.enrol.scan import Found, ScanResult, within
from inventory.models import Device, DeviceKind, Inventory

# Facts enrolment manages on a device; everything else is the admin's and never touched.
MANAGED = ("ipv4", "ipv6", "mac", "vendor", "model", "credential", "parent", "parent_port",
           "labels.serial", "labels.firmware", "labels.os")

_KIND_OF_CLASS = {
    DeviceClass.ROUTER: DeviceKind.ROUTER, DeviceClass.FIREWALL: DeviceKind.FIREWALL,
    DeviceClass.WLAN_CONTROLLER: DeviceKind.WLAN_CONTROLLER, DeviceClass.AP: DeviceKind.AP,
    DeviceClass.CAMERA: DeviceKind.CAMERA, DeviceClass.NVR: DeviceKind.NVR,
    DeviceClass.UPS: DeviceKind.UPS, DeviceClass.PRINTER: DeviceKind.PRINTER,
    DeviceClass.SERVER: DeviceKind.SERVER, DeviceClass.UNKNOWN: DeviceKind.SERVER,
}
_ROOT_CLASSES = (DeviceClass.ROUTER.value, DeviceClass.FIREWALL.value)
_ID_RE = re.compile(r"[^A-Za-z0-9_.\-]+")


@dataclass(slots=True)
class Enrolled:
    """A responder as an inventory entry."""

    found: Found
    id: str
    kind: DeviceKind
    building: str | None = None
    room: str | None = None
    parent: str | None = None
    parent_port: str | None = None
    matched: str | None = None  # the inventory device it is
    evidence: list[str] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)  # other facts (owner from a register)

    def facts(self) -> dict[str, str]:
        """The managed facts the scan established (absent ones are not claimed)."""
        f = self.found
        v4 = f.address if ":" not in f.address else (f.ipv4[0] if f.ipv4 else "")
        v6 = f.address if ":" in f.address else (f.ipv6[0] if f.ipv6 else "")
        out = {"ipv4": v4, "ipv6": v6, "mac": f.chassis_mac or "",
               "vendor": f.vendor if f.vendor != UNKNOWN_VENDOR else "", "model": f.model,
               "credential": f.credential, "parent": self.parent or "",
               "parent_port": self.parent_port or "", "labels.serial": f.serial,
               "labels.firmware": f.firmware, "labels.os": f.os, **self.extra}
        return {k: v for k, v in out.items() if v}


@dataclass(frozen=True, slots=True)
class Change:
    device: str
    field: str  # one of MANAGED
    old: str | None
    new: str
    evidence: str


@dataclass(frozen=True, slots=True)
class NotSeen:
    device: str
    address: str
    evidence: str


@dataclass(frozen=True, slots=True)
class Conflict:
    subject: str  # the address or device disputed
    devices: tuple[str, ...]
    evidence: str


@dataclass(slots=True)
class Proposal:
    new: list[Enrolled] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    not_seen: list[NotSeen] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    enrolled: list[Enrolled] = field(default_factory=list)  # every responder, matched or not

    @property
    def empty(self) -> bool:
        return not (self.new or self.changes or self.not_seen or self.conflicts)

    def summary(self) -> str:
        return (f"{len(self.new)} new, {len(self.changes)} changed facts, "
                f"{len(self.not_seen)} not seen, {len(self.conflicts)} conflicts, "
                f"{len(self.unchanged)} unchanged")

    def to_json(self) -> dict[str, Any]:
        return {
            "new": [{"id": e.id, "kind": e.kind.value, "building": e.building,
                     "room": e.room, **e.facts(), "evidence": e.evidence} for e in self.new],
            "changes": [{"device": c.device, "field": c.field, "old": c.old, "new": c.new,
                         "evidence": c.evidence} for c in self.changes],
            "not_seen": [{"device": n.device, "address": n.address, "evidence": n.evidence}
                         for n in self.not_seen],
            "conflicts": [{"subject": c.subject, "devices": list(c.devices),
                           "evidence": c.evidence} for c in self.conflicts],
            "unchanged": self.unchanged,
        }


def device_fact(d: Device, name: str) -> str | None:
    if name.startswith("labels."):
        return d.labels.get(name.split(".", 1)[1])
    value = getattr(d, name)
    return str(value) if value is not None else None


def _slug(text: str) -> str:
    return _ID_RE.sub("-", text.strip()).strip("-.")[:63]


def _kind(f: Found) -> tuple[DeviceKind, str]:
    cls = DeviceClass(f.detected) if f.detected in DeviceClass.__members__.values() else (
        DeviceClass.UNKNOWN)
    if cls is DeviceClass.SWITCH:
        if f.ipv4_forwarding == 1:
            return DeviceKind.CORE_SWITCH, ("switch (rule " + f.kind_rule + ") forwarding IPv4 "
                                            "(ipForwarding=1): a layer-3 core switch")
        return DeviceKind.ACCESS_SWITCH, f"switch (rule {f.kind_rule}), layer 2"
    kind = _KIND_OF_CLASS.get(cls, DeviceKind.SERVER)
    return kind, f"{cls.value} (rule {f.kind_rule or 'none'})"


def _place(f: Found, inv: Inventory, patterns: Sequence[str]) -> tuple[str | None, str | None,
                                                                      str]:
    if not f.location:
        return None, None, "no sysLocation"
    for p in patterns:
        m = re.match(p, f.location)
        if m is None:
            continue
        groups = m.groupdict()
        room_id, building_id = groups.get("room") or None, groups.get("building") or None
        room = inv.room(room_id) if room_id else None
        if room is not None:
            return room.building, room.id, f"sysLocation '{f.location}' → room {room.id}"
        if building_id and any(b.id == building_id for b in inv.buildings):
            return building_id, None, f"sysLocation '{f.location}' → building {building_id}"
        return None, None, (f"sysLocation '{f.location}' names no building/room of the "
                            "inventory")
    return None, None, f"sysLocation '{f.location}' matches no location pattern"


def _match(f: Found, inv: Inventory) -> tuple[Device | None, str, Conflict | None]:
    """The inventory device this responder is, the rule that said so, and a conflict when
    two rules point at different devices."""
    by: list[tuple[str, Device]] = []
    if f.serial:
        by += [("serial " + f.serial, d) for d in inv.devices
               if d.labels.get("serial") == f.serial]
    if f.chassis_mac:
        d = inv.by_mac(f.chassis_mac)
        if d is not None:
            by.append(("chassis MAC " + f.chassis_mac, d))
    d = inv.by_address(f.address)
    if d is not None:
        by.append(("address " + f.address, d))
    if f.sys_name:
        d = inv.device(_slug(f.sys_name))
        if d is not None:
            by.append(("sysName " + f.sys_name, d))
    if not by:
        return None, "", None
    first_rule, first = by[0]
    others = {dev.id for _, dev in by if dev.id != first.id}
    conflict = None
    if others:
        conflict = Conflict(f.address, (first.id, *sorted(others)), "; ".join(
            f"{rule} → {dev.id}" for rule, dev in by))
    return first, first_rule, conflict


def _parents(enrolled: list[Enrolled]) -> None:
    """Orient LLDP/CDP links away from the routers (else layer-3 switches) by BFS; a device
    no link reaches hangs off the switch whose FDB learns its MAC on the quietest port."""
    by_name = {e.found.sys_name: e for e in enrolled if e.found.sys_name}
    by_mac = {e.found.chassis_mac: e for e in enrolled if e.found.chassis_mac}
    by_addr = {a: e for e in enrolled for a in e.found.all_addresses}
    links: dict[str, list[tuple[Enrolled, str, str]]] = {e.id: [] for e in enrolled}
    for e in enrolled:
        for n in e.found.neighbours:
            other = (by_mac.get(n.remote_chassis) or by_name.get(n.remote_sys_name)
                     or next((by_addr[a] for a in n.addresses if a in by_addr), None))
            if other is None or other is e:
                continue
            # (neighbour, our port, its port) on both ends: either side's table suffices
            links[e.id].append((other, n.local_port, n.remote_port))
            links[other.id].append((e, n.remote_port, n.local_port))
    roots = [e for e in enrolled if e.found.detected in _ROOT_CLASSES] or [
        e for e in enrolled if e.kind is DeviceKind.CORE_SWITCH]
    seen = {e.id for e in roots}
    queue = deque(roots)
    while queue:
        cur = queue.popleft()
        for other, our_port, its_port in links[cur.id]:
            if other.id in seen:
                continue
            seen.add(other.id)
            other.parent, other.parent_port = cur.id, our_port or None
            other.evidence.append(f"parent {cur.id} port {our_port}: LLDP/CDP link "
                                  f"({other.id} port {its_port})")
            queue.append(other)
    for e in enrolled:
        if e.parent is not None or e in roots or not e.found.chassis_mac:
            continue
        best: tuple[int, Enrolled, str] | None = None
        for s in enrolled:
            if s is e or not s.kind.is_switch:
                continue
            ports = [p for m, p in s.found.fdb if m == e.found.chassis_mac]
            for p in ports:
                load = sum(1 for _, q in s.found.fdb if q == p)
                if best is None or load < best[0]:
                    best = (load, s, p)
        if best is not None:
            e.parent, e.parent_port = best[1].id, best[2]
            e.evidence.append(f"parent {best[1].id} port {best[2]}: its FDB learns "
                              f"{e.found.chassis_mac} there ({best[0]} MACs on that port)")


def propose(scan: ScanResult, inv: Inventory, location_patterns: Sequence[str]) -> Proposal:
    out = Proposal()
    taken = {d.id for d in inv.devices}
    matched_by: dict[str, Enrolled] = {}
    for f in scan.found:
        kind, kind_why = _kind(f)
        dev, rule, conflict = _match(f, inv)
        tried = ", ".join(f"{a.credential}: {a.outcome}" for a in f.attempts[:-1])
        evidence = [f"answered {f.address} ({f.via}) with credential set {f.credential}"
                    + (f" after {tried}" if tried else ""),
                    f"sysObjectID {f.sys_object_id or '-'} → vendor {f.vendor} "
                    f"(rule {f.vendor_rule}), kind {kind.value}: {kind_why}",
                    f"model {f.model or '-'}, serial {f.serial or '-'}, firmware "
                    f"{f.firmware or '-'}, OS {f.os or '-'} (ENTITY-MIB, sysDescr)"]
        if f.chassis_mac:
            evidence.append(f"chassis MAC {f.chassis_mac} (LLDP-MIB lldpLocChassisId)")
        if f.ipv4 or f.ipv6:
            evidence.append("IP-MIB addresses: " + ", ".join((*f.ipv4, *f.ipv6)))
        if conflict is not None:
            out.conflicts.append(conflict)
            continue
        if dev is not None:
            if dev.id in matched_by:
                out.conflicts.append(Conflict(dev.id, (dev.id,), (
                    f"{f.address} and {matched_by[dev.id].found.address} both match "
                    f"inventory device {dev.id}")))
                continue
            e = Enrolled(f, dev.id, dev.kind, dev.building, dev.room, matched=dev.id,
                         evidence=[f"is {dev.id} ({rule})", *evidence])
            matched_by[dev.id] = e
        else:
            base = _slug(f.sys_name) or _slug(f"{f.vendor}-{f.address}".replace(":", "-"))
            new_id, n = base or "device", 2
            while new_id in taken:
                new_id, n = f"{base}-{n}", n + 1
            taken.add(new_id)
            building, room, where_ = _place(f, inv, location_patterns)
            e = Enrolled(f, new_id, kind, building, room, evidence=[*evidence, where_])
        out.enrolled.append(e)
    _address_conflicts(out)
    _parents(out.enrolled)
    for e in out.enrolled:
        if e.matched is None:
            out.new.append(e)
            continue
        dev = inv.device(e.matched)
        assert dev is not None
        changed = False
        for name, value in e.facts().items():
            old = device_fact(dev, name)
            if old != value:
                out.changes.append(Change(dev.id, name, old, value, _why(e, name)))
                changed = True
        if not changed:
            out.unchanged.append(dev.id)
    _not_seen(scan, inv, out, set(matched_by))
    return out


_EVIDENCE_OF = {"ipv4": "answered", "ipv6": "IP-MIB", "credential": "answered",
                "mac": "chassis MAC", "vendor": "sysObjectID", "parent": "parent ",
                "parent_port": "parent "}


def _why(e: Enrolled, name: str) -> str:
    """The evidence line behind one fact."""
    start = _EVIDENCE_OF.get(name, "model ")
    return next((x for x in e.evidence if x.startswith(start)), "; ".join(e.evidence[:2]))


def _address_conflicts(out: Proposal) -> None:
    """Two responders claiming one address (IP-MIB or the address they answered on)."""
    claims: dict[str, list[Enrolled]] = {}
    for e in out.enrolled:
        for a in e.found.all_addresses:
            if not ipaddress.ip_address(a).is_loopback or a == e.found.address:
                claims.setdefault(a, []).append(e)
    bad: set[str] = set()
    for addr, es in claims.items():
        if len(es) > 1:
            ids = tuple(sorted(e.id for e in es))
            out.conflicts.append(Conflict(addr, ids, f"{addr} is claimed by " + ", ".join(
                f"{e.id} (answered at {e.found.address})" for e in es)))
            bad.update(ids)
    if bad:
        out.enrolled = [e for e in out.enrolled if e.id not in bad]


def _not_seen(scan: ScanResult, inv: Inventory, out: Proposal, matched: set[str]) -> None:
    for d in inv.devices:
        if d.id in matched:
            continue
        for a in (d.ipv4, d.ipv6):
            if not a or not within(a, scan.swept) or a in scan.not_scanned:
                continue
            if a in scan.refused:
                why = "answered, but no credential set fitted: " + ", ".join(
                    f"{x.credential}: {x.outcome}" for x in scan.refused[a])
            elif a in scan.pinged:
                why = "answers ICMP echo, not SNMP with any credential set"
            else:
                why = "no answer to ICMP or SNMP with any credential set"
            out.not_seen.append(NotSeen(d.id, a, f"{a} (in a swept prefix): {why}"))
            break
