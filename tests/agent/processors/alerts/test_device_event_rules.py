"""The device-event rules (traps and syslog) on events built by the listeners themselves from
real line/trap shapes: each fires on the bad input and resolves on the good one (or by itself);
the login-failure burst needs five in five minutes; a link down off the links is ignored."""

from __future__ import annotations

import time

import pytest

from agent.core.model import Event, EventState, Item
from agent.core.plugin import BuildContext, Target
from agent.shared.listening import Senders
from collectors.snmp_trap.config import SnmpTrapConfig
from collectors.snmp_trap.plugin import build as build_trap
from collectors.syslog.plugin import SyslogConfig
from collectors.syslog.plugin import build as build_syslog
from inventory.models import DeviceKind
from tests.agent.processors.alerts.helpers import FakeClock, alert_events, campus, dev, processor

INV = campus([
    dev("egress-router", DeviceKind.ROUTER, roles=["egress"], building="dc", ipv4="10.0.0.1"),
    dev("core-sw", DeviceKind.CORE_SWITCH, parent="egress-router", building="dc",
        ipv4="10.0.0.2"),
    dev("acc-1", DeviceKind.ACCESS_SWITCH, parent="core-sw", port="GE1/0/1", ipv4="10.0.0.3"),
    dev("ac-1", DeviceKind.WLAN_CONTROLLER, parent="core-sw", port="GE1/0/2", ipv4="10.0.0.4"),
    dev("bastion", DeviceKind.SERVER, parent="core-sw", port="GE1/0/3", ipv4="10.0.0.5"),
])
TARGETS = [Target(id=d.id, device=d, ipv4=d.ipv4) for d in INV.devices]
ADDR = {d.id: d.ipv4 for d in INV.devices}


def _ctx(tmp: str = "/tmp") -> BuildContext:
    from pathlib import Path
    return BuildContext(instance="t/t", inventory=INV, credentials={}, data_dir=Path(tmp),
                        config_dir=Path(tmp))


SYSLOG = build_syslog(SyslogConfig(listen_udp=["127.0.0.1:0"]), _ctx())
SYSLOG.senders = Senders(TARGETS)
TRAPS = build_trap(SnmpTrapConfig(listen=["127.0.0.1:0"]), _ctx())
TRAPS.senders = Senders(TARGETS)


def lines(device: str, *texts: str) -> list[Item]:
    batch = [(t.encode(), str(ADDR[device]), "udp", time.time_ns()) for t in texts]
    return [e for _, e in SYSLOG.process(batch)]


def trap(device: str, oid: tuple[int, ...]) -> list[Item]:
    return [e for _, e in TRAPS._events(str(ADDR[device]), "v2c", oid, (), time.time_ns(),
                                        None)]


HW = "<187>Dec  1 10:00:00 core-sw "
# rule → (bad items, good items (empty: resolves by itself), expected key)
CASES: dict[str, tuple[list[Item], list[Item], str]] = {
    "link_down_reported": (
        lines("core-sw", HW + "%%01IFNET/4/LINK_STATE(l)[1]:The line protocol IP on the "
              "interface GE1/0/1 has entered the DOWN state."),
        lines("core-sw", HW + "%%01IFNET/4/LINK_STATE(l)[2]:The line protocol IP on the "
              "interface GE1/0/1 has entered the UP state."),
        "link_down_reported:core-sw/GE1/0/1"),
    "device_rebooted": (trap("acc-1", (1, 3, 6, 1, 6, 3, 1, 1, 5, 1)), [],
                        "device_rebooted:acc-1"),
    "snmp_authentication_failure": (trap("acc-1", (1, 3, 6, 1, 6, 3, 1, 1, 5, 5)), [],
                                    "snmp_authentication_failure:acc-1"),
    "login_failure_burst": (
        lines("bastion", *[f"<38>Dec  1 10:20:0{i} bastion sshd[42]: Failed password for root "
                           f"from 192.0.2.9 port 5{i} ssh2" for i in range(5)]),
        [], "login_failure_burst:bastion"),
    "device_config_saved": (
        lines("acc-1", "<189>Dec  1 10:00:00 acc-1 %SYS-5-CONFIG_I: Configured from console "
              "by admin on vty0 (192.0.2.10)"),
        [], "device_config_saved:acc-1"),
    "hardware_alarm": (
        lines("core-sw", "<188>15:41:22 09/11/2003 UTC alarm 6 occurred.%ENVIRONMENT% Rack fan"
              " 1 wrong sent by UPC(MPU) 1"),
        [], "hardware_alarm:core-sw"),
    "port_security_violation": (
        lines("acc-1", "<186>Dec  1 10:00:00 acc-1 %PORT_SECURITY-2-PSECURE_VIOLATION: "
              "Security violation occurred, caused by MAC address 0000.1111.2222 on port "
              "GigabitEthernet0/5."),
        [], "port_security_violation:acc-1"),
    "ap_offline_reported": (trap("ac-1", (1, 3, 6, 1, 4, 1, 2011, 6, 139, 13, 1, 1, 1)), [],
                            "ap_offline_reported:ac-1/snmp_trap:ac-1:"
                            "HUAWEI-WLAN-AP-MIB::hwApFaultTrap"),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires_and_resolves(rule: str) -> None:
    bad, good, key = CASES[rule]
    clock = FakeClock()
    p = processor(INV, clock, {"topology": {"settle_secs": 0}}, {}, rule_names=[rule])
    out = alert_events(p.process(bad))
    assert [(e.key, e.state) for e in out] == [(key, EventState.RAISED)], out
    assert "?" not in out[0].summary, out[0].summary
    clock.advance(10)
    if good:
        out = alert_events(p.process(good))
    else:  # a one-off fact: closes after auto_resolve_secs without a repeat
        clock.advance(6 * 3600)
        out = alert_events(p.process([]))
    assert [(e.key, e.state) for e in out] == [(key, EventState.RESOLVED)]


def test_four_failed_logins_are_no_burst() -> None:
    clock = FakeClock()
    p = processor(INV, clock, {}, {}, rule_names=["login_failure_burst"])
    bad = CASES["login_failure_burst"][0]
    for e in bad[:4]:
        assert alert_events(p.process([e])) == []
        clock.advance(100)  # 4 in 400 s; the fifth 100 s later: the first is out of the window
    assert alert_events(p.process(bad[4:])) == []
    assert len(alert_events(p.process(bad[:2]))) == 1  # now 5 within 300 s


def test_link_down_on_an_access_port_is_not_an_uplink() -> None:
    clock = FakeClock()
    p = processor(INV, clock, {}, {}, rule_names=["link_down_reported"])
    ev = lines("acc-1", "<187>Dec  1 10:00:00 acc-1 %LINK-3-UPDOWN: Interface "
               "GigabitEthernet0/17, changed state to down")
    assert isinstance(ev[0], Event) and ev[0].labels["category"] == "link_down"
    assert alert_events(p.process(ev)) == []
    # any port of the egress router counts
    ev = lines("egress-router", "<187>Dec  1 10:00:00 egress-router %LINK-3-UPDOWN: Interface "
               "GigabitEthernet0/0/9, changed state to down")
    assert [e.key for e in alert_events(p.process(ev))] == [
        "link_down_reported:egress-router/GigabitEthernet0/0/9"]


def test_config_saved_is_an_event_kind_of_its_own() -> None:
    kinds = [e.kind for e in CASES["device_config_saved"][0] if isinstance(e, Event)]
    assert kinds == ["syslog", "device_config_saved"]
