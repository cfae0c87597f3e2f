"""Every dashboard query, audit input, alert rule and central rule names only declared
measurements, fields and tags; a field renamed in its producer's declaration fails here,
naming each consumer that would silently break."""

from __future__ import annotations

import dataclasses

from agent.app.builtins import builtin_catalogue
from agent.app.cataloguelint import check_promql, lint, parse_promql, resolve
from agent.core.catalogue import Catalogue


def test_every_consumer_matches_the_catalogue() -> None:
    problems = lint(builtin_catalogue())
    assert not problems, "\n".join(str(p) for p in problems)


def _renamed(cat: Catalogue, owner: str, measurement: str, old: str, new: str) -> Catalogue:
    """A copy of the catalogue where `owner` declares field `old` of `measurement` as `new`
    (the producer renamed it; no consumer was touched)."""
    out = Catalogue()
    for name in cat.names():
        for o in cat.declarations(name):
            m = o.measurement
            if o.owner == owner and m.name == measurement:
                fields = tuple(dataclasses.replace(f, name=new) if f.name == old else f
                               for f in m.fields)
                assert fields != m.fields, f"{measurement}.{old} is not declared by {owner}"
                m = dataclasses.replace(m, fields=fields)
            out.add(m, o.owner)
    return out


def test_renaming_a_field_names_every_consumer_it_breaks() -> None:
    base = builtin_catalogue()
    cat = _renamed(base, "snmp", "snmp_interface", "in_utilization_percent", "in_util_percent")
    problems = [str(p) for p in lint(cat) if p not in lint(base)]
    text = "\n".join(problems)
    assert "dashboard campusmon-overview panel 'Egress utilisation' query 1" in text
    assert "alert rule link_saturation (agent/processors/alerts/builtin_rules.yaml)" in text
    assert "alert rule library_uplink_busy (config/examples/alerts.d/site-rules.yaml)" in text
    assert "central rule link_saturation (config/central/campusmon-alerts.yml)" in text
    assert "Devices up" not in text and "iot_" not in text  # consumers of other fields pass


def test_renaming_an_audited_field_names_the_audit_input() -> None:
    cat = _renamed(builtin_catalogue(), "snmp", "snmp_interface", "oper_status", "oper_state")
    text = "\n".join(str(p) for p in lint(cat))
    assert "audit input snmp_interface (agent/processors/audit/inputs.py): field " \
        "snmp_interface.oper_status is not declared" in text
    assert "alert rule uplink_down (agent/processors/alerts/builtin_rules.yaml)" in text
    assert "central rule uplink_down (config/central/campusmon-alerts.yml)" in text


def test_renaming_a_tag_names_the_rule_grouping_by_it() -> None:
    cat = builtin_catalogue()
    out = Catalogue()
    for name in cat.names():
        for o in cat.declarations(name):
            m = o.measurement
            if m.name == "iot_device":
                m = dataclasses.replace(m, tags=tuple(
                    dataclasses.replace(t, name="device_class") if t.name == "iot_class" else t
                    for t in m.tags))
            out.add(m, o.owner)
    text = "\n".join(str(p) for p in lint(out))
    assert "alert rule iot_class_offline" in text
    assert "central rule iot_class_offline (config/central/campusmon-alerts.yml): grouped by " \
        "'iot_class'" in text


def test_the_reader_finds_names_labels_and_groupings() -> None:
    p = parse_promql('max by (campus, device) (rate(snmp_interface_in_octets{ifname=~"ge.*", '
                     'campus="$campus"}[5m])) / on (device) group_left (kind) '
                     'agent_poll_up offset 15m unless {__name__=~"a_b|c_d"}')
    names = [s.name for s in p.selectors]
    assert names == ["snmp_interface_in_octets", "agent_poll_up", "a_b", "c_d", None]
    assert p.selectors[0].labels == ("ifname", "campus")
    assert p.grouping == ("campus", "device", "device", "kind")
    assert parse_promql('label_replace(up_x, "dst", "$1", "src", "(.*)")').made == ("dst",)


def test_names_resolve_as_each_store_names_them() -> None:
    cat = builtin_catalogue()
    assert resolve(cat, "snmp_interface_in_octets") == [("snmp_interface", "in_octets")]
    assert resolve(cat, "snmp_interface_in_octets_total") == [("snmp_interface", "in_octets")]
    assert resolve(cat, "agent_plugin_errors_total") == [("agent_plugin", "errors_total")]
    assert resolve(cat, "snmp_device_info") == [("snmp_device_info", "info")]
    assert resolve(cat, "snmp_device_info_info") == [("snmp_device_info", "info")]
    assert resolve(cat, "host_cpu_count_value") == [("host_cpu", "count")]
    assert resolve(cat, "snmp_interface_no_such_field") == []
    assert check_promql(cat, "wlan_ap_up{ap_colour=\"red\"}", "here")[0].message == \
        "wlan_ap_up: label 'ap_colour' is not a tag of wlan_ap"
