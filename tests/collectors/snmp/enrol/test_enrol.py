"""`campusmon enrol` and the `enrolment` plugin against the lab: one snmpsim per loopback
address, each answering only its own credential, silent addresses around them, a wrong
credential set first in the list. No mocks."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.app.cli import main
from agent.core.model import Event, EventState, Metric
from agent.core.plugin import BuildContext, Target
from collectors.snmp.enrol.config import EnrolConfig
from collectors.snmp.enrol.plugin import build
from collectors.snmp.enrol.run import enrol
from collectors.snmp.sim.plan import Device
from config.loader import load_config
from tests.collectors.snmp.conftest import Snmpd
from tests.collectors.snmp.enrol.lab import V3_AUTH, V3_DEVICE, V3_PRIV, Lab, community

HAND_WRITTEN = """\
# Enrolment lab campus: this header is the admin's own
campus:
  code: lab
  name: Enrolment lab
buildings:
  - id: dc   # the data centre keeps its comment
    name: Data centre
    rooms:
      - id: dc-101
        kind: machine_room
  - id: teach-a
    name: Teaching building A
devices:
  # the admin's server: not SNMP-managed, outside the lab prefix
  - id: nms-1
    kind: server
    ipv4: 10.0.0.5
    owner: 网络中心   # hand-written owner
