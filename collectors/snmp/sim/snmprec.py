"""Render one planned device as snmpsim `.snmprec` text.

Strings are written hex-encoded (`4x`): snmpsim strips spaces around plain strings and a
sysDescr holds CR/LF. Counters use snmpsim's `numeric` variation module, which serves
`initial + rate * seconds-since-simulator-start`, so every rate the agent computes is known in
advance (the ground truth records them). Counter32 wraps at 2**32 (`max=4294967296,wrap=1`:
the module reduces modulo `max`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from collectors.snmp.session import Oid, oid_from_str
from collectors.snmp.sim.plan import Ap, Device, Health, Interface

_C32 = 2**32

SYS = "1.3.6.1.2.1.1"
IF = "1.3.6.1.2.1.2.2.1"
IFX = "1.3.6.1.2.1.31.1.1.1"
IP = "1.3.6.1.2.1.4"
BRIDGE = "1.3.6.1.2.1.17"
LLDP = "1.0.8802.1.1.2.1"
ENTITY = "1.3.6.1.2.1.47.1.1.1.1"
HW_WLAN = "1.3.6.1.4.1.2011.6.139"
HW_ENT = "1.3.6.1.4.1.2011.5.25.31.1.1"  # HUAWEI-ENTITY-EXTENT-MIB hwEntityExtentMIB objects
H3C_ENT = "1.3.6.1.4.1.25506.2.6.1.1.1.1"  # HH3C-ENTITY-EXT-MIB hh3cEntityExtStateEntry
ENT_SENSOR = "1.3.6.1.2.1.99.1.1.1"  # ENTITY-SENSOR-MIB entPhySensorEntry
UPS = "1.3.6.1.2.1.33.1"  # UPS-MIB upsObjects
BOARD = 9  # entPhysicalIndex of the main board

Line = tuple[Oid, str]


def _hex(s: str | bytes) -> str:
    return (s.encode() if isinstance(s, str) else s).hex()


def _str(oid: str, s: str | bytes) -> Line:
    return oid_from_str(oid), f"{oid}|4x|{_hex(s)}"


def _int(oid: str, v: int, tag: int = 2) -> Line:
    return oid_from_str(oid), f"{oid}|{tag}|{v}"


def _oid(oid: str, v: str) -> Line:
    return oid_from_str(oid), f"{oid}|6|{v}"


def _ip(oid: str, v: str) -> Line:
    return oid_from_str(oid), f"{oid}|64x|{ipaddress.IPv4Address(v).packed.hex()}"


def counter_line(oid: str, initial: int, rate: int, bits: int = 64) -> Line:
    tag = 70 if bits == 64 else 65
    if bits == 32:
        initial %= _C32
    if rate == 0:
        return oid_from_str(oid), f"{oid}|{tag}|{initial}"
    wrap = ",max=4294967296,wrap=1" if bits == 32 else ""
    return oid_from_str(oid), f"{oid}|{tag}:numeric|rate={rate},initial={initial}{wrap}"


def _mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", ""))


def _mac_index(mac: str) -> str:
    return ".".join(str(b) for b in _mac_bytes(mac))


def _v6_index(addr: str) -> str:
    """ipAddressTable index of an IPv6 address: addrType ipv6(2), length 16, 16 octets."""
    packed = ipaddress.IPv6Address(addr).packed
    return "2.16." + ".".join(str(b) for b in packed)


def render(device: Device) -> str:
    lines = sorted(_lines(device))
    return "\n".join(text for _, text in lines) + "\n"


def _lines(d: Device) -> Iterator[Line]:
    yield from _system(d)
    yield from _interfaces(d)
    yield from _ip_mib(d)
    yield from _entity(d)
    yield from _bridge(d)
    yield from _lldp(d)
    if d.aps:
        yield from _wlan(d)
    if d.health is not None:
        yield from _health(d)
        if d.health.poe_budget_w:
            yield from _poe(d, d.health)
    if d.ups is not None:
        yield from _ups(d)
    if d.server is not None:
        yield from _host_resources(d)


def _host_resources(d: Device) -> Iterator[Line]:
    """HOST-RESOURCES-MIB (RFC 2790): one hrDeviceProcessor row, hrSWRun per process."""
    sw = d.server
    assert sw is not None
    dev = "1.3.6.1.2.1.25.3.2.1"
    yield _int(f"{dev}.1.196608", 196608)
    yield _oid(f"{dev}.2.196608", "1.3.6.1.2.1.25.3.1.3")  # hrDeviceProcessor
    yield _str(f"{dev}.3.196608", sw.cpu_descr)
    run = "1.3.6.1.2.1.25.4.2.1"
    for col, pick in ((1, None), (2, 0), (4, 1), (5, 2)):
        for i, proc in enumerate(sw.processes, start=1):
            pid = 1000 + i
            yield (_int(f"{run}.{col}.{pid}", pid) if pick is None
                   else _str(f"{run}.{col}.{pid}", proc[pick]))


def _system(d: Device) -> Iterator[Line]:
    yield _str(f"{SYS}.1.0", d.vendor.sys_descr)
    yield _oid(f"{SYS}.2.0", d.vendor.sys_object_id)
    yield oid_from_str(f"{SYS}.3.0"), f"{SYS}.3.0|67:numeric|rate=100,initial={d.uptime_ticks}"
    yield _str(f"{SYS}.4.0", "网络中心 Network Centre <noc@campus.example>")
    yield _str(f"{SYS}.5.0", d.id)
    yield _str(f"{SYS}.6.0", f"{d.building}/{d.room or ''}")
    yield _int(f"{SYS}.7.0", 6 if d.kind.value.endswith("switch") else 78)


def _interfaces(d: Device) -> Iterator[Line]:
    yield _int("1.3.6.1.2.1.2.1.0", len(d.interfaces))
    for itf in d.interfaces:
        yield from _interface(itf)


def _interface(i: Interface) -> Iterator[Line]:
    x = i.index
    loopback = i.name.lower().startswith(("loopback", "vlanif"))
    status = 1 if i.oper_up else 2
    yield _int(f"{IF}.1.{x}", x)
    yield _str(f"{IF}.2.{x}", i.descr)
    yield _int(f"{IF}.3.{x}", 24 if i.name.startswith("LoopBack") else
               136 if i.name.startswith("Vlanif") else 6)
    yield _int(f"{IF}.4.{x}", 1500)
    yield _int(f"{IF}.5.{x}", min(i.speed_mbps * 1_000_000, _C32 - 1), 66)
    yield _str(f"{IF}.6.{x}", b"" if loopback and i.name.startswith("LoopBack")
               else _mac_bytes(i.mac))
    yield _int(f"{IF}.7.{x}", 1)
    yield _int(f"{IF}.8.{x}", status)
    yield _int(f"{IF}.9.{x}", 0, 67)
    yield counter_line(f"{IF}.10.{x}", i.in_initial, i.in_rate, 32)
    yield counter_line(f"{IF}.11.{x}", i.in_initial // 700, i.in_rate // 700, 32)
    yield _int(f"{IF}.13.{x}", 0, 65)
    yield _int(f"{IF}.14.{x}", 0, 65)
    yield _int(f"{IF}.15.{x}", 0, 65)
    yield counter_line(f"{IF}.16.{x}", i.out_initial, i.out_rate, 32)
    yield counter_line(f"{IF}.17.{x}", i.out_initial // 900, i.out_rate // 900, 32)
    yield _int(f"{IF}.19.{x}", 0, 65)
    yield _int(f"{IF}.20.{x}", 0, 65)
    yield _str(f"{IFX}.1.{x}", i.name)
    yield counter_line(f"{IFX}.6.{x}", i.in_initial, i.in_rate)
    yield counter_line(f"{IFX}.7.{x}", i.in_initial // 700, i.in_rate // 700)
    yield counter_line(f"{IFX}.10.{x}", i.out_initial, i.out_rate)
    yield counter_line(f"{IFX}.11.{x}", i.out_initial // 900, i.out_rate // 900)
    yield _int(f"{IFX}.15.{x}", i.speed_mbps, 66)
    yield _int(f"{IFX}.17.{x}", 1 if not loopback else 2)
    yield _str(f"{IFX}.18.{x}", i.alias)


def _mgmt_if(d: Device) -> int:
    return next((i.index for i in d.interfaces if i.name.startswith(("Vlanif", "LoopBack"))),
                d.interfaces[-1].index)


def _ip_mib(d: Device) -> Iterator[Line]:
    router = bool(d.ip_traffic)
    yield _int(f"{IP}.1.0", 1 if router or d.kind.value == "core_switch" else 2)
    yield _int(f"{IP}.25.0", 1 if d.ipv6_globals and router else 2)
    mgmt = _mgmt_if(d)
    # ipAddressTable: INDEX { ipAddressAddrType, ipAddressAddr }
    rows: list[tuple[str, int, int]] = []  # (index suffix, ifIndex, addr type)
    rows.append((f"1.4.{d.ipv4}", mgmt, 1))  # addrType ipv4(1), length 4
    for a in d.ipv6_globals:
        rows.append((_v6_index(a), mgmt, 2))
    if d.ipv6_globals:
        tail = int(d.mac.replace(":", "")[6:], 16)  # link-local from the MAC's low 24 bits
        ll = ipaddress.IPv6Address((0xFE80 << 112) | (tail << 16) | 1)
        rows.append((_v6_index(str(ll)), mgmt, 2))
    for suffix, ifindex, _family in rows:
        yield _int(f"{IP}.34.1.3.{suffix}", ifindex)
        yield _int(f"{IP}.34.1.4.{suffix}", 1)  # unicast
        yield _int(f"{IP}.34.1.6.{suffix}", 2)  # manual
        yield _int(f"{IP}.34.1.7.{suffix}", 1)  # preferred
    # ipv6InterfaceTable: enabled on the management interface of dual-stack devices
    if d.ipv6_globals:
        yield _int(f"{IP}.30.1.5.{mgmt}", 1)
        yield _int(f"{IP}.30.1.8.{mgmt}", 1 if router else 2)
    # ipNetToPhysicalTable: INDEX { ifIndex, ipNetToPhysicalNetAddressType, NetAddress }
    for n in d.arp:
        ix = f"{n.if_index}.{_v6_index(n.ip) if ':' in n.ip else '1.4.' + n.ip}"
        yield _str(f"{IP}.35.1.4.{ix}", _mac_bytes(n.mac))
        yield _int(f"{IP}.35.1.6.{ix}", 3)  # dynamic
        yield _int(f"{IP}.35.1.7.{ix}", 1)  # reachable
    for t in d.ip_traffic:
        v = t.version
        yield counter_line(f"{IP}.31.1.1.4.{v}", t.in_initial // 800, t.in_pkts_rate)
        yield counter_line(f"{IP}.31.1.1.6.{v}", t.in_initial, t.in_rate)
        yield counter_line(f"{IP}.31.1.1.13.{v}", t.in_initial // 1000, t.in_pkts_rate // 2)
        yield counter_line(f"{IP}.31.1.1.21.{v}", t.out_initial // 600, t.out_pkts_rate)
        yield counter_line(f"{IP}.31.1.1.31.{v}", t.out_initial // 600, t.out_pkts_rate)
        yield counter_line(f"{IP}.31.1.1.33.{v}", t.out_initial, t.out_rate)
        yield _int(f"{IP}.31.1.1.46.{v}", 0, 67)
        # ipIfStatsTable: all of it crosses the ISP uplink
        yield counter_line(f"{IP}.31.3.1.6.{v}.{d.uplink_if}", t.in_initial, t.in_rate)
        yield counter_line(f"{IP}.31.3.1.33.{v}.{d.uplink_if}", t.out_initial, t.out_rate)


def _entity(d: Device) -> Iterator[Line]:
    yield _str(f"{ENTITY}.2.1", f"{d.vendor.name} {d.vendor.model} chassis")
    yield _oid(f"{ENTITY}.3.1", d.vendor.sys_object_id)
    yield _int(f"{ENTITY}.5.1", 3)  # chassis
    yield _str(f"{ENTITY}.7.1", d.vendor.model)
    yield _str(f"{ENTITY}.10.1", d.vendor.firmware)
    yield _str(f"{ENTITY}.11.1", d.serial)
    yield _str(f"{ENTITY}.12.1", d.vendor.name)
    yield _str(f"{ENTITY}.13.1", d.vendor.model)


def _bridge(d: Device) -> Iterator[Line]:
    if not d.fdb:
        return
    yield _str(f"{BRIDGE}.1.1.0", _mac_bytes(d.mac))
    ports = [i for i in d.interfaces if not i.name.startswith(("Vlanif", "LoopBack"))]
    yield _int(f"{BRIDGE}.1.2.0", len(ports))
    yield _int(f"{BRIDGE}.2.4.0", d.stp_changes, 65)  # dot1dStpTopChanges
    yield oid_from_str(f"{BRIDGE}.2.3.0"), (  # dot1dStpTimeSinceTopologyChange, ticking
        f"{BRIDGE}.2.3.0|67:numeric|rate=100,initial={d.uptime_ticks // 3}")
    for i in ports:  # bridge port number = ifIndex here; the table still maps them
        yield _int(f"{BRIDGE}.1.4.1.2.{i.index}", i.index)
    # dot1qTpFdbTable: INDEX { dot1qFdbId, dot1qTpFdbAddress }
    for e in d.fdb:
        yield _int(f"{BRIDGE}.7.1.2.2.1.2.{e.vlan}.{_mac_index(e.mac)}", e.if_index)
        yield _int(f"{BRIDGE}.7.1.2.2.1.3.{e.vlan}.{_mac_index(e.mac)}", 3)  # learned


def _lldp(d: Device) -> Iterator[Line]:
    yield _int(f"{LLDP}.3.1.0", 4)  # chassis id subtype macAddress
    yield _str(f"{LLDP}.3.2.0", _mac_bytes(d.mac))
    yield _str(f"{LLDP}.3.3.0", d.id)
    for i in d.interfaces:
        if i.name.startswith(("Vlanif", "LoopBack")):
            continue
        yield _int(f"{LLDP}.3.7.1.2.{i.index}", 5)  # interfaceName
        yield _str(f"{LLDP}.3.7.1.3.{i.index}", i.name)
        yield _str(f"{LLDP}.3.7.1.4.{i.index}", i.descr)
    # lldpRemTable: INDEX { lldpRemTimeMark, lldpRemLocalPortNum, lldpRemIndex }
    for n in d.neighbors:
        ix = f"0.{n.local_port}.1"
        yield _int(f"{LLDP}.4.1.1.4.{ix}", 4)
        yield _str(f"{LLDP}.4.1.1.5.{ix}", _mac_bytes(n.chassis_mac))
        yield _int(f"{LLDP}.4.1.1.6.{ix}", 5)
        yield _str(f"{LLDP}.4.1.1.7.{ix}", n.port_name)
        yield _str(f"{LLDP}.4.1.1.8.{ix}", n.port_name)
        yield _str(f"{LLDP}.4.1.1.9.{ix}", n.sys_name)


def _wlan(d: Device) -> Iterator[Line]:
    aps = d.aps
    up = [a for a in aps if a.up]
    clients = sum(a.clients for a in up)
    yield _int(f"{HW_WLAN}.12.1.1.2.0", 2048, 66)  # license: max APs
    yield _int(f"{HW_WLAN}.12.1.1.3.0", 32768, 66)
    yield _int(f"{HW_WLAN}.12.1.2.1.0", len(up), 66)
    yield _int(f"{HW_WLAN}.12.1.2.2.0", clients, 66)
    yield _int(f"{HW_WLAN}.12.1.2.3.0", clients, 66)
    yield _int(f"{HW_WLAN}.12.1.2.5.0", sum(_split(a)[0] for a in up), 66)
    yield _int(f"{HW_WLAN}.12.1.2.6.0", sum(_split(a)[1] for a in up), 66)
    for a in aps:
        yield from _ap(a)


def _split(a: Ap) -> tuple[int, int]:
    """Clients on 2.4 GHz and 5 GHz."""
    c24 = a.clients // 3
    return c24, a.clients - c24


def _ap(a: Ap) -> Iterator[Line]:
    base = f"{HW_WLAN}.13.3.3.1"
    ix = _mac_index(a.mac)
    yield _str(f"{base}.1.{ix}", _mac_bytes(a.mac))
    yield _str(f"{base}.2.{ix}", a.serial)
    yield _str(f"{base}.3.{ix}", a.model)
    yield _str(f"{base}.4.{ix}", a.id)
    yield _str(f"{base}.5.{ix}", f"ap-group-{a.building}")
    yield _int(f"{base}.6.{ix}", a.run_state)
    yield _str(f"{base}.7.{ix}", "V200R021C00SPC100")
    yield _ip(f"{base}.13.{ix}", a.ipv4)
    yield _str(f"{base}.28.{ix}", ipaddress.IPv6Address(a.ipv6).packed if a.ipv6 else b"")
    yield _int(f"{base}.18.{ix}", 8_640_000 if a.up else 0, 66)
    yield _int(f"{base}.21.{ix}", 8_640_000 if a.up else 0, 66)
    yield _int(f"{base}.40.{ix}", 35 if a.up else 0)
    yield _int(f"{base}.41.{ix}", 12 if a.up else 0)
    yield _int(f"{base}.43.{ix}", 48 if a.up else 255)
    yield _int(f"{base}.44.{ix}", a.clients)
    c24, c5 = _split(a)
    radio = f"{HW_WLAN}.16.1.2.1"
    for rid, freq, channel, width, n in ((0, 1, a.channel_24, 1, c24), (1, 2, a.channel_5, 4, c5)):
        rix = f"{ix}.{rid}"
        yield _int(f"{radio}.5.{rix}", freq)
        yield _int(f"{radio}.6.{rix}", 1 if a.up else 2)
        yield _int(f"{radio}.7.{rix}", channel)
        yield _int(f"{radio}.10.{rix}", width)
        yield _int(f"{radio}.25.{rix}", (17 + 7 * n) % 90 if a.up else 0)
        yield _int(f"{radio}.40.{rix}", n)


def _board(d: Device, name: str) -> Iterator[Line]:
    yield _str(f"{ENTITY}.2.{BOARD}", f"{d.vendor.model} main board")
    yield _int(f"{ENTITY}.4.{BOARD}", 1)  # contained in the chassis
    yield _int(f"{ENTITY}.5.{BOARD}", 9)  # module
    yield _str(f"{ENTITY}.7.{BOARD}", name)


def _health(d: Device) -> Iterator[Line]:
    """Board CPU / memory / temperature, fans and power supplies, in the vendor's own MIB
    (Huawei, H3C) or the standard ENTITY-SENSOR-MIB + HOST-RESOURCES-MIB otherwise."""
    h = d.health
    assert h is not None
    if d.vendor.name == "Huawei":
        yield from _board(d, "MPU Board 0")
        st = f"{HW_ENT}.1.1"  # hwEntityStateEntry, INDEX entPhysicalIndex
        for ix, cpu, mem, size, temp, hi in ((1, 0, 0, 0, 0, 0),  # the chassis row: no CPU
                                             (BOARD, h.cpu_percent, h.mem_percent, 2**30,
                                              h.temp_c, h.temp_threshold_c)):
            yield _int(f"{st}.5.{ix}", cpu)
            yield _int(f"{st}.7.{ix}", mem)
            yield _int(f"{st}.9.{ix}", size)
            yield _int(f"{st}.11.{ix}", temp)
            yield _int(f"{st}.12.{ix}", hi)
            yield _int(f"{st}.16.{ix}", 0)
        for sn, ok in enumerate(h.fans_ok, start=1):  # hwFanStatusEntry: slot 0, fan sn
            yield _int(f"{HW_ENT}.10.1.6.0.{sn}", 1)  # present
            yield _int(f"{HW_ENT}.10.1.7.0.{sn}", 1 if ok else 2)  # normal / abnormal
        for sn, ok in enumerate(h.psus_ok, start=1):  # hwPwrStatusEntry: slot 0, psu sn
            yield _int(f"{HW_ENT}.18.1.5.0.{sn}", 1)  # present
            yield _int(f"{HW_ENT}.18.1.6.0.{sn}", 1 if ok else 2)  # supply / notSupply
        yield from _huawei_optic(d, h)
        return
    if d.vendor.name in ("H3C", "HPE"):
        yield from _board(d, "Board 1")
        yield _int(f"{H3C_ENT}.6.{BOARD}", h.cpu_percent)
        yield _int(f"{H3C_ENT}.8.{BOARD}", h.mem_percent)
        yield _int(f"{H3C_ENT}.12.{BOARD}", h.temp_c)
        yield _int(f"{H3C_ENT}.13.{BOARD}", h.temp_threshold_c)
        yield _int(f"{H3C_ENT}.12.1", 65535)  # the chassis has no sensor
    else:
        yield from _board(d, "Main board")
    # ENTITY-SENSOR-MIB: the board's temperature and the fans (H3C has no fan state of its own)
    sensors = [(BOARD + 100, "Board temperature", 8, h.temp_c, True)]
    sensors += [(BOARD + 110 + i, f"Fan {i + 1}", 10, 6000 if ok else 0, ok)
                for i, ok in enumerate(h.fans_ok)]
    for ix, name, kind, value, ok in sensors:
        yield _str(f"{ENTITY}.7.{ix}", name)
        yield _int(f"{ENTITY}.5.{ix}", 8)  # sensor
        yield _int(f"{ENT_SENSOR}.1.{ix}", kind)  # celsius(8) / rpm(10)
        yield _int(f"{ENT_SENSOR}.2.{ix}", 9)  # units
        yield _int(f"{ENT_SENSOR}.3.{ix}", 0)
        yield _int(f"{ENT_SENSOR}.4.{ix}", value)
        yield _int(f"{ENT_SENSOR}.5.{ix}", 1 if ok else 3)  # ok / nonoperational
    if d.vendor.name not in ("H3C", "HPE"):
        yield _int(f"1.3.6.1.2.1.25.3.3.1.2.{BOARD}", h.cpu_percent)  # hrProcessorLoad
        yield _str(f"1.3.6.1.2.1.25.3.2.1.3.{BOARD}", "CPU")  # hrDeviceDescr


OPTIC = 200  # entPhysicalIndex of the uplink port's optical module


def _huawei_optic(d: Device, h: Health) -> Iterator[Line]:
    """hwOpticalModuleInfoEntry for the uplink port: power in µW as VRP5 answers (see the
    huawei-entity profile), thresholds in hundredths of dBm, bias µA, voltage mV."""
    up = next((i for i in d.interfaces if i.index == d.uplink_if), None)
    if up is None:
        return
    yield _str(f"{ENTITY}.7.{OPTIC}", up.name)
    yield _int(f"{ENTITY}.5.{OPTIC}", 10)  # port
    opt = f"{HW_ENT}.3.1"
    for col, value in ((5, 38), (6, 3300), (7, 6100), (8, h.optical_rx_uw), (9, 560),
                       (13, -1400), (14, 250), (15, -950), (16, 100)):
        yield _int(f"{opt}.{col}.{OPTIC}", value)


def _poe(d: Device, h: Health) -> Iterator[Line]:
    """POWER-ETHERNET-MIB: one PSE; the access ports deliver power where an AP hangs."""
    pse = "1.3.6.1.2.1.105.1.3.1.1"
    yield _int(f"{pse}.2.1", h.poe_budget_w, 66)  # pethMainPsePower (W)
    yield _int(f"{pse}.3.1", 1)  # on
    yield _int(f"{pse}.4.1", h.poe_used_w, 66)  # pethMainPseConsumptionPower (W)
    for i in d.interfaces[:24]:
        yield _int(f"1.3.6.1.2.1.105.1.1.1.6.1.{i.index}", 3 if i.oper_up else 2)


def _ups(d: Device) -> Iterator[Line]:
    u = d.ups
    assert u is not None
    yield _str(f"{UPS}.1.1.0", d.vendor.name)
    yield _str(f"{UPS}.1.2.0", d.vendor.model)
    yield _int(f"{UPS}.2.1.0", 3 if u.charge_percent <= 25 else 2)  # batteryLow / Normal
    yield _int(f"{UPS}.2.2.0", u.seconds_on_battery if u.on_battery else 0)
    yield _int(f"{UPS}.2.3.0", u.minutes_remaining)
    yield _int(f"{UPS}.2.4.0", u.charge_percent)
    yield _int(f"{UPS}.2.7.0", 29)
    yield _int(f"{UPS}.4.1.0", 5 if u.on_battery else 3)  # battery(5) / normal(3)
