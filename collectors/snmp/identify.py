"""Device identification: vendor, 国产 (domestic) flag, kind and OS from SNMP facts.

The vendors and their evidence rules are data in the vendor catalogue (agent/shared/vendors.py,
shared with the SSH collector and the audits), tried in order; the first match decides and is
named in the result. This module turns what SNMP saw into `Facts` and applies the rules.
"""

from __future__ import annotations

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

__all__ = ["KIND_RULES", "OS_RULES", "VENDOR_RULES", "DetectedKind", "Domestic", "Facts",
           "Identity", "KindRule", "OsRule", "Probe", "VendorRule", "identify", "probes_needed"]


@dataclass(frozen=True, slots=True)
class Facts:
    sys_object_id: Oid | None
    sys_descr: str
    probes: frozenset[Probe] = frozenset()

    def evidence(self) -> vendors.Evidence:
        return vendors.Evidence(self.sys_object_id, self.sys_descr, self.probes)


# Kind rules in the order tried: the catalogue's specific evidence, then vendor defaults.
KIND_RULES: tuple[KindRule, ...] = (*vendors.KIND_RULES, *DEFAULT_KIND_RULES)


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
    e = facts.evidence()
    vendor_rule = vendors.match_vendor(e)
    vendor = vendor_rule.vendor if vendor_rule else vendors.UNKNOWN_VENDOR
    kind_rule = vendors.match_kind(e, vendor, KIND_RULES)
    os_rule = vendors.match_os(e)
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
    return vendors.probes_needed(sys_object_id)
