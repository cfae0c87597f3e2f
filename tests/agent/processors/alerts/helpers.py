"""Shared builders for alert tests: a small campus inventory, a fake clock, a processor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent.core.model import Event, EventState, Item, Metric
from agent.processors.alerts.conditions import EvalContext
from agent.processors.alerts.plugin import AlertsConfig, AlertsProcessor, load_rules
from config.credentials import Credential
from inventory.models import Campus, Device, DeviceKind, Inventory

SEC = 10**9
T0 = 1_800_000_000 * SEC  # a fixed start; tests move the clock by hand


@dataclass
class FakeClock:
    now_ns: int = T0

    def __call__(self) -> int:
        return self.now_ns

    def advance(self, secs: float) -> None:
        self.now_ns += int(secs * SEC)


def dev(id_: str, kind: DeviceKind, *, parent: str | None = None, port: str | None = None,
        roles: Sequence[str] = (), building: str = "teach-a", credential: str | None = None,
        mac: str | None = None, ipv4: str | None = None) -> Device:
    return Device(id=id_, kind=kind, campus="hn-demo", building=building, room=f"{building}-101",
                  parent=parent, parent_port=port, roles=frozenset(roles), credential=credential,
                  mac=mac, ipv4=ipv4, vendor="Huawei")


def campus(devices: Sequence[Device]) -> Inventory:
    return Inventory.build(Campus("hn-demo", "demo"), (), (), devices)


def uplink_campus(n_behind: int = 20) -> Inventory:
    """egress-router → core-sw (GE1/0/1) → acc-1 → n APs and cameras."""
    devices = [
        dev("egress-router", DeviceKind.ROUTER, roles=["egress"], building="dc"),
        dev("core-sw", DeviceKind.CORE_SWITCH, parent="egress-router", roles=["uplink"],
            building="dc"),
        dev("acc-1", DeviceKind.ACCESS_SWITCH, parent="core-sw", port="GE1/0/1"),
    ]
    for i in range(n_behind):
        kind = DeviceKind.AP if i % 2 == 0 else DeviceKind.CAMERA
        devices.append(dev(f"leaf-{i:02d}", kind, parent="acc-1", port=f"GE0/0/{i + 1}"))
    return campus(devices)


def processor(inv: Inventory, clock: FakeClock, cfg: Mapping[str, Any] | None = None,
              credentials: Mapping[str, Credential] | None = None,
              rule_names: Sequence[str] | None = None) -> AlertsProcessor:
    conf = AlertsConfig.model_validate(dict(cfg or {}))
    rules = load_rules(conf, config_dir=__import__("pathlib").Path("."))
    if rule_names is not None:
        rules = [r for r in rules if r.name in rule_names]
    return AlertsProcessor(rules, conf, EvalContext(inv, credentials or {}), clock)


def tags_for(inv: Inventory, device: str) -> dict[str, str]:
    d = inv.device(device)
    assert d is not None
    return d.tags()


def icmp(inv: Inventory, device: str, ok: bool, family: str = "ipv4") -> Metric:
    return Metric("probe_icmp", {**tags_for(inv, device), "family": family,
                                 "address": "10.0.0.1"},
                  {"success": 1 if ok else 0, "duration_seconds": 0.01})


def ifstatus(inv: Inventory, device: str, ifname: str, up: bool) -> Metric:
    return Metric("snmp_interface", {**tags_for(inv, device), "ifindex": "1", "ifname": ifname,
                                     "ifalias": "to acc-1"},
                  {"oper_status": 1 if up else 2, "admin_status": 1})


def alert_events(items: Sequence[Item]) -> list[Event]:
    return [i for i in items if isinstance(i, Event) and "alertname" in i.labels]


def raised(events: Sequence[Event]) -> list[Event]:
    return [e for e in events if e.state is EventState.RAISED]


def resolved(events: Sequence[Event]) -> list[Event]:
    return [e for e in events if e.state is EventState.RESOLVED]


def alerts_metric(items: Sequence[Item]) -> dict[str, dict[str, Any]]:
    return {m.tags["severity"]: dict(m.fields) for m in items
            if isinstance(m, Metric) and m.name == "alerts"}
