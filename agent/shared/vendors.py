"""The vendor catalogue: one record per network/IoT vendor, used by SNMP identification
(collectors/snmp/identify.py), the SSH collector (collectors/ssh) and the audits
(agent/processors/audit/vendors.py).

A `Vendor` carries its IANA PENs, the 国产 (domestic) flag with the row that says so, how asset
registers spell it, its OS families, what its boxes are when nothing more specific is known
(default kind) and the netmiko platform of its CLI. The ordered rules below (vendor, kind, OS)
are the SNMP evidence patterns; they name vendors of this catalogue, never free strings
(checked at import).

Rows cite docs/standards.md#d-1 ("d.1 <vendor>"); rows marked "recording" come
from the devices recorded in ../shared/fixtures/snmprec. Caveats from d.1 drive the rule order:
PEN 25506 is shared by H3C (domestic) and HPE-branded Comware (foreign), decided by sysDescr;
Hikvision and Dahua answer with arcs that are not their PEN (.50001, .1004849); many boxes
answer with net-snmp's generic .8072.3.2.10.

Lookups: `by_name` (canonical name or alias), `by_pen`, `match_vendor` / `match_kind` /
`match_os` (sysObjectID, sysDescr and vendor-subtree probes), `domestic_of`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

OidPrefix: TypeAlias = tuple[int, ...]
UNKNOWN_VENDOR = "unknown"


class Domestic(enum.StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class DeviceClass(enum.StrEnum):
    """What identification can tell a box is (SNMP's `kind` tag)."""

    SWITCH = "switch"
    ROUTER = "router"
    WLAN_CONTROLLER = "wlan_controller"
    AP = "ap"
    FIREWALL = "firewall"
    CAMERA = "camera"
    NVR = "nvr"
    UPS = "ups"
    PRINTER = "printer"
    SERVER = "server"
    UNKNOWN = "unknown"


class Probe(enum.StrEnum):
    """Vendor subtrees read when the system group is absent or generic."""

    HIKVISION = "hikvision"
    UBIQUITI = "ubiquiti"


@dataclass(frozen=True, slots=True)
class Vendor:
    name: str  # canonical spelling, as written in tags
    domestic: Domestic
    source: str  # the row the domestic flag comes from ("d.1 …" or another register)
    pens: tuple[int, ...] = ()  # IANA PENs registered to the vendor
    aliases: tuple[str, ...] = ()  # asset-register spellings (matched case/space-insensitively)
    os_families: tuple[str, ...] = ()  # OS names the OS rules below can detect
    default_kind: DeviceClass | None = None  # what its boxes are when nothing else matched
    cli_platform: str | None = None  # netmiko device_type of its CLI (collectors/ssh)
    # brand lineage: HP and HPE are different registrants but asset lists written before the
    # 2015 split say "HP" for what the CLI shows as HPE — not a mismatch
    family: str = ""

    @property
    def lineage(self) -> str:
        return self.family or self.name


Y, N = Domestic.YES, Domestic.NO
S, R, C, A = (DeviceClass.SWITCH, DeviceClass.ROUTER, DeviceClass.WLAN_CONTROLLER,
              DeviceClass.AP)
FW, CAM, SRV = DeviceClass.FIREWALL, DeviceClass.CAMERA, DeviceClass.SERVER


def _d1(what: str) -> str:
    return f"d.1 {what}"


VENDORS: tuple[Vendor, ...] = (
    # Domestic (d.1).
    Vendor("Huawei", Y, _d1("Huawei (PEN 2011)"), (2011, 56813),
           ("华为", "huawei technologies"), ("VRP", "YunShan OS", "VSP"), S, "huawei"),
    Vendor("Huawei Symantec", Y, _d1("Huawei-related (PEN 34774)"), (34774,), (), (), FW),
    Vendor("xFusion", Y, _d1("Huawei-related (PEN 58132 xFusion)"), (58132,),
           ("超聚变",), (), SRV),
    Vendor("H3C", Y, _d1("H3C (PEN 25506, 61878)"), (25506, 61878),
           ("new h3c", "新华三", "华三"), ("Comware",), S, "hp_comware"),
    Vendor("Ruijie", Y, _d1("Ruijie (PEN 4881, 31762)"), (4881, 31762),
           ("锐捷", "ruijie networks"), ("RGOS",), S, "ruijie_os"),
    Vendor("ZTE", Y, _d1("ZTE (PEN 3902)"), (3902,), ("中兴",), ("ZXROS",), S, "zte_zxros"),
    Vendor("Maipu", Y, _d1("Maipu (PEN 5651)"), (5651,), ("迈普",), ("MyPower",), R),
    Vendor("DCN", Y, _d1("DCN / Digital China (PEN 6339)"), (6339,),
           ("神州数码", "digital china"), (), S),
    Vendor("BDCOM", Y, _d1("BDCOM (PEN 3320)"), (3320,), ("博达",), (), S),
    Vendor("FiberHome", Y, _d1("FiberHome (PEN 11408, 3807, OLT 5875)"), (11408, 3807, 5875),
           ("烽火",)),
    Vendor("Raisecom", Y, _d1("Raisecom (PEN 8886)"), (8886,), ("瑞斯康达",), (), S),
    Vendor("Inspur", Y, _d1("Inspur (PEN 37945, 48512, 48797, 58059, 60775)"),
           (37945, 48512, 48797, 58059, 60775), ("浪潮",), (), SRV),
    Vendor("TP-Link", Y, _d1("TP-Link (PEN 11863)"), (11863,), ("普联", "tplink"), (), S),
    Vendor("Sangfor", Y, _d1("Sangfor (PEN 35047)"), (35047,), ("深信服",), (), FW),
    Vendor("Hillstone", Y, _d1("Hillstone (PEN 28557)"), (28557,), ("山石", "山石网科"),
           ("StoneOS",), FW),
    Vendor("Qi An Xin", Y, _d1("Qi An Xin (PEN 47646)"), (47646,), ("奇安信", "qianxin"), (),
           FW),
    Vendor("Topsec", Y, _d1("Topsec (PEN 14331)"), (14331,), ("天融信",), (), FW),
    Vendor("NSFOCUS", Y, _d1("NSFOCUS (PEN 19849)"), (19849,), ("绿盟",), (), FW),
    Vendor("Venustech", Y, _d1("Venustech (PEN 15227)"), (15227,), ("启明星辰",), (), FW),
    Vendor("DPtech", Y, _d1("DPtech (PEN 31648)"), (31648,), ("迪普",), (), FW),
    Vendor("Centec", Y, _d1("Centec (PEN 27975)"), (27975,), ("盛科",), (), S),
    Vendor("Asterfusion", Y, _d1("Asterfusion (PEN 56928, 55955)"), (56928, 55955),
           ("星融",), (), S),
    Vendor("Hikvision", Y, _d1("Hikvision (PEN 39165)"), (39165,), ("海康", "海康威视"), (),
           CAM),
    Vendor("Dahua", Y, _d1("Dahua (PEN 37496)"), (37496,), ("大华",), (), CAM),
    Vendor("Uniview", Y, _d1("Uniview (PEN 39747, 54999)"), (39747, 54999), ("宇视",), (), CAM),
    Vendor("Tiandy", Y, _d1("Tiandy (PEN 60913)"), (60913,), ("天地伟业",), (), CAM),
    Vendor("Yealink", Y, _d1("Yealink (PEN 37459)"), (37459,), ("亿联",)),
    Vendor("Tenda", Y, _d1("Tenda (PEN 59646)"), (59646,), ("腾达",)),
    Vendor("Loongson", Y, _d1("Loongson (PEN 59366)"), (59366,), ("龙芯",)),
    Vendor("Sugon", Y, _d1("Dawning/Sugon (PEN 27500, 57098)"), (27500, 57098),
           ("曙光", "dawning"), (), SRV),
    Vendor("Lenovo", Y, _d1("Lenovo (PEN 19046)"), (19046,), ("联想",), (), SRV),
    # Foreign (d.1).
    Vendor("Cisco", N, _d1("Cisco (PEN 9, Airespace 14179)"), (9, 14179), ("思科",),
           ("IOS-XE", "NX-OS", "IOS"), R, "cisco_ios"),
    Vendor("HPE", N, _d1("HPE (PEN 47196; HPE-branded Comware on 25506)"), (47196,),
           ("hewlett packard enterprise",), ("Comware",), S, family="HP"),
    Vendor("HP", N, _d1("HP (PEN 11)"), (11,), ("hewlett-packard",), (),
           DeviceClass.PRINTER, family="HP"),
    Vendor("Aruba", N, _d1("Aruba (PEN 14823)"), (14823,), (), ("ArubaOS",), C, "aruba_os"),
    Vendor("Juniper", N, _d1("Juniper (PEN 2636)"), (2636,), (), ("JunOS",), R),
    Vendor("Arista", N, _d1("Arista (PEN 30065)"), (30065,), (), ("EOS",), S),
    Vendor("Extreme", N, _d1("Extreme (PEN 1916)"), (1916,), (), (), S),
    Vendor("Ruckus", N, _d1("Ruckus (PEN 25053)"), (25053,), (), (), A),
    Vendor("Ubiquiti", N, _d1("Ubiquiti (PEN 41112)"), (41112,), (), (), A),
    Vendor("Fortinet", N, _d1("Fortinet (PEN 12356)"), (12356,), (), (), FW),
    Vendor("Palo Alto", N, _d1("Palo Alto (PEN 25461)"), (25461,), (), (), FW),
    Vendor("Check Point", N, _d1("Check Point (PEN 2620)"), (2620,), (), (), FW),
    Vendor("Netgear", N, _d1("Netgear (PEN 4526)"), (4526,)),
    Vendor("MikroTik", N, _d1("MikroTik (PEN 14988)"), (14988,), (), ("RouterOS",), R),
    Vendor("Meraki", N, _d1("Meraki (PEN 29671)"), (29671,)),
    Vendor("Axis", N, _d1("Axis (PEN 368)"), (368,), (), (), CAM),
    Vendor("Dell", N, _d1("Dell (PEN 674)"), (674,), (), (), SRV),
    Vendor("Microsoft", N, _d1("Microsoft (PEN 311)"), (311,), (), ("Windows",)),
    # CPU, OS, database and middleware makers (docs/standards.md#d-2, #d-3, #d-4): no PEN
    # rules; agent/shared/platforms.py names them in its CPU/OS/software rules.
    Vendor("HiSilicon", Y, "d.2 HiSilicon Kunpeng (ARM implementer 0x48)", (),
           ("海思", "鲲鹏", "kunpeng")),
    Vendor("Phytium", Y, "d.2 Phytium (ARM implementer 0x70)", (), ("飞腾",)),
    Vendor("Hygon", Y, "d.2 Hygon (vendor_id HygonGenuine)", (), ("海光",)),
    Vendor("Zhaoxin", Y, "d.2 Zhaoxin (vendor_id Shanghai)", (), ("兆芯",)),
    Vendor("Sunway", Y, "d.2 Sunway (sw_64)", (), ("申威",)),
    Vendor("Intel", N, "d.2 Intel (vendor_id GenuineIntel)", (), ("英特尔",)),
    Vendor("AMD", N, "d.2 AMD (vendor_id AuthenticAMD)", (), ("超威", "advanced micro devices")),
    Vendor("Kylinsoft", Y, "d.3 Kylin (os-release ID kylin)", (), ("麒麟软件", "银河麒麟",
                                                                   "中标麒麟"), ("Kylin",)),
    Vendor("UnionTech", Y, "d.3 UOS (os-release ID uos)", (), ("统信", "统信软件"), ("UOS",)),
    Vendor("openEuler", Y, "d.3 openEuler (os-release ID openEuler)", (), ("欧拉",)),
    Vendor("OpenAnolis", Y, "d.3 Anolis (os-release ID anolis)", (), ("龙蜥", "anolis")),
    Vendor("Deepin", Y, "d.3 deepin (os-release ID deepin)", (), ("深度",)),
    Vendor("Alibaba Cloud", Y, "d.3 Alibaba Cloud Linux (os-release ID alinux)", (),
           ("阿里云", "alinux")),
    Vendor("Tencent", Y, "d.3 TencentOS Server (os-release ID tencentos)", (), ("腾讯",)),
    Vendor("Red Hat", N, "d.3 RHEL (os-release ID rhel)", (), ("redhat", "红帽")),
    Vendor("Canonical", N, "d.3 Ubuntu (os-release ID ubuntu)", (), ("ubuntu",)),
    Vendor("Debian", N, "d.3 Debian (os-release ID debian)", ()),
    Vendor("SUSE", N, "d.3 SLES (os-release ID sles)", ()),
    Vendor("Rocky Linux", N, "d.3 Rocky Linux (os-release ID rocky)", ()),
    Vendor("AlmaLinux", N, "d.3 AlmaLinux (os-release ID almalinux)", ()),
    Vendor("Dameng", Y, "d.4 DM database (dmserver)", (), ("达梦", "dm", "武汉达梦")),
    Vendor("Kingbase", Y, "d.4 KingbaseES (kingbase)", (), ("人大金仓", "金仓", "kingbasees")),
    Vendor("GBase", Y, "d.4 GBase (gbased / GBase 8s)", (), ("南大通用",)),
    Vendor("OceanBase", Y, "d.4 OceanBase (observer)", (), ("奥星贝斯",)),
    Vendor("openGauss", Y, "d.4 openGauss (gaussdb)", ()),
    Vendor("TongTech", Y, "d.4 TongWeb (东方通)", (), ("东方通", "tongweb")),
    Vendor("Apusic", Y, "d.4 Apusic (金蝶天燕)", (), ("金蝶天燕", "金蝶")),
    Vendor("BES", Y, "d.4 BES Application Server (宝兰德)", (), ("宝兰德", "bessystem")),
    Vendor("Oracle", N, "d.4 Oracle Database / WebLogic / MySQL", (), ("甲骨文",)),
    Vendor("IBM", N, "d.4 IBM WebSphere", ()),
    Vendor("Apache", N, "d.4 Apache Tomcat / httpd", (), ("apache software foundation",)),
    Vendor("PostgreSQL", N, "d.4 PostgreSQL (postgres)", ()),
    Vendor("Apple", N, "d.5 Apple (DHCP fingerprint)", ()),
    Vendor("Google", N, "d.5 Android (DHCP vendor class android-dhcp)", (), ("android",)),
    # Not in d.1: the IANA registry (PEN 318 = American Power Conversion).
    Vendor("APC", N, "IANA PEN 318 (recording apc_smt750x-nmc2)", (318,), (), (),
           DeviceClass.UPS),
)

# OS names no vendor owns (net-snmp boxes of any make).
GENERIC_OS = frozenset({"Linux"})


def _norm(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name.strip().lower())


_BY_NAME: dict[str, Vendor] = {}
_BY_PEN: dict[int, Vendor] = {}
for _v in VENDORS:
    for _key in (_v.name, *_v.aliases):
        if _norm(_key) in _BY_NAME:
            raise ValueError(f"vendor catalogue: {_key!r} spelled twice")
        _BY_NAME[_norm(_key)] = _v
    for _number in _v.pens:
        if _number in _BY_PEN:
            raise ValueError(f"vendor catalogue: PEN {_number} registered twice")
        _BY_PEN[_number] = _v


def by_name(name: str | None) -> Vendor | None:
    """The vendor an asset register or a CLI names (canonical name or alias), else None."""
    if not name or not name.strip():
        return None
    return _BY_NAME.get(_norm(name))


def by_pen(pen: int) -> Vendor | None:
    """The registrant of an IANA PEN. Beware d.1's caveats: 25506 is also HPE-branded
    Comware, and some vendors answer on arcs that are not theirs — identify with
    `match_vendor`, not with this."""
    return _BY_PEN.get(pen)


def domestic_of(name: str | None) -> Domestic:
    v = by_name(name)
    return v.domestic if v is not None else Domestic.UNKNOWN


# -- SNMP evidence rules ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """All given conditions must hold. `oids`: sysObjectID prefixes (any one)."""

    id: str
    source: str
    oids: tuple[OidPrefix, ...] = ()
    descr: re.Pattern[str] | None = None
    probe: Probe | None = None

    def matches_sys(self, sys_object_id: OidPrefix | None, sys_descr: str,
                    probes: Iterable[Probe] = ()) -> bool:
        if self.oids and (sys_object_id is None or not any(
                sys_object_id[: len(p)] == p for p in self.oids)):
            return False
        if self.descr is not None and not self.descr.search(sys_descr):
            return False
        return not (self.probe is not None and self.probe not in probes)


@dataclass(frozen=True, slots=True)
class VendorRule(Rule):
    vendor: str = UNKNOWN_VENDOR
    domestic: Domestic = Domestic.UNKNOWN  # the catalogue's flag for `vendor`


@dataclass(frozen=True, slots=True)
class KindRule(Rule):
    vendor: str | None = None  # only for this detected vendor
    kind: DeviceClass = DeviceClass.UNKNOWN


@dataclass(frozen=True, slots=True)
class OsRule(Rule):
    os: str = ""


def _pen(*arcs: str) -> tuple[OidPrefix, ...]:
    return tuple(tuple(int(x) for x in f"1.3.6.1.4.1.{a}".split(".")) for a in arcs)


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


NETSNMP_LINUX: OidPrefix = _pen("8072.3.2.10")[0]


def _vr(id: str, vendor: str, source: str, *, pens: Sequence[str] = (),
        oids: tuple[OidPrefix, ...] = (), descr: str | None = None,
        probe: Probe | None = None) -> VendorRule:
    v = by_name(vendor)
    return VendorRule(id, source, oids or _pen(*pens), _re(descr) if descr else None, probe,
                      v.name if v else UNKNOWN_VENDOR,
                      v.domestic if v else Domestic.UNKNOWN)


def _pen_rules() -> tuple[VendorRule, ...]:
    """One rule per vendor with PENs: `<vendor>-pen` on all its PENs."""
    return tuple(
        VendorRule(f"{_compact(v.name)}-pen", v.source, _pen(*map(str, v.pens)), None, None, v.name,
                   v.domestic)
        for v in VENDORS if v.pens)


# Rule ids are tag values (`domestic_rule`, `kind_rule`): these spellings are the ones the
# agent has always written, kept so stored series do not change their tags.
def _compact(name: str) -> str:
    return name.lower().replace(" ", "").replace("-", "")


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


VENDOR_RULES: tuple[VendorRule, ...] = (
    # Shared or borrowed arcs first: the more specific rule must win.
    _vr("hpe-comware-sysdescr", "HPE", "d.1 HPE-branded Comware (^HPE? / Hewlett-Packard)",
        pens=["25506"], descr=r"^HPE? |Hewlett[- ]Packard"),
    _vr("hikvision-vendor-subtree", "Hikvision", "d.1 Hikvision (HIK-DEVICE-MIB deviceType)",
        probe=Probe.HIKVISION),
    _vr("hikvision-dvr-arc-50001", "Hikvision", "d.1 Hikvision (DVR/NVR use .50001)",
        pens=["50001"]),
    _vr("dahua-arc-1004849", "Dahua", "d.1 Dahua (DAHUA-SNMP-MIB arc .1004849)",
        pens=["1004849"]),
    _vr("ubiquiti-netsnmp-sysdescr", "Ubiquiti", "recording unifi_nanohd (UAP- in sysDescr)",
        oids=(NETSNMP_LINUX,), descr=r"^UAP-"),
    _vr("ubiquiti-vendor-subtree", "Ubiquiti", "recording unifi_nanohd (.41112 subtree)",
        probe=Probe.UBIQUITI),
    _vr("tplink-netsnmp-sysdescr", "TP-Link", "d.1 TP-Link (net-snmp + ^Linux EAP/TL-WA)",
        oids=(NETSNMP_LINUX,), descr=r"^Linux (EAP\d+|TL-WA)"),
    _vr("netsnmp-generic", UNKNOWN_VENDOR, "d.1 Generic Linux (net-snmp 8072)",
        oids=(NETSNMP_LINUX,)),
    # Then every vendor by its IANA PENs.
    *_pen_rules(),
)


def _kr(id: str, kind: DeviceClass, source: str, *, vendor: str | None = None,
        pens: Sequence[str] = (), descr: str | None = None,
        probe: Probe | None = None) -> KindRule:
    return KindRule(id, source, _pen(*pens), _re(descr) if descr else None, probe, vendor, kind)


# Specific kind evidence, tried in order before the vendor defaults.
KIND_RULES: tuple[KindRule, ...] = (
    _kr("huawei-ac-oid", C, "d.1 Huawei WLAN AC (.2011.2.240)", pens=["2011.2.240"]),
    _kr("huawei-ap-sysdescr", A, "d.1 Huawei (^Huawei Enterprise AP, .2011.2.39)",
        descr=r"^Huawei Enterprise AP", vendor="Huawei"),
    _kr("huawei-vsp-firewall", FW, "d.1 Huawei (Versatile Security Platform)",
        descr=r"Versatile Security Platform", vendor="Huawei"),
    _kr("huawei-ne-router", R, "recording vrp_ne (NE40E, .2011.2.62)", pens=["2011.2.62"]),
    _kr("huawei-ar-router", R, "Huawei AR routers (sysDescr)", descr=r"\bAR\d{3,4}",
        vendor="Huawei"),
    _kr("cisco-wlc", C, "d.1 Cisco WLC (^Cisco Controller$) / Business Wireless",
        descr=r"^Cisco Controller$|^Cisco Business Wireless", vendor="Cisco"),
    _kr("cisco-catalyst", S, "recordings ios_2960x, iosxe_c3850 (Catalyst in sysDescr)",
        descr=r"C2960|C3[5-9]\d\d|Catalyst|Switch", vendor="Cisco"),
    _kr("aruba-controller-oid", C, "recording arubaos (.14823.1.1)", pens=["14823.1.1"]),
    _kr("aruba-ap-oid", A, "recording aruba-instant_105 (.14823.1.2)", pens=["14823.1.2"]),
    _kr("hikvision-nvr-arc", DeviceClass.NVR, "d.1 Hikvision DVR/NVR (.50001)", pens=["50001"]),
    _kr("dahua-nvr-sysdescr", DeviceClass.NVR, "d.1 Dahua (deviceClass DVR/NVR)",
        descr=r"NVR|DVR", vendor="Dahua"),
    _kr("dahua-camera-sysdescr", CAM, "d.1 Dahua cameras (PTZ|IPC|…)",
        descr=r"PTZ|IPC|PSD|TPC|[GHTUV]NI", vendor="Dahua"),
    _kr("unifi-ap", A, "recording unifi_nanohd (UAP-)", descr=r"^UAP-"),
    _kr("tplink-eap", A, "d.1 TP-Link APs (^Linux EAP/TL-WA, .11863.1.1.2, .11863.3)",
        descr=r"^Linux (EAP\d+|TL-WA)"),
    _kr("tplink-ap-oid", A, "d.1 TP-Link APs (.11863.1.1.2, .11863.3)",
        pens=["11863.1.1.2", "11863.3"]),
    _kr("hp-printer-jetdirect", DeviceClass.PRINTER, "recording jetdirect_m130nw (.11.2.3.9)",
        pens=["11.2.3.9"]),
    _kr("ruijie-firewall", FW, "d.1 Ruijie firewall (.4881.250, RG-WALL)", pens=["4881.250"]),
    _kr("linux-server", SRV, "d.1 Generic Linux (net-snmp .8072.3.2.10)",
        pens=["8072.3.2.10"], descr=r"^Linux ", vendor=UNKNOWN_VENDOR),
    _kr("windows-server", SRV, "d.1 Windows (.311.1.1.3)", pens=["311.1.1.3"]),
)

# What a vendor's boxes are when nothing more specific matched (from Vendor.default_kind).
DEFAULT_KIND_RULES: tuple[KindRule, ...] = tuple(
    _kr(f"{_slug(v.name)}-default", v.default_kind, "vendor default", vendor=v.name)
    for v in VENDORS if v.default_kind is not None)


def _os(id: str, os: str, descr: str, source: str) -> OsRule:
    return OsRule(id, source, (), _re(descr), None, os)


OS_RULES: tuple[OsRule, ...] = (
    _os("vrp", "VRP", r"Versatile Routing Platform", "d.1 Huawei"),
    _os("yunshan", "YunShan OS", r"Huawei YunShan OS", "d.1 Huawei"),
    _os("huawei-vsp", "VSP", r"Versatile Security Platform", "d.1 Huawei"),
    _os("comware", "Comware", r"Comware", "d.1 H3C/HPE"),
    _os("rgos", "RGOS", r"RGN?OS|Ruijie", "d.1 Ruijie"),
    _os("zxr10", "ZXROS", r"ZXR10|^ZTE ", "d.1 ZTE"),
    _os("mypower", "MyPower", r"^MyPower", "d.1 Maipu"),
    _os("stoneos", "StoneOS", r"StoneOS", "d.1 Hillstone"),
    _os("iosxe", "IOS-XE", r"IOS-XE|_IOSXE|CAT3K_CAA|Denali|Fuji|Everest", "d.1 Cisco"),
    _os("nxos", "NX-OS", r"Cisco NX-OS", "d.1 Cisco"),
    _os("ios", "IOS", r"Cisco IOS Software", "d.1 Cisco"),
    _os("arubaos", "ArubaOS", r"^ArubaOS", "d.1 Aruba"),
    _os("junos", "JunOS", r" kernel JUNOS", "d.1 Juniper"),
    _os("eos", "EOS", r"^Arista Networks EOS", "d.1 Arista"),
    _os("routeros", "RouterOS", r"RouterOS", "d.1 MikroTik"),
    _os("windows", "Windows", r"(?<!\()Windows", "d.1 Microsoft"),
    _os("linux", "Linux", r"^Linux ", "d.1 Generic Linux"),
)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What SNMP identification sees of a box (the system group and vendor probes)."""

    sys_object_id: OidPrefix | None
    sys_descr: str
    probes: frozenset[Probe] = field(default_factory=frozenset)


def match_vendor(e: Evidence) -> VendorRule | None:
    return next((r for r in VENDOR_RULES if r.matches_sys(e.sys_object_id, e.sys_descr,
                                                          e.probes)), None)


def match_kind(e: Evidence, vendor: str,
               rules: Sequence[KindRule] = (*KIND_RULES, *DEFAULT_KIND_RULES)) -> KindRule | None:
    """First rule for this vendor (or any vendor) whose evidence holds; a rule with no
    condition at all never matches unless it is a vendor default."""
    return next((r for r in rules if (r.vendor is None or r.vendor == vendor)
                 and (r.oids or r.descr or r.probe or r.vendor)
                 and r.matches_sys(e.sys_object_id, e.sys_descr, e.probes)), None)


def match_os(e: Evidence) -> OsRule | None:
    return next((r for r in OS_RULES if r.matches_sys(e.sys_object_id, e.sys_descr, e.probes)),
                None)


def probes_needed(sys_object_id: OidPrefix | None) -> bool:
    """Whether identity can need a vendor subtree read (no system group, or the generic
    net-snmp sysObjectID)."""
    return sys_object_id is None or sys_object_id[: len(NETSNMP_LINUX)] == NETSNMP_LINUX


def _check() -> None:
    """Rules name catalogue vendors and OS families; a typo fails at import, not in the field."""
    names = {v.name for v in VENDORS} | {UNKNOWN_VENDOR}
    named: list[tuple[str, str | None]] = [(r.id, r.vendor) for r in VENDOR_RULES]
    named += [(r.id, r.vendor) for r in (*KIND_RULES, *DEFAULT_KIND_RULES)]
    for rule_id, vendor in named:
        if vendor is not None and vendor not in names:
            raise ValueError(f"vendor catalogue: rule {rule_id} names unknown vendor {vendor!r}")
    families = {f for v in VENDORS for f in v.os_families} | GENERIC_OS
    for o in OS_RULES:
        if o.os not in families:
            raise ValueError(f"vendor catalogue: OS rule {o.id} ({o.os}) belongs to no vendor")


_check()
