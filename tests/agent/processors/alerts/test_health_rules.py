"""The device-health rules on samples shaped like the snmp health measurements (the catalogue in
collectors/snmp/profiles/measurements.py): each fires on the bad reading and resolves on the
good one; a rule naming a field the catalogue does not declare fails here."""

from __future__ import annotations

import pytest

from agent.core.model import EventState, Item, Metric
from agent.processors.alerts.rules import builtin_rules
from collectors.snmp.profiles.measurements import HEALTH_MEASUREMENTS
from inventory.models import DeviceKind
from tests.agent.processors.alerts.helpers import (
    FakeClock,
    alert_events,
    campus,
    dev,
    processor,
    tags_for,
)

INV = campus([
    dev("core-sw", DeviceKind.CORE_SWITCH, roles=["core"], building="dc"),
    dev("acc-1", DeviceKind.ACCESS_SWITCH, parent="core-sw", port="GE1/0/1"),
    dev("ups-1", DeviceKind.UPS, parent="core-sw", port="GE1/0/9", building="dc"),
])


def m(name: str, device: str, tags: dict[str, str], fields: dict[str, float | int]) -> Metric:
    return Metric(name, {**tags_for(INV, device), **tags}, fields)


def _pair(name: str, device: str, tags: dict[str, str], bad: dict[str, float | int],
          good: dict[str, float | int], key: str) -> tuple[list[Item], list[Item], str]:
    return [m(name, device, tags, bad)], [m(name, device, tags, good)], key


BOARD = {"component": "MPU Board 0"}
HOT = {"type": "temperature", "sensor": "MPU Board 0"}
# rule → (bad items, good items, expected key)
HEALTH_RULE_CASES: dict[str, tuple[list[Item], list[Item], str]] = {
    "cpu_high": _pair("snmp_cpu", "core-sw", BOARD, {"usage_percent": 97.0},
                      {"usage_percent": 20.0}, "cpu_high:core-sw/MPU Board 0"),
    "memory_high": _pair("snmp_memory", "core-sw", BOARD, {"used_percent": 93.0},
                         {"used_percent": 40.0}, "memory_high:core-sw/MPU Board 0"),
    "temperature_over_threshold": _pair(
        "snmp_sensor", "core-sw", HOT,
        {"value": 61.0, "high_threshold": 57.0, "over_threshold": 1},
        {"value": 42.0, "high_threshold": 57.0, "over_threshold": 0},
        "temperature_over_threshold:core-sw/MPU Board 0"),
    "temperature_high": _pair("snmp_sensor", "core-sw", HOT, {"value": 75.0},
                              {"value": 45.0}, "temperature_high:core-sw/MPU Board 0"),
    "fan_failed": _pair("snmp_sensor", "acc-1", {"type": "fan", "sensor": "FAN 1"},
                        {"status": 3}, {"status": 1}, "fan_failed:acc-1/FAN 1"),
    "psu_failed": _pair("snmp_sensor", "acc-1", {"type": "power_supply", "sensor": "PWR 1"},
                        {"status": 3}, {"status": 1}, "psu_failed:acc-1/PWR 1"),
    "optical_power_out_of_range": _pair(
        "snmp_optical", "core-sw", {"port": "XGE0/0/1"},
        {"rx_power_dbm": -20.0, "rx_power_low_dbm": -12.7, "out_of_range": 1},
        {"rx_power_dbm": -3.0, "rx_power_low_dbm": -12.7, "out_of_range": 0},
        "optical_power_out_of_range:core-sw/XGE0/0/1"),
    "poe_budget_near_exhaustion": _pair(
        "snmp_poe", "acc-1", {"pse": "1"}, {"used_percent": 95.0}, {"used_percent": 30.0},
        "poe_budget_near_exhaustion:acc-1/1"),
    "ups_on_battery": _pair("snmp_ups", "ups-1", {}, {"on_battery": 1}, {"on_battery": 0},
                            "ups_on_battery:ups-1"),
    "ups_battery_low": _pair("snmp_ups", "ups-1", {}, {"battery_charge_percent": 20.0},
                             {"battery_charge_percent": 95.0}, "ups_battery_low:ups-1"),
    "stp_topology_changing": _pair(
        "snmp_stp", "acc-1", {},
        {"topology_changes": 40, "time_since_topology_change_seconds": 12.0},
        {"topology_changes": 40, "time_since_topology_change_seconds": 3600.0},
        "stp_topology_changing:acc-1"),
    "port_errors_high": _pair(
        "snmp_port_errors", "acc-1", {"ifindex": "3", "ifname": "GE0/0/3"},
        {"in_error_ratio_percent": 4.0}, {"in_error_ratio_percent": 0.0},
        "port_errors_high:acc-1/GE0/0/3"),
}


@pytest.mark.parametrize("rule", sorted(HEALTH_RULE_CASES))
def test_health_rule_fires_and_resolves(rule: str) -> None:
    bad, good, key = HEALTH_RULE_CASES[rule]
    clock = FakeClock()
    p = processor(INV, clock, {"overrides": {rule: {"for_secs": 0}},
                               "topology": {"settle_secs": 0}}, rule_names=[rule])
    out = alert_events(p.process(bad))
    assert [(e.key, e.state) for e in out] == [(key, EventState.RAISED)], out
    assert "?" not in out[0].summary and "{" not in out[0].summary, out[0].summary
    clock.advance(10)
    out = alert_events(p.process(good))
    assert [(e.key, e.state) for e in out] == [(key, EventState.RESOLVED)]


def test_health_rules_read_declared_fields_only() -> None:
    declared = {m.name: m for m in HEALTH_MEASUREMENTS}
    for rule in builtin_rules():
        cond = rule.condition
        metric = getattr(cond, "metric", "")
        if metric not in declared:
            continue
        for f in getattr(cond, "fields", []):
            assert declared[metric].field(f) is not None, (rule.name, f)
        for t in [*getattr(cond, "by", []), *getattr(cond, "tags", {})]:
            assert t == "device" or t in declared[metric].tag_names(), (rule.name, t)
