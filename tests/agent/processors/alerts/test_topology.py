"""Topology-aware suppression: one root alert for a dead uplink, nothing for the devices behind
it, everything resolving with it. Parents from the inventory, LLDP and forwarding tables."""

from __future__ import annotations

from collections.abc import Sequence

from agent.core.model import Event, EventState, Item, Metric
from agent.processors.alerts.plugin import AlertsProcessor
from inventory.models import DeviceKind, Inventory
from tests.agent.processors.alerts.helpers import (
    FakeClock,
    alert_events,
    alerts_metric,
    campus,
    dev,
    icmp,
    ifstatus,
    processor,
    raised,
    resolved,
    tags_for,
    uplink_campus,
)

LEAVES = [f"leaf-{i:02d}" for i in range(20)]


def _tick(p: AlertsProcessor, inv: Inventory, clock: FakeClock, down: set[str],
          core_port_up: bool = True) -> list[Event]:
    """One 30 s tick, one submit per device as the pipeline does; leaves report first (the
    worst order: their failures arrive before the switch they hang off)."""
    events = []
    for d in [*LEAVES, "acc-1", "core-sw", "egress-router"]:
        events += alert_events(p.process([icmp(inv, d, d not in down)]))
    events += alert_events(p.process([ifstatus(inv, "core-sw", "GE1/0/1", core_port_up)]))
    clock.advance(30)
    return events


def test_dead_access_switch_with_20_devices_behind_gives_one_root_alert() -> None:
    inv = uplink_campus(20)
    clock = FakeClock()
    p = processor(inv, clock, rule_names=["device_down_icmp", "uplink_down"])
    events = []
    for _ in range(10):  # 5 minutes with acc-1 and everything behind it dead
        events += _tick(p, inv, clock, {"acc-1", *LEAVES})
    assert [(e.key, e.state) for e in events] == [("device_down_icmp:acc-1", EventState.RAISED)]
    assert events[0].labels["held_back"] == "20"
    counts = alerts_metric(_metrics(p))
    assert counts["critical"]["suppressed"] == 20 and counts["critical"]["firing"] == 1
    # the switch comes back with everything behind it: one resolve, nothing for the 20
    for _ in range(4):
        events += _tick(p, inv, clock, set())
    assert [(e.key, e.state) for e in events[1:]] == [
        ("device_down_icmp:acc-1", EventState.RESOLVED)]
    assert p.book.alerts() == []
    assert p.book.resolved_with_root == 20


def test_uplink_port_down_on_core_is_the_root() -> None:
    inv = uplink_campus(20)
    clock = FakeClock()
    p = processor(inv, clock, rule_names=["device_down_icmp", "uplink_down"])
    events = []
    for _ in range(10):
        events += _tick(p, inv, clock, {"acc-1", *LEAVES}, core_port_up=False)
    assert [(e.key, e.state) for e in events] == [("uplink_down:core-sw/GE1/0/1",
                                                   EventState.RAISED)]
    assert events[0].labels["held_back"] == "21"  # acc-1 and the 20 behind it
    for _ in range(4):
        events += _tick(p, inv, clock, set(), core_port_up=True)
    assert [(e.key, e.state) for e in events[1:]] == [
        ("uplink_down:core-sw/GE1/0/1", EventState.RESOLVED)]


def test_a_device_still_down_after_its_root_recovers_is_released() -> None:
    inv = uplink_campus(4)
    clock = FakeClock()
    p = processor(inv, clock, rule_names=["device_down_icmp"])
    leaves = [f"leaf-{i:02d}" for i in range(4)]
    events = []
    for _ in range(6):
        for d in [*leaves, "acc-1"]:
            events += alert_events(p.process([icmp(inv, d, False)]))
        clock.advance(30)
    assert [e.key for e in raised(events)] == ["device_down_icmp:acc-1"]
    for _ in range(6):  # acc-1 is back; leaf-03 is not (its own fault)
        for d in [*leaves, "acc-1"]:
            events += alert_events(p.process([icmp(inv, d, d != "leaf-03")]))
        clock.advance(30)
    assert [(e.key, e.state) for e in events[1:]] == [
        ("device_down_icmp:acc-1", EventState.RESOLVED),
        ("device_down_icmp:leaf-03", EventState.RAISED)]
    assert events[-1].labels["notify_reason"] == "new"


def test_parents_learned_from_lldp_and_fdb() -> None:
    """No parents in the inventory: LLDP links the switches, the FDB places the hosts (on the
    access port with fewest MACs, not the core's trunk that sees them all)."""
    inv = campus([
        dev("core-sw", DeviceKind.CORE_SWITCH, building="dc"),
        dev("acc-1", DeviceKind.ACCESS_SWITCH),
        dev("cam-1", DeviceKind.CAMERA, mac="44:19:b6:00:00:01"),
        dev("cam-2", DeviceKind.CAMERA, mac="44:19:b6:00:00:02"),
    ])
    clock = FakeClock()
    p = processor(inv, clock, {"overrides": {"device_down_icmp": {"for_secs": 0}}},
                  rule_names=["device_down_icmp"])
    facts = [
        Metric("snmp_lldp_neighbor", {**tags_for(inv, "core-sw"), "local_port": "GE1/0/1",
                                      "remote_chassis": "00:e0:fc:00:00:99",
                                      "remote_port": "GE0/0/48", "remote_sys_name": "ACC-1"},
               {"present": 1}),
    ]
    for mac, port in (("44:19:b6:00:00:01", "GE0/0/1"), ("44:19:b6:00:00:02", "GE0/0/2")):
        facts.append(Metric("snmp_fdb", {**tags_for(inv, "acc-1"), "mac": mac, "port": port,
                                         "vlan": "10"}, {"present": 1}))
        facts.append(Metric("snmp_fdb", {**tags_for(inv, "core-sw"), "mac": mac,
                                         "port": "GE1/0/1", "vlan": "10"}, {"present": 1}))
    p.process(facts)
    assert p.topology is not None
    assert [(link.parent, link.port) for link in p.topology.ancestors("cam-2")] == [
        ("acc-1", "GE0/0/2"), ("core-sw", "GE1/0/1")]
    events = []
    for d in ("cam-1", "cam-2", "acc-1"):
        events += alert_events(p.process([icmp(inv, d, False)]))
    clock.advance(31)  # past the settle time
    events += alert_events(p.process([]))
    assert [e.key for e in raised(events)] == ["device_down_icmp:acc-1"]
    for d in ("cam-1", "cam-2", "acc-1"):
        events += alert_events(p.process([icmp(inv, d, True)]))
    assert [e.key for e in resolved(events)] == ["device_down_icmp:acc-1"]


def _metrics(p: AlertsProcessor) -> Sequence[Item]:
    p._next_metrics = 0
    return p.process([])
