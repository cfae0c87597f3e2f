"""Device identification: vendor, 国产 (domestic) flag, kind and OS from SNMP facts.

The vendors and their evidence rules are data in the vendor catalogue (agent/shared/vendors.py,
shared with the SSH collector and the audits), tried in order; the first match decides and is
named in the result. This module turns what SNMP saw into `Facts` and applies the rules.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from agent.shared import vendors
from agent.shared.vendors import (
    DEFAULT_KIND_RULES,
    OS_RULES,
    VENDOR_RULES,
    Domestic,
    KindRule,
    OsRule,
    Probe,
    VendorRule,
)
from agent.shared.vendors import DeviceClass as DetectedKind
from collectors.snmp.session import Oid

__all__ = ["ANSWER_RULES", "KIND_RULES", "OS_RULES", "PRODUCT_KIND_RULES", "VENDOR_RULES",
           "Answer", "AnswerRule", "DetectedKind", "Domestic", "Facts", "Identity", "KindRule",
           "OsRule", "Probe", "VendorRule", "identify", "needs_answers", "probes_needed"]


class Answer(enum.StrEnum):
    """What the device answers that tells its kind (read only when the system group does not
    decide it)."""

    UPS_MIB = "ups-mib"  # UPS-MIB upsIdentModel (RFC 1628)
    APC_UPS = "apc-powernet-ups"  # PowerNet-MIB upsBasicIdentModel
    PRINTER_MIB = "printer-mib"  # Printer-MIB prtGeneralPrinterName / HOST-RESOURCES hrPrinter
    HIK_IPC = "hik-ipc-model"  # HIK-DEVICE-MIB deviceType of the DS-2CD (IP camera) line
    WLAN_APS = "wlan-ap-table"  # a vendor AP table with rows
    BRIDGE_PORTS = "bridge-ports"  # BRIDGE-MIB dot1dBasePortTable: two or more bridge ports
    IP_FORWARDING = "ip-forwarding"  # IP-MIB ipForwarding = forwarding(1)


@dataclass(frozen=True, slots=True)
class Facts:
    sys_object_id: Oid | None
    sys_descr: str
    probes: frozenset[Probe] = frozenset()
    answers: frozenset[Answer] = frozenset()

    def evidence(self) -> vendors.Evidence:
        return vendors.Evidence(self.sys_object_id, self.sys_descr, self.probes)


def _product(id: str, kind: DetectedKind, source: str, *, vendor: str | None = None,
             oids: tuple[Oid, ...] = (), descr: str | None = None) -> KindRule:
    return KindRule(id, source, oids, re.compile(descr, re.IGNORECASE) if descr else None, None,
                    vendor, kind)


# Product-line evidence in sysDescr / sysObjectID beyond the catalogue's, tried after it.
PRODUCT_KIND_RULES: tuple[KindRule, ...] = (
    _product("fortigate-oid", DetectedKind.FIREWALL,
             "FORTINET-FORTIGATE-MIB: .12356.101 is the FortiGate product tree "
             "(recording fortigate_60fospfv3)", oids=((1, 3, 6, 1, 4, 1, 12356, 101),)),
    _product("huawei-s-series", DetectedKind.SWITCH,
             "Huawei S-series switches: S5720…, S12700E… in sysDescr (recording vrp_5720)",
             vendor="Huawei", descr=r"\bS\d{4,5}[A-Z]*-"),
    _product("dcn-s-series", DetectedKind.SWITCH,
             "DCN S-series switches: ^S5750E… in sysDescr (recording dcn-software_s5750e)",
             vendor="DCN", descr=r"^S\d{4}"),
    _product("ruckus-ap-model", DetectedKind.AP,
             "Ruckus AP models (R850, H510, T750 …) in sysDescr (recording ruckus unleashed)",
             vendor="Ruckus", descr=r"Ruckus Wireless [RHTMC]\d{3}"),
    _product("sysdescr-network-camera", DetectedKind.CAMERA,
             "'Network Camera' in sysDescr (recording axiscam_p1435-le)",
             descr=r"Network Camera"),
    _product("sysdescr-switch", DetectedKind.SWITCH,
             "'Switch' in sysDescr: Ruijie 'Routing Switch', Omada 'Smart Switch', HP Comware "
             "'FF 5700 … Switch' (recordings ruijie_s6150, jetstream_sg2218p, comware)",
             descr=r"\bSwitch\b"),
)


@dataclass(frozen=True, slots=True)
class AnswerRule:
    """Kind from what the device answers: all of `needs`, none of `lacks`."""

    id: str
    source: str
    kind: DetectedKind
    needs: frozenset[Answer]
    lacks: frozenset[Answer] = frozenset()

    def matches(self, answers: frozenset[Answer]) -> bool:
        return self.needs <= answers and not (self.lacks & answers)


def _ans(id: str, kind: DetectedKind, source: str, needs: set[Answer],
         lacks: set[Answer] | None = None) -> AnswerRule:
    return AnswerRule(id, source, kind, frozenset(needs), frozenset(lacks or ()))


ANSWER_RULES: tuple[AnswerRule, ...] = (
    _ans("ups-mib", DetectedKind.UPS, "answers UPS-MIB upsIdentModel (RFC 1628)",
         {Answer.UPS_MIB}),
    _ans("apc-powernet-ups", DetectedKind.UPS, "answers PowerNet-MIB upsBasicIdentModel "
         "(.318.1.1.1.1.1.1; recording apc_smt750x-nmc2)", {Answer.APC_UPS}),
    _ans("printer-mib", DetectedKind.PRINTER, "answers Printer-MIB prtGeneralPrinterName / "
         "HOST-RESOURCES hrPrinterStatus", {Answer.PRINTER_MIB}),
    _ans("hik-ipc-model", DetectedKind.CAMERA, "HIK-DEVICE-MIB deviceType DS-2CD… (Hikvision's "
         "IP camera line; recording hikvision-cam)", {Answer.HIK_IPC}),
    _ans("wlan-ap-table", DetectedKind.WLAN_CONTROLLER, "answers a vendor AP table with rows",
         {Answer.WLAN_APS}),
    _ans("bridge-ports", DetectedKind.SWITCH, "answers BRIDGE-MIB dot1dBasePortTable with two "
         "or more bridge ports (RFC 4188)", {Answer.BRIDGE_PORTS}),
    _ans("ip-forwarding-no-bridge", DetectedKind.ROUTER, "ipForwarding = forwarding(1) and no "
         "bridge ports (IP-MIB, BRIDGE-MIB)", {Answer.IP_FORWARDING}, {Answer.BRIDGE_PORTS}),
)

# Kind rules in the order tried: the catalogue's specific evidence, product lines, then
# (answers, see identify()) and vendor defaults last.
KIND_RULES: tuple[KindRule, ...] = (*vendors.KIND_RULES, *PRODUCT_KIND_RULES,
                                    *DEFAULT_KIND_RULES)
_EVIDENCE_RULES: tuple[KindRule, ...] = (*vendors.KIND_RULES, *PRODUCT_KIND_RULES)


@dataclass(frozen=True, slots=True)
class Identity:
    vendor: str
    domestic: Domestic
    domestic_rule: str
    kind: DetectedKind
    kind_rule: str
    os: str
    sources: tuple[str, ...] = field(default=())
    kind_source: str = ""  # the deciding kind rule's source ("vendor default" for defaults)


def identify(facts: Facts) -> Identity:
    e = facts.evidence()
    vendor_rule = vendors.match_vendor(e)
    vendor = vendor_rule.vendor if vendor_rule else vendors.UNKNOWN_VENDOR
    # Evidence first (product line, then what the device answers); the vendor's default kind
    # only when nothing else decided, and its rule says so ("vendor default").
    decided: KindRule | AnswerRule | None = vendors.match_kind(e, vendor, _EVIDENCE_RULES)
    if decided is None:
        decided = next((r for r in ANSWER_RULES if r.matches(facts.answers)), None)
    if decided is None:
        decided = vendors.match_kind(e, vendor, DEFAULT_KIND_RULES)
    os_rule = vendors.match_os(e)
    return Identity(
        vendor=vendor,
        domestic=vendor_rule.domestic if vendor_rule else Domestic.UNKNOWN,
        domestic_rule=vendor_rule.id if vendor_rule else "none",
        kind=decided.kind if decided else DetectedKind.UNKNOWN,
        kind_rule=decided.id if decided else "none",
        os=os_rule.os if os_rule else "",
        sources=tuple(r.source for r in (vendor_rule, decided) if r is not None),
        kind_source=decided.source if decided else "",
    )


def needs_answers(identity: Identity) -> bool:
    """The system group did not decide the kind: read what the device answers."""
    return identity.kind_rule == "none" or identity.kind_source == "vendor default"


# Vendors whose identity can need a subtree read (no system group or a generic sysObjectID).
def probes_needed(sys_object_id: Oid | None, sys_descr: str) -> bool:
    return vendors.probes_needed(sys_object_id)
