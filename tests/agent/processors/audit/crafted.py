"""A small crafted campus and the points the collectors would have produced, with known answers."""

from __future__ import annotations

from collections.abc import Iterable

from agent.core.model import Metric
from agent.processors.audit.inputs import AuditInput
from inventory.models import (
    Building,
    Campus,
    Device,
    DeviceKind,
    Inventory,
    Room,
    RoomKind,
)

T0 = 1_700_000_000 * 10**9
MIN = 60 * 10**9


def dev(id: str, kind: DeviceKind, building: str | None = "dc", room: str | None = None,
        **kw: object) -> Device:
    return Device(id=id, kind=kind, campus="c1", building=building, room=room, **kw)  # type: ignore[arg-type]


def inventory(egress: bool = True) -> Inventory:
    campus = Campus("c1", "测试学院 Test college", 9000, 1000, "Hunan")
    buildings = [Building("dc", "信息中心"), Building("ta", "教学楼A")]
    rooms = [
        Room("dc-101", "机房", RoomKind.MACHINE_ROOM, "dc"),
        Room("a-101", "A101", RoomKind.CLASSROOM, "ta"),
        Room("a-102", "A102", RoomKind.CLASSROOM, "ta"),  # no AP at all
        Room("a-201", "A201 Lab", RoomKind.LAB, "ta"),  # AP down
        Room("a-301", "Library", RoomKind.LIBRARY, "ta"),  # AP declared, no controller data
    ]
    devices = [
        dev("gw", DeviceKind.ROUTER, room="dc-101", vendor="Huawei",
            roles=frozenset({"egress"}) if egress else frozenset(),
            labels={"isp": "CERNET", "egress_interfaces": "GE0/0/1=CERNET"}),
        dev("core", DeviceKind.CORE_SWITCH, room="dc-101", vendor="Huawei"),
        dev("acc", DeviceKind.ACCESS_SWITCH, building="ta", vendor="H3C"),
        dev("fw", DeviceKind.FIREWALL, room="dc-101", vendor="Cisco"),
        dev("ac", DeviceKind.WLAN_CONTROLLER, room="dc-101", vendor="Huawei"),
        dev("ap1", DeviceKind.AP, building="ta", room="a-101", vendor="Huawei",
            mac="00:00:00:00:00:01"),
        dev("ap2", DeviceKind.AP, building="ta", room="a-201", vendor="Huawei",
            mac="00:00:00:00:00:02"),
        dev("ap3", DeviceKind.AP, building="ta", room="a-301", vendor="Huawei",
            mac="00:00:00:00:00:03"),
        dev("cam", DeviceKind.CAMERA, building="ta", room="a-101", vendor="Hikvision",
            ipv6="2001:db8::10", mac="44:19:b6:00:00:01"),
        dev("door", DeviceKind.DOOR_ACCESS, building="ta", room="a-101", vendor="ZKTeco",
            mac="00:11:22:33:44:01"),
        dev("cpe", DeviceKind.CPE_5G, building="ta", room="a-101", vendor="Acme Wireless"),
        dev("srv", DeviceKind.SERVER, room="dc-101", vendor="Inspur",
            labels={"system": "教务系统", "system_vendor": "正方"}),
    ]
    return Inventory.build(campus, buildings, rooms, devices)


def tags(inv: Inventory, device: str, **extra: str) -> dict[str, str]:
    d = inv.device(device)
    assert d is not None
    return {**d.tags(), **extra}


