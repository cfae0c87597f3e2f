"""Identification rules on crafted facts: shared PENs, borrowed arcs, generic net-snmp IDs."""

from __future__ import annotations

import pytest

from collectors.snmp.identify import (
    KIND_RULES,
    VENDOR_RULES,
    DetectedKind,
    Domestic,
    Facts,
    Probe,
    identify,
)
from collectors.snmp.session import oid_from_str


def facts(oid: str | None, descr: str = "", *probes: Probe) -> Facts:
    return Facts(oid_from_str(oid) if oid else None, descr, frozenset(probes))


@pytest.mark.parametrize(("f", "vendor", "domestic", "rule", "kind"), [
    (facts("1.3.6.1.4.1.25506.11.1.172", "H3C Comware Platform Software, Version 7.1.070, "
           "H3C S6520X-30QC-EI"), "H3C", Domestic.YES, "h3c-pen", DetectedKind.SWITCH),
    (facts("1.3.6.1.4.1.25506.11.1.172", "HPE Comware Platform Software 5130"), "HPE",
     Domestic.NO, "hpe-comware-sysdescr", DetectedKind.SWITCH),
    (facts("1.3.6.1.4.1.50001.1.2", "Hikvision DS-7608NI"), "Hikvision", Domestic.YES,
     "hikvision-dvr-arc-50001", DetectedKind.NVR),
    (facts(None, "", Probe.HIKVISION), "Hikvision", Domestic.YES, "hikvision-vendor-subtree",
     DetectedKind.CAMERA),
    (facts("1.3.6.1.4.1.1004849.3.2.10", "DH-IPC-HFW2431S"), "Dahua", Domestic.YES,
     "dahua-arc-1004849", DetectedKind.CAMERA),
    (facts("1.3.6.1.4.1.8072.3.2.10", "Linux EAP245 3.0.0"), "TP-Link", Domestic.YES,
     "tplink-netsnmp-sysdescr", DetectedKind.AP),
    (facts("1.3.6.1.4.1.8072.3.2.10", "Linux box 6.1", Probe.UBIQUITI), "Ubiquiti",
     Domestic.NO, "ubiquiti-vendor-subtree", DetectedKind.AP),
    (facts("1.3.6.1.4.1.8072.3.2.10", "Linux kylin 4.19.90-52.22.v2207.ky10.aarch64"),
     "unknown", Domestic.UNKNOWN, "netsnmp-generic", DetectedKind.SERVER),
    (facts("1.3.6.1.4.1.2011.2.240.17", "Huawei AC6508"), "Huawei", Domestic.YES, "huawei-pen",
     DetectedKind.WLAN_CONTROLLER),
    (facts("1.3.6.1.4.1.2011.2.224.21", "Huawei AR6140 Huawei Versatile Routing Platform"),
     "Huawei", Domestic.YES, "huawei-pen", DetectedKind.ROUTER),
    (facts("1.3.6.1.4.1.28557.1.21", "StoneOS SG-6000"), "Hillstone", Domestic.YES,
     "hillstone-pen", DetectedKind.FIREWALL),
    (facts("1.3.6.1.4.1.99999.1", "Mystery OS"), "unknown", Domestic.UNKNOWN, "none",
     DetectedKind.UNKNOWN),
    (facts(None, ""), "unknown", Domestic.UNKNOWN, "none", DetectedKind.UNKNOWN),
])
def test_rules(f: Facts, vendor: str, domestic: Domestic, rule: str,
               kind: DetectedKind) -> None:
    ident = identify(f)
    assert (ident.vendor, ident.domestic, ident.domestic_rule, ident.kind) == (
        vendor, domestic, rule, kind)


def test_rule_ids_are_unique_and_every_rule_cites_a_source() -> None:
    ids = [r.id for r in (*VENDOR_RULES, *KIND_RULES)]
    assert len(ids) == len(set(ids))
    assert all(r.source for r in (*VENDOR_RULES, *KIND_RULES))
    # Domestic claims come from standards d.1 (or are explicit about another source).
    for r in VENDOR_RULES:
        if r.domestic is Domestic.YES:
            assert r.source.startswith("d.1"), r.id
