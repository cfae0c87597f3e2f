"""The simulated campus as plain data, planned deterministically from a seed.

One plan feeds three writers (snmprec per device, the inventory, the ground truth), so the
SNMP data, the inventory and what tests expect can never disagree.

Addresses: every SNMP-served device gets its own loopback IPv4 (127.<a>.<b>.<c>): Linux routes
all of 127/8 to `lo`, so one snmpsim process can listen on one endpoint per device and the agent
polls the inventory address unchanged, without root and without touching the host's network.
IPv6 management addresses come from 3fff::/20, the documentation prefix of RFC 9637: never routed,
yet (unlike 2001:db8::/32) not in Python 3.11's table of special-purpose ranges, so the agent
counts them as global addresses the way it counts a campus's real CERNET/ISP prefix. The devices
report them in IP-MIB; the simulator also answers on [::1] when asked.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field

from inventory.models import DeviceKind, RoomKind


@dataclass(frozen=True, slots=True)
class Vendor:
    name: str  # as the inventory and audits spell it
    domestic: bool
    sys_object_id: str
    model: str
    sys_descr: str
    firmware: str
    mac_prefix: str  # an OUI of the vendor (ieee-data), 3 octets


# sysObjectID prefixes and sysDescr shapes per docs/standards.md#d-1 (Observium/LibreNMS rules).
HUAWEI_CORE = Vendor(
    "Huawei", True, "1.3.6.1.4.1.2011.2.23.530", "S12700E-8",
    "Huawei Versatile Routing Platform Software\r\nVRP (R) software, Version 8.191 "
    "(S12700E V600R022C00SPC500)\r\nCopyright (C) 2000-2023 HUAWEI TECH Co., Ltd.\r\n"
    "HUAWEI S12700E-8", "V600R022C00SPC500", "00:e0:fc")
HUAWEI_ROUTER = Vendor(
    "Huawei", True, "1.3.6.1.4.1.2011.2.62.30", "NE40E-X8A",
    "Huawei Versatile Routing Platform Software\r\nVRP (R) software, Version 8.210 "
    "(NE40E V800R021C10SPC600)\r\nCopyright (C) 2012-2023 Huawei Technologies Co., Ltd.\r\n"
    "HUAWEI NE40E-X8A", "V800R021C10SPC600", "00:e0:fc")
HUAWEI_AC = Vendor(
    "Huawei", True, "1.3.6.1.4.1.2011.2.240.17", "AC6805",
    "Huawei AC6805 Huawei Versatile Routing Platform Software VRP (R) software,Version 5.170 "
    "(AC6805 V200R021C00SPC100) Copyright (C) 2011-2022 Huawei Technologies Co., Ltd",
    "V200R021C00SPC100", "00:e0:fc")
ACCESS_VENDORS: tuple[Vendor, ...] = (
    Vendor("H3C", True, "1.3.6.1.4.1.25506.1.2207", "S5130S-52S-EI",
           "H3C Comware Platform Software, Software Version 7.1.070, Release 6616\r\n"
           "H3C S5130S-52S-EI\r\nCopyright (c) 2004-2023 New H3C Technologies Co., Ltd. "
           "All rights reserved.", "7.1.070 Release 6616", "70:ba:ef"),
    Vendor("Ruijie", True, "1.3.6.1.4.1.4881.1.1.10.1.587", "S2910-48GT4XS-E",
           "Ruijie Full Gigabit Security & Intelligence Access Switch(S2910-48GT4XS-E) "
           "By Ruijie Networks", "RGOS 11.4(1)B12P16", "00:d0:f8"),
    Vendor("Huawei", True, "1.3.6.1.4.1.2011.2.23.291", "S5720-52X-PWR-SI",
           "Huawei Versatile Routing Platform Software\r\nVRP (R) software,Version 5.170 "
           "(S5720 V200R019C10SPC500)\r\nCopyright (C) 2007 Huawei Technologies Co., Ltd.",
           "V200R019C10SPC500", "00:e0:fc"),
    Vendor("ZTE", True, "1.3.6.1.4.1.3902.3.600.3.1.790", "5950-52TM",
           "ZTE 5950-52TM Software, 5900 Version: V3.03.10.B30P11,  RELEASE SOFTWARE, "
           "Product Version : V1.0", "V3.03.10.B30P11", "00:19:c6"),
    Vendor("Cisco", False, "1.3.6.1.4.1.9.1.1208", "WS-C2960X-48FPD-L",
           "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E8, "
           "RELEASE SOFTWARE (fc1)\r\nTechnical Support: http://www.cisco.com/techsupport\r\n"
           "Copyright (c) 1986-2023 by Cisco Systems, Inc.", "15.2(7)E8", "00:1b:54"),
    Vendor("HPE", False, "1.3.6.1.4.1.25506.11.1.172", "FF 5700-40XG-2QSFP+",
           "HPE Comware Platform Software, Software Version 7.1.045, Release 2432P06\r\n"
           "HPE FF 5700-40XG-2QSFP+ Switch\r\nCopyright (c) 2010-2023 Hewlett Packard "
           "Enterprise Development LP", "7.1.045 Release 2432P06", "94:57:a5"),
)
# weights: most campus access switches in China are domestic; a few foreign ones remain
ACCESS_WEIGHTS = (30, 20, 25, 10, 10, 5)

AP_MODELS = ("AirEngine5761-11", "AirEngine5760-10", "AP4050DN")
AP_STATES_DOWN = (4, 1, 12)  # fault, idle, verMismatch (not normal(8))

BUILDING_NAMES = (
    ("teach-a", "教学楼A Teaching building A"), ("teach-b", "教学楼B Teaching building B"),
    ("train", "实训楼 Training building"), ("lib", "图书馆 Library"),
    ("admin", "行政楼 Administration"), ("dorm-1", "学生公寓1 Dormitory 1"),
    ("teach-c", "教学楼C Teaching building C"), ("gym", "体育馆 Gymnasium"),
)
ROOM_KIND_CYCLE = (RoomKind.CLASSROOM, RoomKind.CLASSROOM, RoomKind.LAB, RoomKind.OFFICE,
                   RoomKind.CLASSROOM, RoomKind.LAB)


@dataclass(slots=True)
class Interface:
    index: int
    name: str
    descr: str
    speed_mbps: int
    mac: str
    alias: str = ""
    oper_up: bool = True
    in_rate: int = 0  # octets per second the counters advance by
    out_rate: int = 0
    in_initial: int = 0
    out_initial: int = 0

    @property
    def in_bps(self) -> int:
        return self.in_rate * 8

    @property
    def out_bps(self) -> int:
        return self.out_rate * 8


@dataclass(slots=True)
class Neighbor:
    local_port: int  # ifIndex (= LLDP local port number)
    chassis_mac: str
    port_name: str
    sys_name: str


@dataclass(slots=True)
class FdbEntry:
    mac: str
    vlan: int
    if_index: int


@dataclass(slots=True)
class Neighbour:
    """An ipNetToPhysicalTable row (ARP / IPv6 ND) on the gateway."""

    if_index: int
    ip: str
    mac: str


@dataclass(slots=True)
class IpTraffic:
    """Per-IP-version octet rates of the egress router (ipSystemStatsTable / ipIfStatsTable)."""

    version: int  # 1 = IPv4, 2 = IPv6 (InetVersion)
    in_rate: int
    out_rate: int
    in_initial: int
    out_initial: int
    in_pkts_rate: int
    out_pkts_rate: int


@dataclass(slots=True)
class Ap:
    id: str
    mac: str
    model: str
    building: str
    room: str
    ipv4: str
    ipv6: str | None
    run_state: int  # hwWlanApRunState: 8 = normal
    clients: int
    switch: str
    switch_port: str
    serial: str
    channel_24: int
    channel_5: int

    @property
    def up(self) -> bool:
        return self.run_state == 8


@dataclass(slots=True)
class Health:
    """A device's board, fans and power as its health tables report them (vendor MIBs for
    Huawei and H3C, ENTITY-SENSOR-MIB otherwise)."""

    cpu_percent: int = 12
    mem_percent: int = 35
    temp_c: int = 41
    temp_threshold_c: int = 75
    fans_ok: tuple[bool, ...] = (True, True)
    psus_ok: tuple[bool, ...] = (True,)
    optical_rx_uw: int = 520  # the uplink module's received power (Huawei), µW
    poe_budget_w: int = 0  # a PoE switch's PSE budget; 0 = no PoE
    poe_used_w: int = 0


@dataclass(slots=True)
class Ups:
    """A UPS answering UPS-MIB (RFC 1628)."""

    on_battery: bool = False
    charge_percent: int = 100
    minutes_remaining: int = 42
    seconds_on_battery: int = 0


@dataclass(frozen=True, slots=True)
class ServerSoftware:
    """What a server answers in HOST-RESOURCES-MIB: its processor description (hrDeviceDescr,
    net-snmp's `vendor_id: model name`) and running processes (name, path, parameters)."""

    cpu_descr: str
    processes: tuple[tuple[str, str, str], ...]


# Servers of the IT-asset campus (make_plan servers=True): hardware vendor, CPU, OS (kernel
# release in sysDescr, as net-snmp reports it), database and middleware processes, and the
# information system each hosts (inventory labels system / system_vendor / system_url).
SERVER_SPECS: tuple[tuple[str, Vendor, ServerSoftware, dict[str, str]], ...] = (
    ("srv-jw", Vendor("Inspur", True, "1.3.6.1.4.1.8072.3.2.10", "NF5280M6",
                      "Linux srv-jw 4.19.90-24.4.v2101.ky10.x86_64 #1 SMP Mon May 24 14:56:00 "
                      "CST 2021 x86_64", "4.19.90", "6c:92:bf"),
     ServerSoftware("HygonGenuine: Hygon C86 7285 32-core Processor", (
         ("systemd", "/usr/lib/systemd/systemd", "--switched-root --system"),
         ("dmserver", "/opt/dmdbms/bin/dmserver", "/opt/dmdbms/data/DAMENG/dm.ini"),
         ("java", "/opt/TongWeb7.0/jdk/bin/java",
          "-Dtongweb.home=/opt/TongWeb7.0 com.tongweb.server.startup.Bootstrap start"))),
     {"system": "教务管理系统 Academic affairs", "system_url": "https://jw.example.edu.cn/"}),
    ("srv-oa", Vendor("Huawei", True, "1.3.6.1.4.1.8072.3.2.10", "TaiShan 200 2280",
                      "Linux srv-oa 5.10.0-60.18.0.50.oe2203.aarch64 #1 SMP Wed Mar 30 "
                      "02:40:03 UTC 2022 aarch64", "5.10.0", "00:e0:fc"),
     ServerSoftware("AArch64 Processor rev 0 (aarch64)", (
         ("gaussdb", "/opt/opengauss/bin/gaussdb", "-D /opt/opengauss/data"),
         ("java", "/opt/BES/jdk/bin/java", "-Dcom.bes.instanceRoot=/opt/BES/domains "
          "com.bes.enterprise.startup.Bootstrap"))),
     {"system": "协同办公系统 Office automation", "system_url": "https://oa.example.edu.cn/"}),
    ("srv-lib", Vendor("Dell", False, "1.3.6.1.4.1.8072.3.2.10", "PowerEdge R740",
                       "Linux srv-lib 3.10.0-1160.el7.x86_64 #1 SMP Mon Oct 19 16:18:59 UTC "
                       "2020 x86_64", "3.10.0", "f8:bc:12"),
     ServerSoftware("GenuineIntel: Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz", (
         ("ora_pmon_LIB", "ora_pmon_LIB", ""),
         ("java", "/u01/oracle/jdk/bin/java", "-Dweblogic.Name=AdminServer weblogic.Server"))),
     {"system": "图书管理系统 Library", "system_url": "https://lib.example.edu.cn/"}),
)
# Security appliances of the IT-asset campus (make_plan servers=True): the egress firewall is
# domestic (Hillstone, PEN 28557, StoneOS; the sysObjectID/sysDescr shape of the row in
# tests/collectors/snmp/test_identify.py), the data-centre firewall foreign (Fortinet FortiGate,
# PEN 12356, sysObjectID of the recording ../shared/fixtures/snmprec/fortigate_60fospfv3), so the
# localization audit's `security` category has one item each side, classified by the vendor
# catalogue (agent/shared/vendors.py rules hillstone-pen / fortinet-pen).
SECURITY_SPECS: tuple[tuple[str, Vendor], ...] = (
    ("fw-egress", Vendor("Hillstone", True, "1.3.6.1.4.1.28557.1.21", "SG-6000-E3960",
                         "Hillstone Networks StoneOS software version 5.5R9P3 "
                         "(SG-6000-E3960)", "5.5R9P3", "00:1c:54")),
    ("fw-dc", Vendor("Fortinet", False, "1.3.6.1.4.1.12356.101.1.644", "FortiGate-60F",
                     "FortiGate-60F", "v7.2.5", "00:09:0f")),
)
# Teaching and office terminals from the school's asset register (inventory only: terminals
# are not polled; the DHCP listener classifies what it sees on the LAN): maker, model and the
# OS / CPU columns as a school writes them (free text; the last one names no OS a rule knows,
# an `unknown` the audit counts apart).
TERMINAL_SPECS: tuple[tuple[str, str, str, str], ...] = (
    ("Lenovo", "开天 M740J (Kylin)", "银河麒麟 V10 SP1", "兆芯 KX-6640MA"),
    ("Lenovo", "ThinkCentre M90t", "Windows 10 教育版", "Intel Core i5-10500"),
    ("Dell", "OptiPlex 7090", "Windows 11 Pro", "Intel Core i7-10700"),
    ("Lenovo", "开天 M630Z (UOS)", "统信UOS 20 专业版", "飞腾 D2000"),
    ("HP", "ProDesk 400 G7", "自装系统 (self-installed)", "Intel Core i5-10500"))


@dataclass(slots=True)
class Device:
    id: str
    kind: DeviceKind
    vendor: Vendor
    building: str
    room: str | None
    ipv4: str  # management address: a loopback address the simulator listens on
    ipv6: str | None
    mac: str
    serial: str
    parent: str | None = None
    parent_port: str | None = None
    roles: tuple[str, ...] = ()
    interfaces: list[Interface] = field(default_factory=list)
    neighbors: list[Neighbor] = field(default_factory=list)
    fdb: list[FdbEntry] = field(default_factory=list)
    arp: list[Neighbour] = field(default_factory=list)  # the core switch is the L3 gateway
    ipv6_globals: list[str] = field(default_factory=list)
    ip_traffic: list[IpTraffic] = field(default_factory=list)
    uplink_if: int = 0  # ifIndex of the uplink / ISP port
    aps: list[Ap] = field(default_factory=list)  # for a WLAN controller
    uptime_ticks: int = 0
    health: Health | None = field(default_factory=Health)
    ups: Ups | None = None
    stp_changes: int = 3  # dot1dStpTopChanges
    server: ServerSoftware | None = None  # HOST-RESOURCES hrDevice/hrSWRun (servers)
    labels: dict[str, str] = field(default_factory=dict)  # extra inventory labels

    @property
    def community(self) -> str:
        return self.id


@dataclass(slots=True)
class Room:
    id: str
    name: str
    kind: RoomKind
    building: str
    floor: int


@dataclass(slots=True)
class Building:
    id: str
    name: str
    rooms: list[Room] = field(default_factory=list)


@dataclass(slots=True)
class CampusPlan:
    code: str
    name: str
    seed: int
    port: int
    buildings: list[Building]
    devices: list[Device]  # SNMP-served: router, core, access switches, AC
    aps: list[Ap]
    # asset-register terminals (id, maker, model, building, room, mac, register os and cpu):
    # inventory only
    terminals: list[tuple[str, str, str, str, str, str, str, str]] = field(
        default_factory=list)

    def device(self, device_id: str) -> Device:
        return next(d for d in self.devices if d.id == device_id)


# ---------------------------------------------------------------------------------------------

def _mac(rng: random.Random, prefix: str, used: set[str]) -> str:
    while True:
        mac = prefix + ":" + ":".join(f"{rng.randrange(256):02x}" for _ in range(3))
        if mac not in used:
            used.add(mac)
            return mac


def _serial(rng: random.Random, vendor: Vendor) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return vendor.name[:2].upper() + "".join(rng.choice(alphabet) for _ in range(10))


class _Addresses:
    """Loopback IPv4 per SNMP device (127.<net>.<hi>.<lo>), 3fff::/20 IPv6, 10.x for APs."""

    def __init__(self, net: int) -> None:
        self.net = net
        self.n = 0
        self.ap_n = 0

    def next_v4(self) -> str:
        self.n += 1
        return f"127.{self.net}.{self.n // 250}.{self.n % 250 + 1}"

    def v6(self, building_no: int, host: int) -> str:
        return ipaddress.IPv6Address(f"3fff:{self.net:x}:{building_no:x}::{host:x}").compressed

    def next_ap(self) -> str:
        self.ap_n += 1
        return f"10.{self.net}.{100 + self.ap_n // 250}.{self.ap_n % 250 + 1}"


def _port_ifaces(rng: random.Random, device_mac: str, ports: int, uplinks: int,
                 access_name: str, uplink_name: str) -> list[Interface]:
    """Access ports (1 Gb/s) then uplinks (10 Gb/s), then Vlanif1 for management."""
    out: list[Interface] = []
    base = int(device_mac.replace(":", ""), 16)

    def mac_for(i: int) -> str:
        v = (base + i) & 0xFFFFFFFFFFFF
        return ":".join(f"{(v >> s) & 0xFF:02x}" for s in range(40, -8, -8))

    for i in range(1, ports + 1):
        up = rng.random() < 0.7
        out.append(Interface(i, access_name.format(i), access_name.format(i), 1000, mac_for(i),
                             oper_up=up,
                             in_rate=rng.randrange(1_000, 2_000_000) if up else 0,
                             out_rate=rng.randrange(1_000, 6_000_000) if up else 0,
                             in_initial=rng.randrange(2**40), out_initial=rng.randrange(2**40)))
    for j in range(1, uplinks + 1):
        i = ports + j
        out.append(Interface(i, uplink_name.format(j), uplink_name.format(j), 10_000,
                             mac_for(i), in_initial=rng.randrange(2**44),
                             out_initial=rng.randrange(2**44)))
    out.append(Interface(ports + uplinks + 1, "Vlanif1", "Vlanif1", 1000, mac_for(0)))
    return out


UPS_VENDOR = Vendor(
    "APC", False, "1.3.6.1.4.1.318.1.3.27", "Smart-UPS X 750",
    "APC Web/SNMP Management Card (MB:v4.1.0 PF:v7.0.8 PN:apc_hw05_aos_708.bin "
    "AF1:v7.0.6 AN1:apc_hw05_sumx_706.bin MN:AP9641 HR:05 SN: ZA1234567890 MD:01/01/2023)",
    "v7.0.8", "00:c0:b7")


def make_plan(switches: int, aps: int, campus: str = "sim", seed: int = 1,
              port: int = 1161, name: str | None = None, ups: bool = False,
              servers: bool = False) -> CampusPlan:
    """`switches` counts the core switch and the access switches (at least 1); `ups` adds a
    UPS in the machine room (UPS-MIB), fed on the core switch; `servers` adds the machine
    room's servers (HOST-RESOURCES: CPU, OS, database, middleware, hosted systems), the
    asset register's terminals and two firewalls (one domestic, one foreign) for the
    localization audit's security category."""
    if switches < 1:
        raise ValueError("a campus needs at least one switch (the core)")
    if aps < 0:
        raise ValueError("aps must be >= 0")
    rng = random.Random(f"{campus}/{seed}")
    term_list: list[tuple[str, str, str, str, str, str, str, str]] = []
    net = 20 + (sum(campus.encode()) + seed) % 200
    addr = _Addresses(net)
    macs: set[str] = set()
    buildings = [Building("dc", "信息中心 Data Centre",
                          [Room("dc-101", "核心机房 Core machine room", RoomKind.MACHINE_ROOM,
                                "dc", 1)])]
    access_count = switches - 1
    n_buildings = max(1, min(len(BUILDING_NAMES), (access_count + 2) // 3)) if access_count else 0
    for bid, bname in BUILDING_NAMES[:n_buildings]:
        buildings.append(Building(bid, bname))

    devices: list[Device] = []
    router = Device("egress-router", DeviceKind.ROUTER, HUAWEI_ROUTER, "dc", "dc-101",
                    addr.next_v4(), addr.v6(0, 1), _mac(rng, "00:e0:fc", macs),
                    _serial(rng, HUAWEI_ROUTER), roles=("egress",),
                    uptime_ticks=rng.randrange(10**7, 10**9))
    core = Device("core-sw", DeviceKind.CORE_SWITCH, HUAWEI_CORE, "dc", "dc-101",
                  addr.next_v4(), addr.v6(0, 2), _mac(rng, "00:e0:fc", macs),
                  _serial(rng, HUAWEI_CORE), parent=router.id,
                  uptime_ticks=rng.randrange(10**7, 10**9))
    devices += [router, core]

    # -- egress router: ISP uplink + link to the core; per-IP-version traffic
    router.interfaces = [
        Interface(1, "GigabitEthernet0/1/0", "GigabitEthernet0/1/0", 10_000,
                  router.mac, alias="ISP CERNET uplink"),
        Interface(2, "GigabitEthernet0/1/1", "GigabitEthernet0/1/1", 10_000,
                  _mac(rng, "00:e0:fc", macs), alias="to core-sw"),
        Interface(3, "LoopBack0", "LoopBack0", 0, router.mac),
    ]
    router.uplink_if = 1
    v4_in, v4_out = rng.randrange(40, 90) * 1_250_000, rng.randrange(8, 20) * 1_250_000
    v6_in, v6_out = rng.randrange(5, 30) * 1_250_000, rng.randrange(1, 8) * 1_250_000
    router.ip_traffic = [
        IpTraffic(1, v4_in, v4_out, rng.randrange(2**46), rng.randrange(2**46),
                  v4_in // 900, v4_out // 600),
        IpTraffic(2, v6_in, v6_out, rng.randrange(2**44), rng.randrange(2**44),
                  v6_in // 950, v6_out // 650),
    ]
    isp = router.interfaces[0]
    isp.in_rate, isp.out_rate = v4_in + v6_in, v4_out + v6_out
    isp.in_initial, isp.out_initial = rng.randrange(2**46), rng.randrange(2**46)
    to_core = router.interfaces[1]
    to_core.in_rate, to_core.out_rate = isp.out_rate, isp.in_rate
    to_core.in_initial, to_core.out_initial = rng.randrange(2**46), rng.randrange(2**46)
    router.ipv6_globals = [router.ipv6 or "", addr.v6(0, 0x101)]

    # -- core switch: one 10G port per access switch, one to the router, one to the AC
    core.interfaces = _port_ifaces(rng, core.mac, 0, access_count + 2, "", "XGigabitEthernet1/0/{}")
    for itf in core.interfaces:
        itf.oper_up = True
    core.uplink_if = 1
    core.interfaces[0].alias = "to egress-router"
    core.interfaces[0].in_rate, core.interfaces[0].out_rate = to_core.out_rate, to_core.in_rate
    core.parent_port = to_core.name
    core.ipv6_globals = [core.ipv6 or ""]
    core.neighbors.append(Neighbor(1, router.mac, to_core.name, router.id))
    router.neighbors.append(Neighbor(2, core.mac, core.interfaces[0].name, core.id))

    ac: Device | None = None
    if aps:
        ac = Device("ac-1", DeviceKind.WLAN_CONTROLLER, HUAWEI_AC, "dc", "dc-101",
                    addr.next_v4(), addr.v6(0, 3), _mac(rng, "00:e0:fc", macs),
                    _serial(rng, HUAWEI_AC), parent=core.id,
                    uptime_ticks=rng.randrange(10**7, 10**9))
        ac.interfaces = _port_ifaces(rng, ac.mac, 0, 2, "", "XGigabitEthernet0/0/{}")
        ac.uplink_if = 1
        core_port = core.interfaces[1]
        core_port.alias = "to ac-1"
        ac.parent_port = core_port.name
        ac.ipv6_globals = [ac.ipv6 or ""]
        core.neighbors.append(Neighbor(core_port.index, ac.mac, ac.interfaces[0].name, ac.id))
        ac.neighbors.append(Neighbor(1, core.mac, core_port.name, core.id))
        devices.append(ac)

    # -- access switches spread over buildings; each building gets rooms on floors
    access: list[Device] = []
    per_building: dict[str, list[Device]] = {}
    for k in range(access_count):
        b = buildings[1 + k % n_buildings]
        vendor = rng.choices(ACCESS_VENDORS, ACCESS_WEIGHTS)[0]
        n_in_b = len(per_building.setdefault(b.id, [])) + 1
        dual_stack = rng.random() < 0.75
        sw = Device(f"{b.id}-sw-{n_in_b}", DeviceKind.ACCESS_SWITCH, vendor, b.id, None,
                    addr.next_v4(), addr.v6(1 + k % n_buildings, 0x10 + n_in_b) if dual_stack
                    else None, _mac(rng, vendor.mac_prefix, macs), _serial(rng, vendor),
                    parent=core.id, uptime_ticks=rng.randrange(10**6, 10**9))
        access_name, uplink_name = _port_names(vendor)
        sw.interfaces = _port_ifaces(rng, sw.mac, 24, 2, access_name, uplink_name)
        up = sw.interfaces[24]  # first uplink
        up.alias = "uplink to core-sw"
        up.oper_up = True
        sw.uplink_if = up.index
        core_port = core.interfaces[(2 if ac else 1) + k]
        core_port.alias = f"to {sw.id}"
        sw.parent_port = core_port.name
        # the uplink carries the sum of the access ports
        up.in_rate = sum(i.out_rate for i in sw.interfaces[:24])
        up.out_rate = sum(i.in_rate for i in sw.interfaces[:24])
        core_port.in_rate, core_port.out_rate = up.out_rate, up.in_rate
        sw.ipv6_globals = [sw.ipv6] if sw.ipv6 else []
        sw.neighbors.append(Neighbor(up.index, core.mac, core_port.name, core.id))
        core.neighbors.append(Neighbor(core_port.index, sw.mac, up.name, sw.id))
        sw.fdb.append(FdbEntry(core.mac, 1, up.index))
        core.fdb.append(FdbEntry(sw.mac, 1, core_port.index))
        per_building[b.id].append(sw)
        access.append(sw)
        devices.append(sw)

    # rooms: 3 per access switch, some floors; the last room of some switches stays without AP
    for b in buildings[1:]:
        sws = per_building.get(b.id, [])
        for n in range(len(sws)):
            floor = n + 1
            for r in range(3):
                kind = ROOM_KIND_CYCLE[(n * 3 + r) % len(ROOM_KIND_CYCLE)]
                rid = f"{b.id}-{floor}{r + 1:02d}"
                b.rooms.append(Room(rid, f"{rid.upper()} {_ROOM_LABEL[kind]}", kind, b.id, floor))

    # -- APs: placed round-robin over rooms (every 4th room left empty), wired to the switch
    ap_list: list[Ap] = []
    if aps and access:
        rooms = [(b, room) for b in buildings[1:] for room in b.rooms]
        with_ap = [x for i, x in enumerate(rooms) if i % 4 != 3] or rooms
        next_port: dict[str, int] = {}
        for i in range(aps):
            b, room = with_ap[i % len(with_ap)]
            sws = per_building[b.id]
            sw = sws[(room.floor - 1) % len(sws)]
            port_no = next_port.get(sw.id, 0) + 1
            next_port[sw.id] = port_no
            itf = sw.interfaces[(port_no - 1) % 24]
            itf.oper_up = True
            if not itf.in_rate:
                itf.in_rate, itf.out_rate = rng.randrange(1_000, 500_000), rng.randrange(
                    1_000, 2_000_000)
            state = 8 if rng.random() < 0.85 else rng.choice(AP_STATES_DOWN)
            mac = _mac(rng, "70:ba:ef" if rng.random() < 0.5 else "00:e0:fc", macs)
            ap = Ap(f"{room.id}-ap{1 + sum(1 for a in ap_list if a.room == room.id)}",
                    mac, rng.choice(AP_MODELS), b.id, room.id, addr.next_ap(),
                    ipaddress.IPv6Address(f"3fff:{net:x}:ff::{len(ap_list) + 1:x}").compressed
                    if rng.random() < 0.6 else None,
                    state, rng.randrange(0, 60) if state == 8 else 0, sw.id, itf.name,
                    "21" + "".join(rng.choice("0123456789ABCDEF") for _ in range(18)),
                    rng.choice((1, 6, 11)), rng.choice((36, 44, 149, 157)))
            ap_list.append(ap)
            sw.fdb.append(FdbEntry(mac, 1, itf.index))
            sw.neighbors.append(Neighbor(itf.index, mac, "GE0/0/0", ap.id))
            # the core learns the AP behind the access switch and resolves its addresses
            toward = next(i.index for i in core.interfaces if i.name == sw.parent_port)
            core.fdb.append(FdbEntry(mac, 1, toward))
            core.arp.append(Neighbour(toward, ap.ipv4, mac))
            if ap.ipv6:
                core.arp.append(Neighbour(toward, ap.ipv6, mac))
        # the up-links' rates follow the access ports that now carry APs
        for sw in access:
            up = sw.interfaces[24]
            up.in_rate = sum(i.out_rate for i in sw.interfaces[:24])
            up.out_rate = sum(i.in_rate for i in sw.interfaces[:24])
            core_port = next(i for i in core.interfaces if i.name == sw.parent_port)
            core_port.in_rate, core_port.out_rate = up.out_rate, up.in_rate
    elif aps:
        # no access switch: the APs hang off the core switch in the machine room
        room = buildings[0].rooms[0]
        for i in range(aps):
            mac = _mac(rng, "00:e0:fc", macs)
            ap_list.append(Ap(f"{room.id}-ap{i + 1}", mac, rng.choice(AP_MODELS), "dc",
                              room.id, addr.next_ap(), None, 8, 0, core.id,
                              core.interfaces[-2].name, f"21{i:018d}", 1, 36))
    if ac is not None:
        ac.aps = ap_list
    for sw in access:  # PoE access switches: ~13 W per AP they power
        powered = sum(1 for a in ap_list if a.switch == sw.id)
        sw.health = Health(cpu_percent=5 + powered, poe_budget_w=370, poe_used_w=13 * powered)
    if ups:
        # added last: every other device keeps the address and MAC it had without a UPS
        u = Device("ups-1", DeviceKind.UPS, UPS_VENDOR, "dc", "dc-101", addr.next_v4(), None,
                   _mac(rng, UPS_VENDOR.mac_prefix, macs), _serial(rng, UPS_VENDOR),
                   parent=core.id, uptime_ticks=rng.randrange(10**6, 10**9), health=None,
                   ups=Ups())
        u.interfaces = [Interface(1, "eth0", "eth0", 100, u.mac, oper_up=True)]
        devices.append(u)
    if servers:
        # added after the UPS: every other device keeps its address and MAC
        for sid, vendor, soft, labels in SERVER_SPECS:
            srv = Device(sid, DeviceKind.SERVER, vendor, "dc", "dc-101", addr.next_v4(), None,
                         _mac(rng, vendor.mac_prefix, macs), _serial(rng, vendor),
                         parent=core.id, uptime_ticks=rng.randrange(10**6, 10**9),
                         health=None, server=soft, labels=dict(labels))
            srv.interfaces = [Interface(1, "eth0", "eth0", 10000, srv.mac, oper_up=True)]
            devices.append(srv)
        terminals = [r for b in buildings for r in b.rooms
                     if r.kind in (RoomKind.OFFICE, RoomKind.CLASSROOM)]
        for i, (maker, model, os_name, cpu) in enumerate(TERMINAL_SPECS):
            if terminals:
                room = terminals[i % len(terminals)]
                term_list.append((f"pc-{i + 1}", maker, model, room.building, room.id,
                                  _mac(rng, "02:00:5e", macs), os_name, cpu))
        # added after the terminals: every other device keeps its address and MAC
        for fid, vendor in SECURITY_SPECS:
            fw = Device(fid, DeviceKind.FIREWALL, vendor, "dc", "dc-101", addr.next_v4(), None,
                        _mac(rng, vendor.mac_prefix, macs), _serial(rng, vendor),
                        parent=core.id, uptime_ticks=rng.randrange(10**6, 10**9))
            fw.interfaces = [Interface(1, "ethernet0/0", "ethernet0/0", 10000, fw.mac,
                                       oper_up=True),
                             Interface(2, "ethernet0/1", "ethernet0/1", 10000,
                                       _mac(rng, vendor.mac_prefix, macs), oper_up=True)]
            devices.append(fw)
    for d in devices:
        for itf in d.interfaces:
            if not itf.oper_up:
                itf.in_rate = itf.out_rate = 0
    return CampusPlan(campus, name or f"模拟职业技术学院 Simulated vocational college ({campus})",
                      seed, port, buildings, devices, ap_list, term_list)


_ROOM_LABEL = {RoomKind.CLASSROOM: "多媒体教室 Classroom", RoomKind.LAB: "实训室 Lab",
               RoomKind.OFFICE: "办公室 Office"}


def _port_names(vendor: Vendor) -> tuple[str, str]:
    if vendor.name == "Cisco":
        return "GigabitEthernet1/0/{}", "TenGigabitEthernet1/1/{}"
    if vendor.name in ("H3C", "HPE"):
        return "GigabitEthernet1/0/{}", "Ten-GigabitEthernet1/0/{}"
    if vendor.name == "Ruijie":
        return "GigabitEthernet 0/{}", "TenGigabitEthernet 0/{}"
    if vendor.name == "ZTE":
        return "gei-0/1/0/{}", "xgei-0/1/1/{}"
    return "GigabitEthernet0/0/{}", "XGigabitEthernet0/0/{}"
