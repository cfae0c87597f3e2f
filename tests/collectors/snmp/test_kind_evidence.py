"""Kind from evidence: every recording in expected.tsv gets its kind from product-line evidence
or from what it answers, and names the rule; a vendor's default kind is the last resort and
says so."""

from __future__ import annotations

import pytest

from collectors.snmp.cli import identify_host
from collectors.snmp.identify import Answer, Facts, identify
from collectors.snmp.session import oid_from_str
from collectors.snmp.transport import TransportKind, TransportOptions
from config.credentials import SnmpV2cCredential
from tests.collectors.snmp.conftest import SnmpAgent
from tests.collectors.snmp.test_recordings import EXPECTED, Expected


@pytest.mark.timeout(60)
@pytest.mark.parametrize("exp", EXPECTED, ids=lambda e: e.community)
async def test_kind_by_evidence_with_the_rule_named(snmpsim_fixtures: SnmpAgent,
                                                    exp: Expected) -> None:
    doc, problems = await identify_host(
        snmpsim_fixtures.host, snmpsim_fixtures.port,
        SnmpV2cCredential(name=exp.community, type="snmp_v2c", community=exp.community),
        TransportOptions(timeout_s=0.5, retries=1, transport=TransportKind.FAST))
    assert problems == []
    assert doc["kind"] == exp.kind
    assert doc["kind_rule"] != "none" and doc["kind_source"]
    # every recording carries evidence of its kind: none falls back to the vendor default
    assert doc["kind_source"] != "vendor default", (doc["kind_rule"], doc["kind_source"])
    # identify names the profiles the device's identity selects
    vendor_profile = {"Huawei": "huawei-entity", "HPE": "h3c-entity", "Cisco": "cisco",
                      "Ruijie": "ruijie", "ZTE": "zte"}.get(exp.vendor)
    assert "host-resources" in doc["profiles"]  # a standard MIB: every device
    assert vendor_profile is None or vendor_profile in doc["profiles"], doc["profiles"]


def test_vendor_default_is_the_last_resort_and_says_so() -> None:
    huawei_unknown_line = oid_from_str("1.3.6.1.4.1.2011.2.999")
    plain = identify(Facts(huawei_unknown_line, "Huawei Versatile Routing Platform Software"))
    assert (plain.kind.value, plain.kind_rule, plain.kind_source) == (
        "switch", "huawei-default", "vendor default")
    # what the device answers beats the vendor default …
    router = identify(Facts(huawei_unknown_line, "Huawei Versatile Routing Platform Software",
                            answers=frozenset({Answer.IP_FORWARDING})))
    assert (router.kind.value, router.kind_rule) == ("router", "ip-forwarding-no-bridge")
    l3_switch = identify(Facts(huawei_unknown_line, "Huawei VRP", answers=frozenset(
        {Answer.IP_FORWARDING, Answer.BRIDGE_PORTS})))
    assert l3_switch.kind_rule == "bridge-ports"
    # … and a UPS network card on a switch vendor's arc is a UPS when it answers UPS-MIB
    ups = identify(Facts(oid_from_str("1.3.6.1.4.1.2011.2.998"), "",
                         answers=frozenset({Answer.UPS_MIB, Answer.BRIDGE_PORTS})))
    assert (ups.kind.value, ups.kind_rule) == ("ups", "ups-mib")
    # product-line evidence in sysDescr comes before answers
    ne = identify(Facts(oid_from_str("1.3.6.1.4.1.2011.2.62.30"), "",
                        answers=frozenset({Answer.BRIDGE_PORTS})))
    assert ne.kind_rule == "huawei-ne-router"
