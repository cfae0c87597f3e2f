"""Every built-in rule on crafted samples shaped like its producer's contract (docs/metrics.md):
it fires on the bad input and resolves on the good one. Rule files: bad YAML names file:line."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from agent.core.errors import ConfigError
from agent.core.model import Event, EventState, Item, Metric, Severity
from agent.processors.alerts.rules import builtin_rules, load_rule_file
from config.credentials import Credential, SnmpV2cCredential, SnmpV3Credential
from inventory.models import DeviceKind
from tests.agent.processors.alerts.helpers import (
    FakeClock,
    alert_events,
    campus,
    dev,
    processor,
    tags_for,
)
from tests.agent.processors.alerts.test_device_event_rules import CASES as DEVICE_EVENT_CASES
from tests.agent.processors.alerts.test_health_rules import HEALTH_RULE_CASES

INV = campus([
    dev("egress-router", DeviceKind.ROUTER, roles=["egress"], building="dc",
        credential="v2c-public"),
    dev("core-sw", DeviceKind.CORE_SWITCH, roles=["uplink", "core"], building="dc",
        credential="v3-noauth"),
    dev("acc-1", DeviceKind.ACCESS_SWITCH, parent="core-sw", port="GE1/0/1",
        credential="v3-good"),
    *[dev(f"cam-{i}", DeviceKind.CAMERA, parent="acc-1") for i in range(4)],
])
CREDS: dict[str, Credential] = {
    "v2c-public": SnmpV2cCredential(name="v2c-public", type="snmp_v2c",
                                    community=SecretStr("public")),
    "v3-noauth": SnmpV3Credential(name="v3-noauth", type="snmp_v3", user="mon"),
    "v3-good": SnmpV3Credential(name="v3-good", type="snmp_v3", user="mon",
                                auth_protocol="SHA256", auth_key=SecretStr("authkey-123"),
                                priv_protocol="AES", priv_key=SecretStr("privkey-123")),
}


def m(name: str, device: str, tags: dict[str, str], fields: dict[str, float | int]) -> Metric:
    return Metric(name, {**tags_for(INV, device), **tags}, fields)


def iot(i: int, up: int) -> Metric:
    return m("iot_device", f"cam-{i}", {"iot_class": "camera", "topic": f"t/{i}"},
             {"up": up, "last_seen_age_seconds": 5})


# rule → (bad items, good items, expected key)
CASES: dict[str, tuple[list[Item], list[Item], str]] = {
    "device_down_mqtt": ([iot(0, 0)], [iot(0, 1)], "device_down_mqtt:cam-0"),
    "uplink_down": (
        [m("snmp_interface", "core-sw", {"ifindex": "3", "ifname": "GE1/0/1", "ifalias": "a"},
           {"oper_status": 2, "admin_status": 1})],
        [m("snmp_interface", "core-sw", {"ifindex": "3", "ifname": "GE1/0/1", "ifalias": "a"},
           {"oper_status": 1, "admin_status": 1})],
        "uplink_down:core-sw/GE1/0/1"),
    "link_saturation": (
        [m("snmp_interface", "acc-1", {"ifindex": "1", "ifname": "GE0/0/48", "ifalias": ""},
           {"in_utilization_percent": 12.0, "out_utilization_percent": 97.5})],
        [m("snmp_interface", "acc-1", {"ifindex": "1", "ifname": "GE0/0/48", "ifalias": ""},
           {"in_utilization_percent": 12.0, "out_utilization_percent": 40.0})],
        "link_saturation:acc-1/GE0/0/48"),
    "insecure_telnet": (
        [m("probe_tcp", "acc-1", {"family": "ipv4", "address": "10.1.0.2", "port": "23"},
           {"success": 1, "duration_seconds": 0.01})],
        [m("probe_tcp", "acc-1", {"family": "ipv4", "address": "10.1.0.2", "port": "23",
                                  "error_type": "refused"},
           {"success": 0, "duration_seconds": 0.01})],
        "insecure_telnet:acc-1"),
    "insecure_http_management": (
        [m("probe_http", "acc-1", {"family": "ipv4", "url": "http://10.1.0.2/"},
           {"success": 1, "duration_seconds": 0.1, "status_code": 200})],
        [m("probe_http", "acc-1", {"family": "ipv4", "url": "http://10.1.0.2/",
                                   "error_type": "refused"},
           {"success": 0, "duration_seconds": 0.1})],
        "insecure_http_management:acc-1/http://10.1.0.2/"),
    "foreign_vendor_reserved_role": (
        [m("snmp_device_info", "egress-router",
           {"detected_vendor": "Cisco", "domestic": "no", "model": "ISR4451",
            "sys_object_id": ".1.3.6.1.4.1.9.1.2068"}, {"info": 1})],
        [],  # a fact about the device: stays until it goes stale
        "foreign_vendor_reserved_role:egress-router"),
    "iot_class_offline": ([iot(0, 0), iot(1, 0), iot(2, 0), iot(3, 1)],
                          [iot(0, 1), iot(1, 1), iot(2, 1)], "iot_class_offline:camera"),
    "certificate_expiring": (
        [m("probe_http", "acc-1", {"family": "ipv4", "url": "https://www.example.edu.cn/"},
           {"success": 1, "duration_seconds": 0.2, "tls_expiry_seconds": 5 * 86400})],
        [m("probe_http", "acc-1", {"family": "ipv4", "url": "https://www.example.edu.cn/"},
           {"success": 1, "duration_seconds": 0.2, "tls_expiry_seconds": 90 * 86400})],
        "certificate_expiring:https://www.example.edu.cn/"),
    "ipv6_regression": (
        [m("probe_ipv6_regression", "acc-1", {"reason": "ipv6_failed"}, {"regression": 1})],
        [m("probe_ipv6_regression", "acc-1", {"reason": "none"}, {"regression": 0})],
        "ipv6_regression:acc-1"),
    "audit_below_target": (
        [Metric("audit_indicator", {"campus": "hn-demo", "indicator": "ipv6_traffic_share",
                                    "source": "standards b", "unit": "%", "scope": "campus"},
                {"value": 9.5, "target": 15, "pass": 0})],
        [Metric("audit_indicator", {"campus": "hn-demo", "indicator": "ipv6_traffic_share",
                                    "source": "standards b", "unit": "%", "scope": "campus"},
                {"value": 16.0, "target": 15, "pass": 1})],
        "audit_below_target:ipv6_traffic_share/campus/"),
    "address_conflict": (
        [Event("conflict:10.1.1.20", "address_conflict", EventState.RAISED, Severity.CRITICAL,
               "10.1.1.20 claimed by two MACs")],
        [Event("conflict:10.1.1.20", "address_conflict", EventState.RESOLVED,
               Severity.CRITICAL, "gone")],
        "address_conflict:conflict:10.1.1.20"),
    "rogue_dhcp": (
        [Event("dhcp:10.1.1.250", "rogue_dhcp", EventState.RAISED, Severity.CRITICAL,
               "DHCP offers from 10.1.1.250")],
        [Event("dhcp:10.1.1.250", "rogue_dhcp", EventState.RESOLVED, Severity.CRITICAL, "")],
        "rogue_dhcp:dhcp:10.1.1.250"),
    "config_changed": (
        [Event("config_changed:acc-1", "config_changed", EventState.OBSERVED, Severity.WARNING,
               "acc-1: configuration changed (+1 -1: vlan 2)", device="acc-1")],
        [], "config_changed:acc-1"),
    "config_backup_failed": (
        [Event("config_backup_failed:acc-1", "config_backup_failed", EventState.RAISED,
               Severity.WARNING, "acc-1: configuration backup failed 3 runs in a row",
               device="acc-1")],
        [Event("config_backup_failed:acc-1", "config_backup_failed", EventState.RESOLVED,
               Severity.WARNING, "acc-1: backed up again", device="acc-1")],
        "config_backup_failed:acc-1"),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires_and_resolves(rule: str) -> None:
    bad, good, key = CASES[rule]
    clock = FakeClock()
    p = processor(INV, clock, {"overrides": {rule: {"for_secs": 0}},
                               "topology": {"settle_secs": 0}}, CREDS, rule_names=[rule])
    out = alert_events(p.process(bad))
    assert [(e.key, e.state) for e in out] == [(key, EventState.RAISED)], out
    assert "?" not in out[0].summary, out[0].summary  # every placeholder was filled
    if good:
        clock.advance(10)
        out = alert_events(p.process(good))
        assert [(e.key, e.state) for e in out] == [(key, EventState.RESOLVED)]


def test_insecure_snmp_from_the_credential_sets() -> None:
    clock = FakeClock()
    p = processor(INV, clock, {}, CREDS, rule_names=["insecure_snmp"])
    uptime = [m("snmp_system", d, {}, {"uptime_seconds": 100})
              for d in ("egress-router", "core-sw", "acc-1")]
    out = alert_events(p.process(uptime))
    assert {e.key: e.summary for e in out} == {
        "insecure_snmp:egress-router": "egress-router is managed with insecure SNMP: SNMP "
        "v1/v2c with a default community (credential set 'v2c-public')",
        "insecure_snmp:core-sw": "core-sw is managed with insecure SNMP: SNMPv3 without "
        "authentication (noAuthNoPriv, credential set 'v3-noauth')",
    }


def test_device_down_snmp_when_snmp_goes_silent() -> None:
    clock = FakeClock()
    p = processor(INV, clock, {"topology": {"settle_secs": 0}}, CREDS,
                  rule_names=["device_down_snmp"])
    p.process([m("snmp_system", "acc-1", {}, {"uptime_seconds": 100})])
    clock.advance(170)
    assert alert_events(p.process([])) == []
    clock.advance(20)
    out = alert_events(p.process([]))
    assert [(e.key, e.state) for e in out] == [("device_down_snmp:acc-1", EventState.RAISED)]
    out = alert_events(p.process([m("snmp_system", "acc-1", {}, {"uptime_seconds": 5})]))
    assert [(e.key, e.state) for e in out] == [("device_down_snmp:acc-1", EventState.RESOLVED)]


def test_every_builtin_rule_is_covered() -> None:
    covered = {*CASES, "insecure_snmp", "device_down_snmp", "device_down_icmp",
               "unregistered_device", "rogue_ra", *DEVICE_EVENT_CASES, *HEALTH_RULE_CASES,
               "ssh_host_key_changed"}  # tests/hostile/test_ssh_hostkey.py
    assert {r.name for r in builtin_rules()} <= covered


def test_bad_rule_file_names_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "rules.yaml"
    f.write_text(
        "rules:\n"
        "  - name: ok_rule\n"
        "    summary: fine\n"
        "    condition: {type: event, kinds: [x]}\n"
        "  - name: bad_rule\n"
        "    summary: '{device'\n"
        "    condition:\n"
        "      type: threshold\n"
        "      metric: probe_icmp\n"
        "      fields: [success]\n"
        "      op: '=~'\n"
        "      value: 0\n"
        "      colour: red\n")
    with pytest.raises(ConfigError) as info:
        load_rule_file(f)
    text = str(info.value)
    assert f"{f}:6" in text and "summary" in text
    assert f"{f}:11" in text and "op" in text
    assert f"{f}:13" in text and "unknown key 'colour'" in text


def test_duplicate_rule_and_unknown_override(tmp_path: Path) -> None:
    f = tmp_path / "rules.yaml"
    f.write_text("rules:\n"
                 "  - {name: a, summary: s, condition: {type: event, kinds: [x]}}\n"
                 "  - {name: a, summary: s, condition: {type: event, kinds: [y]}}\n")
    with pytest.raises(ConfigError, match=rf"{f}:3: duplicate rule 'a' \(also at {f}:2\)"):
        load_rule_file(f)
    with pytest.raises(ConfigError, match="unknown rules"):
        processor(INV, FakeClock(), {"overrides": {"no_such_rule": {"for_secs": 1}}})


def test_unreachable_device_keeps_its_security_finding() -> None:
    clock = FakeClock()
    p = processor(INV, clock, {}, CREDS, rule_names=["insecure_telnet"])

    def tcp(ok: bool, error: str | None = None) -> Metric:
        tags = {"family": "ipv4", "address": "10.1.0.2", "port": "23"}
        if error:
            tags["error_type"] = error
        return m("probe_tcp", "acc-1", tags, {"success": int(ok), "duration_seconds": 0.1})

    assert len(alert_events(p.process([tcp(True)]))) == 1
    clock.advance(60)
    assert alert_events(p.process([tcp(False, "timeout")])) == []  # cannot tell: still open
    clock.advance(60)
    out = alert_events(p.process([tcp(False, "refused")]))  # closed for real
    assert [e.state for e in out] == [EventState.RESOLVED]


def test_uplink_down_only_for_link_ports_and_admin_up() -> None:
    """A core switch has dozens of enabled, unused access ports that are down: no alert. The
    port to acc-1 (its inventory parent_port) and a port whose alias says uplink do alert;
    a link port shut down on purpose (admin down) does not."""
    clock = FakeClock()
    p = processor(INV, clock, {"overrides": {"uplink_down": {"for_secs": 0}}}, CREDS,
                  rule_names=["uplink_down"])

    def port(name: str, alias: str, admin: int) -> Metric:
        return m("snmp_interface", "core-sw", {"ifindex": name[-2:], "ifname": name,
                                               "ifalias": alias},
                 {"oper_status": 2, "admin_status": admin})

    out = alert_events(p.process([
        port("GE1/0/1", "", 1), port("GE1/0/9", "", 1), port("GE1/0/10", "printer", 1),
        port("XGE1/0/49", "Uplink-to-CERNET", 1), port("XGE1/0/50", "uplink spare", 2)]))
    assert sorted(e.key for e in out) == ["uplink_down:core-sw/GE1/0/1",
                                          "uplink_down:core-sw/XGE1/0/49"]


def test_iot_class_offline_holds_back_the_per_device_alerts() -> None:
    clock = FakeClock()
    p = processor(INV, clock, {"overrides": {"device_down_mqtt": {"for_secs": 0},
                                             "iot_class_offline": {"for_secs": 0}},
                               "topology": {"settle_secs": 30}}, CREDS,
                  rule_names=["device_down_mqtt", "iot_class_offline"])
    events = alert_events(p.process([iot(0, 0), iot(1, 1), iot(2, 1), iot(3, 1)]))
    clock.advance(10)
    events += alert_events(p.process([iot(1, 0), iot(2, 0)]))  # now 3 of 4: the class
    clock.advance(60)
    events += alert_events(p.process([]))
    assert [(e.key, e.state) for e in events] == [("iot_class_offline:camera",
                                                   EventState.RAISED)]
    assert events[0].labels["held_back"] == "3"
    clock.advance(30)
    events += alert_events(p.process([iot(0, 1), iot(1, 1), iot(2, 1)]))
    clock.advance(90)
    events += alert_events(p.process([]))
    assert [(e.key, e.state) for e in events[1:]] == [("iot_class_offline:camera",
                                                       EventState.RESOLVED)]


def test_inhibit_names_must_exist(tmp_path: Path) -> None:
    f = tmp_path / "rules.yaml"
    f.write_text("rules:\n  - name: a\n    summary: s\n    condition: {type: event, kinds: [x]}\n"
                 "    inhibits: {rules: [nope]}\n")
    cfg = {"builtin_rules": False, "rule_files": [str(f)]}
    with pytest.raises(ConfigError, match=r"rules\.yaml:2: rule 'a' inhibits unknown rules"):
        processor(INV, FakeClock(), cfg)
