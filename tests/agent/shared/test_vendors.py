"""The vendor catalogue: one record per vendor, read the same way by SNMP identification, the
SSH collector and the audits."""

from __future__ import annotations

from agent.processors.audit.vendors import classify_vendor
from agent.shared import vendors
from agent.shared.vendors import VENDORS, Domestic, Evidence, by_name, by_pen, domestic_of
from collectors.snmp.identify import Facts, identify
from collectors.ssh.metrics import domestic as ssh_domestic
from collectors.ssh.platforms import COMMAND_SETS, Platform, platform_for_vendor


def test_lookups_by_name_alias_and_pen() -> None:
    assert by_name("  新华三 ") is by_name("H3C") is by_pen(25506)
    assert by_name("huawei_technologies") is by_name("华为")
    assert by_pen(58132) is by_name("xFusion")
    assert by_name("ZKTeco") is None and by_name(None) is None and by_pen(99999) is None
    assert domestic_of("Ruijie Networks") is Domestic.YES
    assert domestic_of("hewlett packard enterprise") is Domestic.NO
    assert domestic_of("Some OEM") is Domestic.UNKNOWN


def test_snmp_ssh_and_audit_agree_on_every_vendor() -> None:
    # before the catalogue the SSH collector knew 7 vendors, the audit 48, SNMP 50
    for v in VENDORS:
        assert ssh_domestic(v.name) == v.domestic.value, v.name
        assert classify_vendor(v.name)[0] == v.domestic.value, v.name
        for alias in v.aliases:
            assert classify_vendor(alias)[0] == v.domestic.value, alias
        if v.pens:
            oid = (1, 3, 6, 1, 4, 1, v.pens[0], 1)
            ident = identify(Facts(oid, "Mystery sysDescr"))
            assert (ident.vendor, ident.domestic) == (v.name, v.domestic), v.name
            if v.default_kind is not None:
                assert ident.kind is v.default_kind, v.name


def test_cli_platforms_are_ssh_platforms() -> None:
    for v in VENDORS:
        if v.cli_platform is not None:
            assert Platform(v.cli_platform) in COMMAND_SETS
            for spelling in (v.name, *v.aliases):
                assert platform_for_vendor(spelling) is Platform(v.cli_platform), spelling
    assert {v.cli_platform for v in VENDORS if v.cli_platform} == {
        p.value for p in Platform} - {
        Platform.CISCO_XE.value,  # IOS-XE: a per-target override of IOS
        Platform.LINUX.value,  # servers: chosen by inventory kind, not by a network vendor
    }


def test_os_rules_name_vendor_os_families() -> None:
    e = Evidence((1, 3, 6, 1, 4, 1, 2011, 2, 23), "Huawei Versatile Routing Platform Software")
    os_rule = vendors.match_os(e)
    assert os_rule is not None and os_rule.os in by_name("Huawei").os_families  # type: ignore[union-attr]


def test_shared_pen_is_decided_by_sysdescr() -> None:
    # d.1 caveat 1: 25506 is H3C's PEN, HPE-branded Comware answers on it too
    hpe = vendors.match_vendor(Evidence((1, 3, 6, 1, 4, 1, 25506, 11), "HPE Comware 5130"))
    h3c = vendors.match_vendor(Evidence((1, 3, 6, 1, 4, 1, 25506, 11), "H3C Comware S6520"))
    assert hpe is not None and (hpe.vendor, hpe.domestic) == ("HPE", Domestic.NO)
    assert h3c is not None and (h3c.vendor, h3c.domestic) == ("H3C", Domestic.YES)


def test_wlan_tables_name_catalogue_vendors() -> None:
    from collectors.snmp.wlan import WLAN_MAPS

    assert [v for m in WLAN_MAPS for v in m.vendors if by_name(v) is None] == []