"""


def _campus(tmp_path: Path, lab: Lab, **enrol_opts: Any) -> Path:
    (tmp_path / "inventory.yaml").write_text(HAND_WRITTEN, encoding="utf-8")
    opts = {"type": "enrolment", "interval_secs": 3600, "timeout_secs": 200,
            "subnets": [lab.prefix], "port": lab.port, "request_timeout_secs": 0.5,
            "rate_per_sec": 200, "deadline_secs": 150, **enrol_opts}
    cfg = {"agent": {"inventory": "inventory.yaml", "data_dir": "data"},
           "credentials": lab.credentials(), "inputs": [opts]}
    path = tmp_path / "agent.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


def _secrets(lab: Lab) -> list[str]:
    return [V3_AUTH, V3_PRIV, "not-the-key-1", "not-the-key-2", "public-wrong-xyz",
            *(community(d.id) for d in lab.plan.devices)]


def _run(cfg: Path, lab: Lab, tmp_path: Path, name: str, *extra: str,
         capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], str, str]:
    out, js = tmp_path / f"{name}.yaml", tmp_path / f"{name}.json"
    rc = main(["enrol", lab.prefix, "--config", str(cfg), "--out", str(out), "--json", str(js),
               *extra])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    return json.loads(js.read_text()), out.read_text(encoding="utf-8"), captured.err


def _expected_credential(d: Device) -> str:
    return "lab-v3" if d.id == V3_DEVICE else f"lab-{d.id}"


def test_enrol_finds_exactly_the_lab_then_applies_and_converges(
        lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _campus(tmp_path, lab)
    report, proposed, err = _run(cfg, lab, tmp_path, "first", capsys=capsys)

    # exactly the devices: six responders, the eight other addresses silent
    plan = {d.id: d for d in lab.plan.devices}
    new = {n["id"]: n for n in report["new"]}
    assert set(new) == set(plan)
    assert len(report["scan"]["silent"]) == 14 - len(plan)
    assert {d.vendor.name for d in plan.values()} >= {"Huawei", "ZTE", "H3C", "APC"}
    for dev_id, d in plan.items():
        n = new[dev_id]
        assert n["vendor"] == d.vendor.name, dev_id
        assert n["kind"] == d.kind.value, dev_id
        assert n["model"] == d.vendor.model, dev_id
        assert n["labels.serial"] == d.serial, dev_id
        assert n["credential"] == _expected_credential(d), dev_id
        assert n["ipv4"] == d.ipv4
        # parents from LLDP; the UPS, which has no LLDP, from the core's FDB
        if d.parent:
            assert (n.get("parent"), n.get("parent_port")) == (d.parent, d.parent_port), dev_id
    # the wrong sets were tried first, and the evidence says so
    assert "lab-v3-wrong: auth" in " ".join(new[V3_DEVICE]["evidence"])
    assert any("FDB learns" in x for x in new["ups-1"]["evidence"])
    # placement from sysLocation "dc/dc-101" and "teach-a/"
    assert (new["core-sw"]["building"], new["core-sw"]["room"]) == ("dc", "dc-101")
    assert (new["teach-a-sw-1"]["building"], new["teach-a-sw-1"]["room"]) == ("teach-a", None)

    # traffic only to the lab's prefix
    net = ipaddress.ip_network(lab.prefix)
    assert report["scan"]["contacted"]
    assert all(ipaddress.ip_address(a) in net for a in report["scan"]["contacted"])

    # the proposal is an inventory the loader accepts, keeping the admin's fields
    out = tmp_path / "first.yaml"
    assert main(["inventory", "validate", "-i", str(out)]) == 0
    assert "owner: 网络中心   # hand-written owner" in proposed
    assert "enrol: NEW" in proposed  # the evidence, as comments
    # never a secret: devices name their credential set
    text = proposed + json.dumps(report) + err + capsys.readouterr().out
    for secret in _secrets(lab):
        assert secret not in text

    # --apply merges into the inventory, comments and order kept
    _run(cfg, lab, tmp_path, "apply", "--apply", capsys=capsys)
    applied = (tmp_path / "inventory.yaml").read_text(encoding="utf-8")
    for line in HAND_WRITTEN.splitlines():
        if "#" in line:
            assert line in applied
    marks = ["id: dc   #", "id: dc-101", "id: teach-a", "id: nms-1"]
    assert [applied.index(m) for m in marks] == sorted(applied.index(m) for m in marks)
    assert applied.index("id: dc-101") < applied.index("id: ups-1")  # placed in its room
    assert "enrol:" not in applied  # the evidence comments stay in the proposal
    assert main(["inventory", "validate", "--config", str(cfg)]) == 0

    # a second run on the unchanged lab proposes nothing
    again, _, err = _run(cfg, lab, tmp_path, "second", capsys=capsys)
    assert (again["new"], again["changes"], again["not_seen"], again["conflicts"]) == (
        [], [], [], [])
    assert "nothing to propose" in err

    # a changed serial is proposed as a change of that one fact
    old = lab.devices["teach-a-sw-2"].serial
    try:
        lab.stop("teach-a-sw-2")
        lab.record("teach-a-sw-2", serial="H3NEWSERIAL9")
        lab.start("teach-a-sw-2")
        changed, proposed, _ = _run(cfg, lab, tmp_path, "changed", capsys=capsys)
        assert changed["new"] == [] and changed["not_seen"] == []
        assert [(c["device"], c["field"], c["old"], c["new"]) for c in changed["changes"]] == [
            ("teach-a-sw-2", "labels.serial", old, "H3NEWSERIAL9")]
        assert "enrol: labels.serial was " + old in proposed
    finally:
        lab.stop("teach-a-sw-2")
        lab.record("teach-a-sw-2", serial=old)
        lab.start("teach-a-sw-2")


def test_crawl_from_a_seed_stays_within_the_allowed_prefix(lab: Lab) -> None:
    from pydantic import TypeAdapter

    from config.credentials import Credential
    from inventory.models import Inventory

    creds = {c["name"]: TypeAdapter(Credential).validate_python(c) for c in lab.credentials()}
    core = next(d for d in lab.plan.devices if d.id == "core-sw")
    cfg = EnrolConfig(port=lab.port, allow=[lab.prefix], request_timeout_secs=0.5,
                      rate_per_sec=200, icmp=False)
    scan, _ = asyncio.run(enrol(cfg, creds, Inventory.empty("lab"), [f"{core.ipv4}/32"]))
    found = {f.sys_name: f.via for f in scan.found}
    # the core's LLDP neighbours (router, access switches) are reached; the UPS, which no
    # LLDP table names, is not
    linked = {"core-sw", "egress-router", "teach-a-sw-1", "teach-a-sw-2", "teach-a-sw-3"}
    assert set(found) == linked
    assert found["teach-a-sw-1"] == "lldp from core-sw"
    addresses = {d.ipv4 for d in lab.plan.devices if d.id in linked}
    assert scan.contacted == addresses


def test_the_scan_is_bounded_in_time(lab: Lab) -> None:
    from pydantic import TypeAdapter

    from config.credentials import Credential
    from inventory.models import Inventory

    creds = {c["name"]: TypeAdapter(Credential).validate_python(c) for c in lab.credentials()}
    cfg = EnrolConfig(port=lab.port, request_timeout_secs=0.5, rate_per_sec=4, icmp=False,
                      deadline_secs=1.0)
    scan, _ = asyncio.run(enrol(cfg, creds, Inventory.empty("lab"), [lab.prefix]))
    # at 4 requests/s a 1 s deadline leaves most of the /28 unscanned, and says so
    assert scan.not_scanned
    assert scan.requests <= 6
    assert any("deadline" in n for n in scan.notes)


def test_scheduled_plugin_raises_an_event_for_a_device_added_between_runs(
        lab: Lab, tmp_path: Path) -> None:
    from agent.app.builtins import builtin_registry

    cfg_path = _campus(tmp_path, lab)
    loaded = load_config(cfg_path, builtin_registry())
    instance = next(i for i in loaded.inputs if i.spec.name == "enrolment")
    ctx = BuildContext(instance="enrolment/enrolment", inventory=loaded.inventory,
                       credentials=loaded.credentials, data_dir=tmp_path, config_dir=tmp_path)
    assert isinstance(instance.config, EnrolConfig)
    poller = build(instance.config, ctx)
    target = Target(id="agent")
    added = "teach-a-sw-3"
    lab.stop(added)
    try:
        first = asyncio.run(poller.poll(target))
        lab.start(added)
        second = asyncio.run(poller.poll(target))
    finally:
        lab.start(added)

    def raised(items: Any) -> list[Event]:
        return [i for i in items if isinstance(i, Event) and i.kind == "unregistered_device"
                and i.state is EventState.RAISED]

    # each run raises one per managed device the inventory lacks; the switch plugged in
    # between the runs is new in the second
    serial = lab.devices[added].serial
    before = {e.key for e in raised(first)}
    after = {e.key: e for e in raised(second)}
    assert len(before) == len(lab.plan.devices) - 1
    assert set(after) - before == {f"enrol:unregistered:{serial}"}
    event = after[f"enrol:unregistered:{serial}"]
    assert event.labels["serial"] == serial and event.labels["source"] == "enrolment"

    # it feeds the existing unregistered-device alert rule
    from tests.agent.processors.alerts.helpers import FakeClock, alert_events, processor

    alerts = processor(loaded.inventory, FakeClock(), rule_names=["unregistered_device"])
    fired = alert_events(alerts.process([event]))
    assert [(a.key, a.state) for a in fired] == [
        (f"unregistered_device:enrol:unregistered:{serial}", EventState.RAISED)]
    scans = [i for i in second if isinstance(i, Metric) and i.name == "enrolment_scan"]
    assert scans and scans[0].fields["new_devices"] == len(lab.plan.devices)


def test_ipv6_prefix_sweep_finds_net_snmp_over_v3(snmpd: Snmpd) -> None:
    """An IPv6 prefix (::1/128, net-snmp on [::1]): the wrong SNMPv3 user first, then the
    right one; the mgmt address is the IPv6 one it answered on."""
    from pydantic import TypeAdapter

    from config.credentials import Credential
    from inventory.models import Inventory

    u = next(x for x in snmpd.users if x.user == "shaaes")
    sets = [{"name": "wrong", "type": "snmp_v3", "user": "intruder", "auth_protocol": "SHA",
             "auth_key": "not-the-key-1"},
            {"name": "campus-v3", "type": "snmp_v3", "user": u.user,
             "auth_protocol": u.auth_protocol, "auth_key": u.auth_key,
             "priv_protocol": u.priv_protocol, "priv_key": u.priv_key}]
    creds = {c["name"]: TypeAdapter(Credential).validate_python(c) for c in sets}
    cfg = EnrolConfig(port=snmpd.port, request_timeout_secs=1.0)
    scan, proposal = asyncio.run(enrol(cfg, creds, Inventory.empty("lab"), ["::1/128"]))
    assert scan.contacted == {"::1"}
    assert [(f.address, f.credential, f.sys_name) for f in scan.found] == [
        ("::1", "campus-v3", "campus-test-core")]
    assert [a.outcome for a in scan.found[0].attempts] == ["auth", "answered"]
    assert proposal.new[0].facts()["ipv6"] == "::1"


def test_not_seen_and_vanished_after_enrolment(
        lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The lab enrolled (--apply), then the UPS unplugged: the CLI lists it as not seen with
    the evidence; the plugin raises managed_device_vanished, resolved when it is back."""
    from agent.app.builtins import builtin_registry

    cfg = _campus(tmp_path, lab)
    _run(cfg, lab, tmp_path, "apply", "--apply", capsys=capsys)
    loaded = load_config(cfg, builtin_registry())
    instance = next(i for i in loaded.inputs if i.spec.name == "enrolment")
    assert isinstance(instance.config, EnrolConfig)
    poller = build(instance.config, BuildContext(
        instance="enrolment/enrolment", inventory=loaded.inventory,
        credentials=loaded.credentials, data_dir=tmp_path, config_dir=tmp_path))
    target = Target(id="agent")
    ups = lab.devices["ups-1"].device
    try:
        seen = asyncio.run(poller.poll(target))
        lab.stop("ups-1")
        report, _, _ = _run(cfg, lab, tmp_path, "gone", capsys=capsys)
        gone = asyncio.run(poller.poll(target))
    finally:
        lab.start("ups-1")
    back = asyncio.run(poller.poll(target))
    assert [(n["device"], n["address"]) for n in report["not_seen"]] == [("ups-1", ups.ipv4)]
    assert "no answer to ICMP or SNMP" in report["not_seen"][0]["evidence"] or (
        "answers ICMP echo" in report["not_seen"][0]["evidence"])
    assert report["new"] == [] and report["changes"] == []

    def vanished(items: Any) -> list[tuple[str | None, EventState]]:
        return [(i.device, i.state) for i in items
                if isinstance(i, Event) and i.kind == "managed_device_vanished"]

    assert vanished(seen) == []
    assert vanished(gone) == [("ups-1", EventState.RAISED)]
    assert vanished(back) == [("ups-1", EventState.RESOLVED)]
