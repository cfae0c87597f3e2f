"""Typed results of one SNMP poll, and the pure parsers that build them from column walks."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from collectors.snmp import oids as O
from collectors.snmp.identify import Identity
from collectors.snmp.oids import Obj
from collectors.snmp.profiles.engine import Row as ProfileRow
from collectors.snmp.session import Oid, VarBind
from collectors.snmp.values import (
    display,
    inet_index,
    mac,
    mac_from_index,
    number,
    raw,
    rows,
    scope,
    seconds,
    text,
)
from collectors.snmp.wlan import Controller


class Profile(enum.StrEnum):
    SYSTEM = "system"
    INTERFACES = "interfaces"
    IP = "ip"  # ipSystemStatsTable / ipIfStatsTable per IP version
    IPV6 = "ipv6"  # ipAddressTable, forwarding
    LLDP = "lldp"
    FDB = "fdb"
    ENTITY = "entity"
    WLAN = "wlan"
    HEALTH = "health"  # the YAML profiles (collectors/snmp/profiles): health and user ones


Walks = Mapping[Obj, list[VarBind]]


@dataclass(frozen=True, slots=True)
class SystemInfo:
    descr: str
    object_id: Oid | None
    uptime_s: float | None
    name: str
    location: str


@dataclass(frozen=True, slots=True)
class Counter:
    value: int
    bits: int  # 32 or 64


@dataclass(frozen=True, slots=True)
class Interface:
    index: int
    name: str
    alias: str
    admin_status: int | None
    oper_status: int | None
    speed_mbps: int | None
    counters: Mapping[str, Counter]
    discontinuity: int | None


@dataclass(frozen=True, slots=True)
class EntityInfo:
    model: str = ""
    serial: str = ""
    firmware: str = ""
    manufacturer: str = ""


@dataclass(frozen=True, slots=True)
class IpAddressEntry:
    address: str
    family: str  # ipv4 / ipv6
    if_index: int | None
    scope: str


@dataclass(frozen=True, slots=True)
class IpStats:
    version: str  # ipv4 / ipv6
    if_index: int | None  # None: the system-wide row
    counters: Mapping[str, Counter]
    discontinuity: int | None


@dataclass(frozen=True, slots=True)
class LldpNeighbor:
    local_port: str
    remote_chassis: str
    remote_port: str
    remote_sys_name: str


@dataclass(frozen=True, slots=True)
class Neighbor:
    """One ipNetToPhysicalTable row: an IP neighbour (ARP / IPv6 ND cache entry)."""

    if_index: int
    family: str
    address: str
    mac: str


@dataclass(frozen=True, slots=True)
class FdbEntry:
    mac: str
    if_index: int | None
    bridge_port: int
    vlan: int | None
    ip: str


@dataclass(slots=True)
class DeviceData:
    system: SystemInfo
    identity: Identity
    entity: EntityInfo = EntityInfo()
    interfaces: dict[int, Interface] = field(default_factory=dict)
    interface_indexes: set[int] = field(default_factory=set)
    addresses: list[IpAddressEntry] = field(default_factory=list)
    ipv4_forwarding: int | None = None
    ipv6_forwarding: int | None = None
    ip_stats: list[IpStats] = field(default_factory=list)
    lldp: list[LldpNeighbor] = field(default_factory=list)
    neighbors: list[Neighbor] | None = None  # None: ipNetToPhysicalTable not read
    fdb: list[FdbEntry] = field(default_factory=list)
    wlan: Controller | None = None  # None: the device has no AP table
    profiles: frozenset[Profile] = frozenset()
    matched_profiles: tuple[str, ...] = ()  # the YAML profiles read (health, user ones)
    health: list[ProfileRow] = field(default_factory=list)  # their rows


_VERSIONS = {1: "ipv4", 2: "ipv6"}


def parse_system(vbs: Mapping[Oid, VarBind]) -> SystemInfo:
    oid_vb = vbs.get(O.SYS_OBJECT_ID.instance)
    object_id = oid_vb.value if oid_vb is not None and isinstance(oid_vb.value, tuple) else None
    return SystemInfo(
        descr=text(vbs.get(O.SYS_DESCR.instance)),
        object_id=object_id or None,
        uptime_s=seconds(vbs.get(O.SYS_UPTIME.instance)),
        name=text(vbs.get(O.SYS_NAME.instance)),
        location=text(vbs.get(O.SYS_LOCATION.instance)),
    )


_IF_COUNTERS: tuple[tuple[str, Obj | None, Obj], ...] = (
    ("in_octets", O.IF_HC_IN_OCTETS, O.IF_IN_OCTETS),
    ("out_octets", O.IF_HC_OUT_OCTETS, O.IF_OUT_OCTETS),
    ("in_ucast_pkts", O.IF_HC_IN_UCAST, O.IF_IN_UCAST),
    ("out_ucast_pkts", O.IF_HC_OUT_UCAST, O.IF_OUT_UCAST),
    ("in_errors", None, O.IF_IN_ERRORS),
    ("out_errors", None, O.IF_OUT_ERRORS),
    ("in_discards", None, O.IF_IN_DISCARDS),
    ("out_discards", None, O.IF_OUT_DISCARDS),
)


def _if_counters(cells: Mapping[str, VarBind]) -> dict[str, Counter]:
    """Each of _IF_COUNTERS: the 64-bit (HC) column when the row has it, else the 32-bit one
    (once per interface of every poll: plain loop, column names resolved once)."""
    out: dict[str, Counter] = {}
    get = cells.get
    for name, hc, low in _IF_COUNTERS_BY_NAME:
        if hc is not None:
            n = number(get(hc))
            if n is not None:
                out[name] = Counter(n, 64)
                continue
        n = number(get(low))
        if n is not None:
            out[name] = Counter(n, 32)
    return out


_IF_COUNTERS_BY_NAME = tuple((name, hc.name if hc is not None else None, low.name)
                             for name, hc, low in _IF_COUNTERS)


def parse_interfaces(walks: Walks) -> tuple[dict[int, Interface], set[int]]:
    """Interfaces by ifIndex, and every ifIndex seen across ifTable and ifXTable."""
    out: dict[int, Interface] = {}
    for idx, row in rows(walks).items():
        if len(idx) != 1:
            continue
        counters = _if_counters(row.cells)
        high = number(row.get(O.IF_HIGH_SPEED))
        low_speed = number(row.get(O.IF_SPEED))
        speed = high if high else (low_speed // 1_000_000 if low_speed is not None else high)
        out[idx[0]] = Interface(
            index=idx[0],
            name=text(row.get(O.IF_NAME)) or text(row.get(O.IF_DESCR)) or str(idx[0]),
            alias=text(row.get(O.IF_ALIAS)),
            admin_status=number(row.get(O.IF_ADMIN_STATUS)),
            oper_status=number(row.get(O.IF_OPER_STATUS)),
            speed_mbps=speed,
            counters=counters,
            discontinuity=number(row.get(O.IF_DISCONTINUITY)),
        )
    return out, set(out)


_CHASSIS = 3  # entPhysicalClass chassis(3)


def parse_entity(walks: Walks) -> EntityInfo:
    """The chassis row (or the first row with a model or serial): model, serial, firmware."""
    table = rows(walks)
    chosen = next((r for r in table.values() if number(r.get(O.ENT_CLASS)) == _CHASSIS
                   and (text(r.get(O.ENT_MODEL)) or text(r.get(O.ENT_SERIAL)))), None)
    if chosen is None:
        chosen = next((r for r in table.values()
                       if text(r.get(O.ENT_MODEL)) or text(r.get(O.ENT_SERIAL))), None)
    if chosen is None:
        return EntityInfo()
    return EntityInfo(
        model=text(chosen.get(O.ENT_MODEL)),
        serial=text(chosen.get(O.ENT_SERIAL)),
        firmware=text(chosen.get(O.ENT_SOFTWARE_REV)) or text(chosen.get(O.ENT_FIRMWARE_REV)),
        manufacturer=text(chosen.get(O.ENT_MFG_NAME)),
    )


def parse_addresses(walks: Walks) -> list[IpAddressEntry]:
    out = []
    for idx, row in rows(walks).items():
        decoded = inet_index(idx)
        if decoded is None:
            continue
        family, address, _ = decoded
        out.append(IpAddressEntry(address, family, number(row.get(O.IP_ADDRESS_IFINDEX)),
                                  scope(address)))
    return out


def parse_ip_stats(system: Walks, per_if: Walks) -> list[IpStats]:
    out = []
    sys_counters = (("in_receives", O.IP_SYS_HC_IN_RECEIVES),
                    ("in_octets", O.IP_SYS_HC_IN_OCTETS),
                    ("in_forw_datagrams", O.IP_SYS_HC_IN_FORW),
                    ("out_transmits", O.IP_SYS_HC_OUT_TRANSMITS),
                    ("out_octets", O.IP_SYS_HC_OUT_OCTETS))
    for idx, row in rows(system).items():
        if len(idx) != 1 or idx[0] not in _VERSIONS:
            continue
        counters = {n: Counter(v, 64) for n, obj in sys_counters
                    if (v := number(row.get(obj))) is not None}
        out.append(IpStats(_VERSIONS[idx[0]], None, counters,
                           number(row.get(O.IP_SYS_DISCONTINUITY))))
    for idx, row in rows(per_if).items():
        if len(idx) != 2 or idx[0] not in _VERSIONS:
            continue
        counters = {n: Counter(v, 64) for n, obj in (("in_octets", O.IP_IF_HC_IN_OCTETS),
                                                      ("out_octets", O.IP_IF_HC_OUT_OCTETS))
                    if (v := number(row.get(obj))) is not None}
        out.append(IpStats(_VERSIONS[idx[0]], idx[1], counters,
                           number(row.get(O.IP_IF_DISCONTINUITY))))
    return out


_LLDP_CHASSIS_MAC = 4  # LldpChassisIdSubtype macAddress(4)


def parse_lldp(local: Walks, remote: Walks) -> list[LldpNeighbor]:
    ports = {idx[0]: text(r.get(O.LLDP_LOC_PORT_DESC)) or display(raw(r.get(O.LLDP_LOC_PORT_ID)))
             for idx, r in rows(local).items() if len(idx) == 1}
    out = []
    for idx, row in rows(remote).items():
        if len(idx) != 3:  # lldpRemTimeMark, lldpRemLocalPortNum, lldpRemIndex
            continue
        raw_chassis = raw(row.get(O.LLDP_REM_CHASSIS_ID))
        if number(row.get(O.LLDP_REM_CHASSIS_SUBTYPE)) == _LLDP_CHASSIS_MAC and len(
                raw_chassis) == 6:
            chassis_s = mac(raw_chassis)
        else:
            chassis_s = display(raw_chassis)
        out.append(LldpNeighbor(
            local_port=ports.get(idx[1]) or str(idx[1]),
            remote_chassis=chassis_s,
            remote_port=display(raw(row.get(O.LLDP_REM_PORT_ID))),
            remote_sys_name=text(row.get(O.LLDP_REM_SYS_NAME)),
        ))
    return out


def parse_neighbors(walks: Walks) -> list[Neighbor]:
    """ipNetToPhysicalTable: INDEX ifIndex, InetAddressType, InetAddress → MAC."""
    out = []
    for idx, r in rows(walks).items():
        decoded = inet_index(idx[1:]) if idx else None
        phys = raw(r.get(O.IP_NET_TO_PHYS_ADDR))
        if decoded and len(phys) == 6:
            out.append(Neighbor(idx[0], decoded[0], decoded[1], mac(phys)))
    return out


def parse_fdb(base_ports: Walks, q_fdb: Walks, d_fdb: Walks, neighbors: list[Neighbor],
              arp_legacy: Walks) -> list[FdbEntry]:
    """MAC ↔ port ↔ VLAN (Q-BRIDGE first, BRIDGE as fallback) ↔ IP (ipNetToPhysicalTable)."""
    port_if = {idx[0]: number(r.get(O.DOT1D_BASE_PORT_IFINDEX))
               for idx, r in rows(base_ports).items() if len(idx) == 1}
    mac_ip: dict[str, str] = {}
    for n in neighbors:
        mac_ip.setdefault(n.mac, n.address)
    for idx, r in rows(arp_legacy).items():  # ifIndex, IpAddress
        phys = raw(r.get(O.IP_NET_TO_MEDIA_ADDR))
        if len(idx) == 5 and len(phys) == 6:
            mac_ip.setdefault(mac(phys), ".".join(map(str, idx[1:])))
    out: list[FdbEntry] = []
    seen: set[str] = set()
    for idx, r in rows(q_fdb).items():  # dot1qFdbId, MAC
        port = number(r.get(O.DOT1Q_TP_FDB_PORT))
        m = mac_from_index(idx[1:])
        if len(idx) == 7 and m and port is not None and port > 0:  # 0 / -1: port unknown
            seen.add(m)
            out.append(FdbEntry(m, port_if.get(port), port, idx[0], mac_ip.get(m, "")))
    for idx, r in rows(d_fdb).items():  # MAC
        port = number(r.get(O.DOT1D_TP_FDB_PORT))
        m = mac_from_index(idx)
        if m and port is not None and port > 0 and m not in seen:
            out.append(FdbEntry(m, port_if.get(port), port, None, mac_ip.get(m, "")))
    return out
