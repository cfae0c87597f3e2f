from collections.abc import Sequence

from agent.processors.audit import ipv6
from agent.processors.audit.model import Indicator, Status
from tests.agent.processors.audit.crafted import audit_input, inventory, points


def _get(inds: Sequence[Indicator], id_: str) -> Indicator:
    return next(i for i in inds if i.id == id_)


def test_device_global_address_and_forwarding():
    inds = ipv6.device_indicators(audit_input())
    addr = _get(inds, "ipv6_device_global_address")
    # gw, core, fw have global addresses; acc has none; ac has no data (unknown)
    assert (addr.numerator, addr.denominator) == (3, 4)
    assert addr.value == 75.0 and addr.passed is False
    assert addr.unknown == 1
    assert {e.subject for e in addr.evidence if e.status is Status.UNKNOWN} == {"ac"}
    assert addr.target is not None and addr.target.source.row == "b2"
    fwd = _get(inds, "ipv6_forwarding")  # gw, core, fw route IPv4; core does not route IPv6
    assert (fwd.numerator, fwd.denominator) == (2, 3)
    ifs = _get(inds, "ipv6_interfaces")
    assert (ifs.numerator, ifs.denominator) == (4, 16) and ifs.target is None


def test_egress_share_skips_counter_reset():
    ind = ipv6.egress_traffic_indicator(audit_input())
    # v4: 3e9; v6: 0.5e9 + (reset skipped) + 0.5e9 = 1e9  → 25 %
    assert ind.numerator == 1e9 and ind.denominator == 4e9
    assert ind.value == 25.0
    assert ind.passed is False  # 27 % by end-2025 (b8)
    assert ind.target is not None and ind.target.source.row == "b8"
    assert {r.source.row for r in ind.references} == {"b5", "b6", "b.2"}
    assert "1 counter reset" in ind.note


def test_no_egress_link_declared():
    inv = inventory(egress=False)
    ind = ipv6.egress_traffic_indicator(audit_input(inv, points(inventory())))
    assert ind.value is None and ind.passed is None
    assert "no egress link declared" in ind.note


def test_web_and_iot():
    inp = audit_input()
    web = ipv6.web_indicator(inp)
    assert (web.numerator, web.denominator) == (2, 3)
    assert [r.value for r in web.references] == [82.07]
    iot = ipv6.iot_indicator(inp)
    # cam has IPv6 in the inventory; door and cpe do not
    assert (iot.numerator, iot.denominator) == (1, 3)
    assert iot.target is None


def test_iot_ipv6_seen_in_neighbour_table():
    inv = inventory()
    from agent.core.model import Metric
    from tests.agent.processors.audit.crafted import T0
    pts = [*points(inv), Metric("snmp_fdb", {"campus": "c1", "device": "acc",
                                              "mac": "00:11:22:33:44:01", "ip": "2001:db8::99"},
                                {"present": 1}, T0)]
    iot = ipv6.iot_indicator(audit_input(inv, pts))
    assert iot.numerator == 2
    door = next(e for e in iot.evidence if e.subject == "door")
    assert door.rule.startswith("neighbour table")


def test_empty_input_gives_no_values():
    inds = ipv6.indicators(audit_input(inventory(), []))
    # only the IoT share comes from the inventory alone (declared addresses)
    assert [i.id for i in inds if i.value is not None] == ["iot_ipv6"]


def test_ssh_ipv6_fills_devices_without_snmp():
    from agent.core.model import Metric
    from tests.agent.processors.audit.crafted import T0, tags

    inv = inventory()
    pts = [*points(inv), Metric("ssh_ipv6", tags(inv, "ac"), {
        "global_addresses": 1, "interfaces": 2, "interfaces_with_global_ipv6": 1}, T0)]
    addr = _get(ipv6.device_indicators(audit_input(inv, pts)), "ipv6_device_global_address")
    assert (addr.numerator, addr.denominator, addr.unknown) == (4, 5, 0)


def test_address_table_decides_global_unicast():
    """2001:db8:: is global unicast (2000::/3) even when a collector labels its scope other."""
    from agent.core.model import Metric
    from agent.processors.audit.ipv6 import global_unicast
    from tests.agent.processors.audit.crafted import T0, tags

    assert global_unicast("2001:db8::1") and global_unicast("240e::1")
    assert not global_unicast("fe80::1") and not global_unicast("fd00::1")
    assert not global_unicast("10.0.0.1") and not global_unicast("nonsense")
    inv = inventory()
    pts = [*points(inv)]
    for a, scope, ifx in (("2001:db8::5", "other", "3"), ("fe80::5", "linklocal", "3"),
                          ("2001:db8:1::5", "other", "4")):
        pts.append(Metric("snmp_ip_address", tags(inv, "acc", address=a, family="ipv6",
                                                  scope=scope, ifindex=ifx), {"present": 1}, T0))
    inds = ipv6.device_indicators(audit_input(inv, pts))
    addr = _get(inds, "ipv6_device_global_address")
    assert (addr.numerator, addr.denominator) == (4, 4)  # acc now counts
    acc = next(e for e in addr.evidence if e.subject == "acc")
    assert acc.detail == "2 global IPv6 address(es) (address table, 2000::/3)"
    ifs = _get(inds, "ipv6_interfaces")
    # gw 2, core 1, fw 1 of 4 interfaces each (snmp_ipv6); acc: its address table names two
    # L3 interfaces, both with a global address (the link-local one adds no interface)
    assert (ifs.numerator, ifs.denominator) == (4 + 2, 3 * 4 + 2)
    acc_if = next(e for e in ifs.evidence if e.subject == "acc")
    assert acc_if.detail.startswith("2 of 2 L3 interfaces")


def test_l3_interfaces_from_the_address_table():
    from agent.core.model import Metric
    from tests.agent.processors.audit.crafted import T0, tags

    inv = inventory()
    pts = [p for p in points(inv) if p.name != "snmp_ipv6"]
    pts.append(Metric("snmp_ipv6", tags(inv, "core"), {"interfaces": 52, "global_addresses": 0,
                                                       "ipv4_forwarding": 1}, T0))
    for a, ifx in (("10.0.0.2", "100"), ("10.1.0.1", "101"), ("2001:db8:1::1", "101"),
                   ("127.0.0.1", "200"), ("10.2.0.1", "102")):
        pts.append(Metric("snmp_ip_address", tags(inv, "core", address=a, ifindex=ifx),
                          {"present": 1}, T0))
    ifs = _get(ipv6.device_indicators(audit_input(inv, pts)), "ipv6_interfaces")
    # three VLAN interfaces hold IPv4 (loopback aside), one of them also a global IPv6
    assert (ifs.numerator, ifs.denominator) == (1, 3)


def test_ap_management_ipv6_from_the_controller():
    from agent.core.model import Metric
    from tests.agent.processors.audit.crafted import T0, tags

    inv = inventory()
    pts = [p for p in points(inv) if p.name != "wlan_ap"]
    for name, v6 in (("ap1", "2001:db8:ff::1"), ("ap2", ""), ("ap3", "fe80::3")):
        extra = {"ap_ipv6": v6} if v6 else {}
        pts.append(Metric("wlan_ap", tags(inv, "ac", ap_name=name, **extra), {"up": 1}, T0))
    ind = ipv6.ap_indicator(audit_input(inv, pts))
    assert (ind.numerator, ind.denominator) == (1, 3)  # a link-local address does not count
    assert ind.target is not None and ind.target.source.row == "b2"
    empty = ipv6.ap_indicator(audit_input(inv, []))
    assert empty.value is None and "no wlan_ap data" in empty.note