def points(inv: Inventory, t0: int = T0) -> list[Metric]:
    """Five minutes of samples, one per minute. Known answers are in the tests."""
    T0 = t0  # shadows the module default on purpose
    out: list[Metric] = []
    # IPv6 facts
    for d, g, v4f, v6f in (("gw", 2, 1, 1), ("core", 1, 1, 0), ("acc", 0, 0, 0),
                           ("fw", 1, 1, 1)):
        out.append(Metric("snmp_ipv6", tags(inv, d), {
            "global_addresses": g, "interfaces_with_global_ipv6": g, "interfaces": 4,
            "ipv6_forwarding": v6f, "ipv4_forwarding": v4f}, T0))
    # egress: GE0/0/1, 1000 Mbps; in grows 60e9 bits/min = ... see test
    in_rates = [100, 200, 950, 300]  # Mbps per minute interval
    out_rates = [50, 50, 50, 50]
    i_oct = o_oct = 10**12
    for k in range(5):
        out.append(Metric("snmp_interface", tags(inv, "gw", ifname="GE0/0/1", ifindex="1",
                                                 ifalias="to CERNET"),
                          {"in_octets": i_oct, "out_octets": o_oct, "speed_mbps": 1000,
                           "oper_status": 1}, T0 + k * MIN))
        out.append(Metric("snmp_interface", tags(inv, "gw", ifname="GE0/0/2", ifindex="2",
                                                 ifalias="inside"),
                          {"in_octets": 5 * k, "out_octets": 5 * k, "speed_mbps": 10000},
                          T0 + k * MIN))
        if k < 4:
            i_oct += in_rates[k] * 10**6 * 60 // 8
            o_oct += out_rates[k] * 10**6 * 60 // 8
    # IP-MIB per version: v4 +3e9, v6 +1e9 bytes over the window, with a reset in v6
    v4 = [0, 1e9, 2e9, 3e9, 3e9]
    v6 = [0, 0.5e9, 10, 10 + 0.5e9, 10 + 0.5e9]  # reset between sample 1 and 2
    for k in range(5):
        out.append(Metric("snmp_ip_traffic", tags(inv, "gw", ip_version="ipv4"),
                          {"in_octets": int(v4[k]), "out_octets": 0}, T0 + k * MIN))
        out.append(Metric("snmp_ip_traffic", tags(inv, "gw", ip_version="ipv6"),
                          {"in_octets": int(v6[k]), "out_octets": 0}, T0 + k * MIN))
    # wireless: ap1 up with 2 radios, ap2 down
    out.append(Metric("wlan_ap", tags(inv, "ac", ap_name="ap1", ap_mac="00:00:00:00:00:01",
                                      room="a-101", building="ta", ap_state="up"),
                      {"up": 1, "clients": 23}, T0))
    out.append(Metric("wlan_ap", tags(inv, "ac", ap_name="ap2", ap_mac="00:00:00:00:00:02",
                                      room="a-201", building="ta", ap_state="down"),
                      {"up": 0, "clients": 0}, T0))
    for radio, band, util in (("0", "2.4GHz", 40), ("1", "5GHz", 20)):
        out.append(Metric("wlan_radio", tags(inv, "ac", ap_name="ap1",
                                             ap_mac="00:00:00:00:00:01", radio=radio, band=band),
                          {"up": 1, "utilization_percent": util, "clients": 10, "channel": 1},
                          T0))
    # 5G: 10 samples in a-101, 9 meet DL>=200/UL>=40
    for k in range(10):
        dl, ul = (300.0, 60.0) if k < 9 else (100.0, 20.0)
        out.append(Metric("cellular_5g", tags(inv, "cpe", band="n78", cell="1"),
                          {"dl_mbps": dl, "ul_mbps": ul}, T0 + k * 10**9))
    out.append(Metric("wifi_survey", tags(inv, "cpe", band="5GHz"), {"rssi_dbm": -55}, T0))
    # web
    for site, ok in (("www", 1), ("jw", 1), ("lib", 0)):
        out.append(Metric("web_ipv6_support", {"campus": "c1", "site": site},
                          {"pass": ok, "aaaa": 1}, T0))
    # hosts
    out.append(Metric("host_identity", tags(inv, "srv", cpu_domestic="yes", cpu_rule="d.2 x",
                                            os_domestic="unknown", os_rule="no OS rule matched",
                                            cpu_vendor="Hygon", os_vendor="x"), {"info": 1}, T0))
    # SNMP says the Cisco firewall is, in fact, a Huawei (SNMP wins over the declaration)
    out.append(Metric("snmp_device_info", tags(inv, "fw", domestic="yes",
                                               domestic_rule="d.1 sysObjectID .2011",
                                               detected_vendor="Huawei"), {"info": 1}, T0))
    return out


def audit_input(inv: Inventory | None = None, pts: Iterable[Metric] | None = None
                ) -> AuditInput:
    inv = inv or inventory()
    return AuditInput.from_inventory(inv, points(inv) if pts is None else pts, T0 - MIN,
                                     T0 + 10 * MIN)
