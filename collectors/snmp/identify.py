"""Device identification: vendor, 国产 (domestic) flag, kind and OS from SNMP facts.

The rules are data, tried in order; the first match decides and is named in the result.
Vendor/PEN/pattern rows cite ../shared/reference/standards.md table d.1 ("d.1 <vendor>");
rows marked "recording" come from the traps documented with ../shared/fixtures/snmprec.
Caveats from d.1 drive the order: 25506 is shared by H3C (domestic) and HPE-branded Comware
(foreign), decided by sysDescr; Hikvision and Dahua answer with arcs that are not their PEN
(.50001, .1004849); many boxes answer with net-snmp's generic .8072.3.2.10.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from collectors.snmp.session import Oid, oid_from_str


class Domestic(enum.StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class DetectedKind(enum.StrEnum):
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
class Facts:
    sys_object_id: Oid | None
    sys_descr: str
    probes: frozenset[Probe] = frozenset()


@dataclass(frozen=True, slots=True)
class Rule:
    """All given conditions must hold. `oids`: sysObjectID prefixes (any one)."""

    id: str
    source: str
    oids: tuple[Oid, ...] = ()
    descr: re.Pattern[str] | None = None
    probe: Probe | None = None

    def matches(self, facts: Facts) -> bool:
        if self.oids and (facts.sys_object_id is None or not any(
                facts.sys_object_id[: len(p)] == p for p in self.oids)):
            return False
        if self.descr is not None and not self.descr.search(facts.sys_descr):
            return False
        return not (self.probe is not None and self.probe not in facts.probes)


@dataclass(frozen=True, slots=True)
class VendorRule(Rule):
    vendor: str = ""
    domestic: Domestic = Domestic.UNKNOWN


@dataclass(frozen=True, slots=True)
class KindRule(Rule):
    vendor: str | None = None  # only for this detected vendor
    kind: DetectedKind = DetectedKind.UNKNOWN


@dataclass(frozen=True, slots=True)
class OsRule(Rule):
    os: str = ""


def _pen(*arcs: str) -> tuple[Oid, ...]:
    return tuple(oid_from_str(f"1.3.6.1.4.1.{a}") for a in arcs)


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


Y, N, U = Domestic.YES, Domestic.NO, Domestic.UNKNOWN
_NETSNMP = _pen("8072.3.2.10")


def _v(id: str, vendor: str, domestic: Domestic, source: str, *, pens: Sequence[str] = (),
       oids: tuple[Oid, ...] = (), descr: str | None = None,
       probe: Probe | None = None) -> VendorRule:
    return VendorRule(id, source, oids or _pen(*pens), _re(descr) if descr else None, probe,
                      vendor, domestic)


VENDOR_RULES: tuple[VendorRule, ...] = (
    # Shared or borrowed arcs first: the more specific rule must win.
    _v("hpe-comware-sysdescr", "HPE", N, "d.1 HPE-branded Comware (^HPE? / Hewlett-Packard)",
       pens=["25506"], descr=r"^HPE? |Hewlett[- ]Packard"),
    _v("hikvision-vendor-subtree", "Hikvision", Y, "d.1 Hikvision (HIK-DEVICE-MIB deviceType)",
       probe=Probe.HIKVISION),
    _v("hikvision-dvr-arc-50001", "Hikvision", Y, "d.1 Hikvision (DVR/NVR use .50001)",
       pens=["50001"]),
    _v("dahua-arc-1004849", "Dahua", Y, "d.1 Dahua (DAHUA-SNMP-MIB arc .1004849)",
       pens=["1004849"]),
    _v("ubiquiti-netsnmp-sysdescr", "Ubiquiti", N, "recording unifi_nanohd (UAP- in sysDescr)",
       oids=_NETSNMP, descr=r"^UAP-"),
    _v("ubiquiti-vendor-subtree", "Ubiquiti", N, "recording unifi_nanohd (.41112 subtree)",
       probe=Probe.UBIQUITI),
    _v("tplink-netsnmp-sysdescr", "TP-Link", Y, "d.1 TP-Link (net-snmp + ^Linux EAP/TL-WA)",
       oids=_NETSNMP, descr=r"^Linux (EAP\d+|TL-WA)"),
    _v("netsnmp-generic", "unknown", U, "d.1 Generic Linux (net-snmp 8072)", oids=_NETSNMP),
    # Domestic vendors by IANA PEN (d.1).
    _v("huawei-pen", "Huawei", Y, "d.1 Huawei (PEN 2011)", pens=["2011", "56813"]),
    _v("huawei-related-pen", "Huawei", Y, "d.1 Huawei-related (34774, 58132)",
       pens=["34774", "58132"]),
    _v("h3c-pen", "H3C", Y, "d.1 H3C (PEN 25506, 61878)", pens=["25506", "61878"]),
    _v("ruijie-pen", "Ruijie", Y, "d.1 Ruijie (PEN 4881, 31762)", pens=["4881", "31762"]),
    _v("zte-pen", "ZTE", Y, "d.1 ZTE (PEN 3902)", pens=["3902"]),
    _v("maipu-pen", "Maipu", Y, "d.1 Maipu (PEN 5651)", pens=["5651"]),
    _v("dcn-pen", "DCN", Y, "d.1 DCN / Digital China (PEN 6339)", pens=["6339"]),
    _v("bdcom-pen", "BDCOM", Y, "d.1 BDCOM (PEN 3320)", pens=["3320"]),
    _v("fiberhome-pen", "FiberHome", Y, "d.1 FiberHome (PEN 11408, 3807, OLT 5875)",
       pens=["11408", "3807", "5875"]),
    _v("raisecom-pen", "Raisecom", Y, "d.1 Raisecom (PEN 8886)", pens=["8886"]),
    _v("inspur-pen", "Inspur", Y, "d.1 Inspur (PEN 37945, 48512, 48797, 58059, 60775)",
       pens=["37945", "48512", "48797", "58059", "60775"]),
    _v("tplink-pen", "TP-Link", Y, "d.1 TP-Link (PEN 11863)", pens=["11863"]),
    _v("sangfor-pen", "Sangfor", Y, "d.1 Sangfor (PEN 35047)", pens=["35047"]),
    _v("hillstone-pen", "Hillstone", Y, "d.1 Hillstone (PEN 28557)", pens=["28557"]),
    _v("qianxin-pen", "Qi An Xin", Y, "d.1 Qi An Xin (PEN 47646)", pens=["47646"]),
    _v("topsec-pen", "Topsec", Y, "d.1 Topsec (PEN 14331)", pens=["14331"]),
    _v("nsfocus-pen", "NSFOCUS", Y, "d.1 NSFOCUS (PEN 19849)", pens=["19849"]),
    _v("venustech-pen", "Venustech", Y, "d.1 Venustech (PEN 15227)", pens=["15227"]),
    _v("dptech-pen", "DPtech", Y, "d.1 DPtech (PEN 31648)", pens=["31648"]),
    _v("centec-pen", "Centec", Y, "d.1 Centec (PEN 27975)", pens=["27975"]),
    _v("asterfusion-pen", "Asterfusion", Y, "d.1 Asterfusion (PEN 56928, 55955)",
       pens=["56928", "55955"]),
    _v("hikvision-pen", "Hikvision", Y, "d.1 Hikvision (PEN 39165)", pens=["39165"]),
    _v("dahua-pen", "Dahua", Y, "d.1 Dahua (PEN 37496)", pens=["37496"]),
    _v("uniview-pen", "Uniview", Y, "d.1 Uniview (PEN 39747, 54999)", pens=["39747", "54999"]),
    _v("tiandy-pen", "Tiandy", Y, "d.1 Tiandy (PEN 60913)", pens=["60913"]),
    _v("yealink-pen", "Yealink", Y, "d.1 Yealink (PEN 37459)", pens=["37459"]),
    _v("tenda-pen", "Tenda", Y, "d.1 Tenda (PEN 59646)", pens=["59646"]),
    _v("loongson-pen", "Loongson", Y, "d.1 Loongson (PEN 59366)", pens=["59366"]),
    _v("sugon-pen", "Sugon", Y, "d.1 Dawning/Sugon (PEN 27500, 57098)", pens=["27500", "57098"]),
    _v("lenovo-pen", "Lenovo", Y, "d.1 Lenovo (PEN 19046)", pens=["19046"]),
    # Foreign vendors (d.1).
    _v("cisco-pen", "Cisco", N, "d.1 Cisco (PEN 9, Airespace 14179)", pens=["9", "14179"]),
    _v("hpe-pen", "HPE", N, "d.1 HPE (PEN 47196)", pens=["47196"]),
    _v("hp-pen", "HP", N, "d.1 HP (PEN 11)", pens=["11"]),
    _v("aruba-pen", "Aruba", N, "d.1 Aruba (PEN 14823)", pens=["14823"]),
    _v("juniper-pen", "Juniper", N, "d.1 Juniper (PEN 2636)", pens=["2636"]),
    _v("arista-pen", "Arista", N, "d.1 Arista (PEN 30065)", pens=["30065"]),
    _v("extreme-pen", "Extreme", N, "d.1 Extreme (PEN 1916)", pens=["1916"]),
    _v("ruckus-pen", "Ruckus", N, "d.1 Ruckus (PEN 25053)", pens=["25053"]),
    _v("ubiquiti-pen", "Ubiquiti", N, "d.1 Ubiquiti (PEN 41112)", pens=["41112"]),
    _v("fortinet-pen", "Fortinet", N, "d.1 Fortinet (PEN 12356)", pens=["12356"]),
    _v("paloalto-pen", "Palo Alto", N, "d.1 Palo Alto (PEN 25461)", pens=["25461"]),
    _v("checkpoint-pen", "Check Point", N, "d.1 Check Point (PEN 2620)", pens=["2620"]),
    _v("netgear-pen", "Netgear", N, "d.1 Netgear (PEN 4526)", pens=["4526"]),
    _v("mikrotik-pen", "MikroTik", N, "d.1 MikroTik (PEN 14988)", pens=["14988"]),
    _v("meraki-pen", "Meraki", N, "d.1 Meraki (PEN 29671)", pens=["29671"]),
    _v("axis-pen", "Axis", N, "d.1 Axis (PEN 368)", pens=["368"]),
    _v("dell-pen", "Dell", N, "d.1 Dell (PEN 674)", pens=["674"]),
    _v("microsoft-pen", "Microsoft", N, "d.1 Microsoft (PEN 311)", pens=["311"]),
    # Not in d.1: the IANA registry (APC = PEN 318, American Power Conversion).
    _v("apc-pen", "APC", N, "IANA PEN 318 (recording apc_smt750x-nmc2)", pens=["318"]),
)


def _k(id: str, kind: DetectedKind, source: str, *, vendor: str | None = None,
       pens: Sequence[str] = (), descr: str | None = None,
       probe: Probe | None = None) -> KindRule:
    return KindRule(id, source, _pen(*pens), _re(descr) if descr else None, probe, vendor, kind)


S, R, C, A = (DetectedKind.SWITCH, DetectedKind.ROUTER, DetectedKind.WLAN_CONTROLLER,
              DetectedKind.AP)
KIND_RULES: tuple[KindRule, ...] = (
    _k("huawei-ac-oid", C, "d.1 Huawei WLAN AC (.2011.2.240)", pens=["2011.2.240"]),
    _k("huawei-ap-sysdescr", A, "d.1 Huawei (^Huawei Enterprise AP, .2011.2.39)",
       descr=r"^Huawei Enterprise AP", vendor="Huawei"),
    _k("huawei-vsp-firewall", DetectedKind.FIREWALL, "d.1 Huawei (Versatile Security Platform)",
       descr=r"Versatile Security Platform", vendor="Huawei"),
    _k("huawei-ne-router", R, "recording vrp_ne (NE40E, .2011.2.62)", pens=["2011.2.62"]),
    _k("huawei-ar-router", R, "Huawei AR routers (sysDescr)", descr=r"\bAR\d{3,4}",
       vendor="Huawei"),
    _k("cisco-wlc", C, "d.1 Cisco WLC (^Cisco Controller$) / Business Wireless",
       descr=r"^Cisco Controller$|^Cisco Business Wireless", vendor="Cisco"),
    _k("cisco-catalyst", S, "recordings ios_2960x, iosxe_c3850 (Catalyst in sysDescr)",
       descr=r"C2960|C3[5-9]\d\d|Catalyst|Switch", vendor="Cisco"),
    _k("aruba-controller-oid", C, "recording arubaos (.14823.1.1)", pens=["14823.1.1"]),
    _k("aruba-ap-oid", A, "recording aruba-instant_105 (.14823.1.2)", pens=["14823.1.2"]),
    _k("hikvision-nvr-arc", DetectedKind.NVR, "d.1 Hikvision DVR/NVR (.50001)", pens=["50001"]),
    _k("dahua-nvr-sysdescr", DetectedKind.NVR, "d.1 Dahua (deviceClass DVR/NVR)",
       descr=r"NVR|DVR", vendor="Dahua"),
    _k("dahua-camera-sysdescr", DetectedKind.CAMERA, "d.1 Dahua cameras (PTZ|IPC|…)",
       descr=r"PTZ|IPC|PSD|TPC|[GHTUV]NI", vendor="Dahua"),
    _k("unifi-ap", A, "recording unifi_nanohd (UAP-)", descr=r"^UAP-"),
    _k("tplink-eap", A, "d.1 TP-Link APs (^Linux EAP/TL-WA, .11863.1.1.2, .11863.3)",
       descr=r"^Linux (EAP\d+|TL-WA)"),
    _k("tplink-ap-oid", A, "d.1 TP-Link APs (.11863.1.1.2, .11863.3)",
       pens=["11863.1.1.2", "11863.3"]),
    _k("hp-printer-jetdirect", DetectedKind.PRINTER, "recording jetdirect_m130nw (.11.2.3.9)",
       pens=["11.2.3.9"]),
    _k("ruijie-firewall", DetectedKind.FIREWALL, "d.1 Ruijie firewall (.4881.250, RG-WALL)",
       pens=["4881.250"]),
    _k("linux-server", DetectedKind.SERVER, "d.1 Generic Linux (net-snmp .8072.3.2.10)",
       pens=["8072.3.2.10"], descr=r"^Linux ", vendor="unknown"),
    _k("windows-server", DetectedKind.SERVER, "d.1 Windows (.311.1.1.3)", pens=["311.1.1.3"]),
    # Vendor defaults: what a vendor's boxes are when nothing more specific matched.
    *(_k(f"{v.lower().replace(' ', '-')}-default", kind, "vendor default", vendor=v)
      for v, kind in (
          ("Huawei", S), ("H3C", S), ("HPE", S), ("Ruijie", S), ("ZTE", S), ("Maipu", R),
          ("DCN", S), ("BDCOM", S), ("Raisecom", S), ("TP-Link", S), ("Centec", S),
          ("Asterfusion", S), ("Cisco", R), ("Juniper", R), ("Arista", S), ("Extreme", S),
          ("MikroTik", R), ("Ruckus", A), ("Ubiquiti", A), ("Aruba", C),
          ("Sangfor", DetectedKind.FIREWALL), ("Hillstone", DetectedKind.FIREWALL),
          ("Qi An Xin", DetectedKind.FIREWALL), ("Topsec", DetectedKind.FIREWALL),
          ("NSFOCUS", DetectedKind.FIREWALL), ("Venustech", DetectedKind.FIREWALL),
          ("DPtech", DetectedKind.FIREWALL), ("Fortinet", DetectedKind.FIREWALL),
          ("Palo Alto", DetectedKind.FIREWALL), ("Check Point", DetectedKind.FIREWALL),
          ("Hikvision", DetectedKind.CAMERA), ("Dahua", DetectedKind.CAMERA),
          ("Uniview", DetectedKind.CAMERA), ("Tiandy", DetectedKind.CAMERA),
          ("Axis", DetectedKind.CAMERA), ("APC", DetectedKind.UPS),
          ("HP", DetectedKind.PRINTER), ("Inspur", DetectedKind.SERVER),
          ("Sugon", DetectedKind.SERVER), ("Lenovo", DetectedKind.SERVER),
          ("Dell", DetectedKind.SERVER))),
)


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
class Identity:
    vendor: str
    domestic: Domestic
    domestic_rule: str
    kind: DetectedKind
    kind_rule: str
    os: str
    sources: tuple[str, ...] = field(default=())


def identify(facts: Facts) -> Identity:
    vendor_rule = next((r for r in VENDOR_RULES if r.matches(facts)), None)
    vendor = vendor_rule.vendor if vendor_rule else "unknown"
    kind_rule = next((r for r in KIND_RULES if (r.vendor is None or r.vendor == vendor)
                      and (r.oids or r.descr or r.probe or r.vendor)
                      and r.matches(facts)), None)
    os_rule = next((r for r in OS_RULES if r.matches(facts)), None)
    return Identity(
        vendor=vendor,
        domestic=vendor_rule.domestic if vendor_rule else Domestic.UNKNOWN,
        domestic_rule=vendor_rule.id if vendor_rule else "none",
        kind=kind_rule.kind if kind_rule else DetectedKind.UNKNOWN,
        kind_rule=kind_rule.id if kind_rule else "none",
        os=os_rule.os if os_rule else "",
        sources=tuple(r.source for r in (vendor_rule, kind_rule) if r is not None),
    )


# Vendors whose identity can need a subtree read (no system group or a generic sysObjectID).
def probes_needed(sys_object_id: Oid | None, sys_descr: str) -> bool:
    return sys_object_id is None or sys_object_id[: len(_NETSNMP[0])] == _NETSNMP[0]
