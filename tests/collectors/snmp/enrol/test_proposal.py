"""The proposal without a network: matching, conflicts, placement (scan results built by hand)."""

from __future__ import annotations

from collectors.snmp.enrol.proposal import propose
from collectors.snmp.enrol.scan import Attempt, Found, ScanResult
from inventory.models import Building, Campus, Device, DeviceKind, Inventory, Room, RoomKind

PATTERNS = (r"^(?P<building>[\w-]+)/(?P<room>[\w-]*)$",)


def _found(address: str, name: str, serial: str, **kw: object) -> Found:
    fields: dict[str, object] = {"model": "S5720", **kw}
    return Found(address=address, port=161, credential="v2", attempts=(Attempt("v2",
                 "answered"),), via="sweep", sys_name=name, vendor="Huawei",
                 detected="switch", kind_rule="huawei-s-series", serial=serial,
                 **fields)  # type: ignore[arg-type]


def _inventory(*devices: Device) -> Inventory:
    return Inventory.build(Campus("c", "c"), [Building("b1", "B1")],
                           [Room("r1", "R1", RoomKind.LAB, "b1")], devices)


def test_two_responders_claiming_one_address_are_a_conflict_not_a_proposal() -> None:
    scan = ScanResult(found=[_found("10.0.0.1", "sw-a", "S1", ipv4=("10.0.0.9",)),
                             _found("10.0.0.2", "sw-b", "S2", ipv4=("10.0.0.9",))])
    p = propose(scan, _inventory(), PATTERNS)
    assert [(c.subject, c.devices) for c in p.conflicts] == [("10.0.0.9", ("sw-a", "sw-b"))]
    assert p.new == []


def test_serial_and_address_pointing_at_different_devices_is_a_conflict() -> None:
    a = Device("sw-a", DeviceKind.ACCESS_SWITCH, "c", "b1", None, ipv4="10.0.0.1",
               labels={"serial": "S9"})
    b = Device("sw-b", DeviceKind.ACCESS_SWITCH, "c", "b1", None, ipv4="10.0.0.2")
    scan = ScanResult(found=[_found("10.0.0.2", "sw-b", "S9")])
    p = propose(scan, _inventory(a, b), PATTERNS)
    assert len(p.conflicts) == 1 and p.conflicts[0].devices == ("sw-a", "sw-b")
    assert "serial S9 → sw-a" in p.conflicts[0].evidence
    assert p.changes == [] and p.new == []


def test_placement_uses_only_rooms_and_buildings_the_inventory_has() -> None:
    scan = ScanResult(found=[_found("10.0.0.1", "in-room", "S1", location="b1/r1"),
                             _found("10.0.0.2", "unknown-b", "S2", location="zz/r9")])
    p = propose(scan, _inventory(), PATTERNS)
    placed = {e.id: (e.building, e.room) for e in p.new}
    assert placed == {"in-room": ("b1", "r1"), "unknown-b": (None, None)}
    assert any("names no building/room" in x for x in p.new[1].evidence)


def test_a_line_break_from_a_device_never_becomes_an_inventory_key() -> None:
    import yaml

    from collectors.snmp.enrol.client import merge
    from collectors.snmp.enrol.scan import clean

    assert clean("S1\nroles: [egress]\x00") == "S1 roles: [egress]"
    # even unsanitised text (a future caller) stays inside its value and its comment
    scan = ScanResult(found=[_found("10.0.0.1", "sw-x", "S1\nroles: [egress]",
                                    model="M1\n  owner: mallory", location="b1/r1")])
    p = propose(scan, _inventory(), PATTERNS)
    text = merge("campus: {code: c, name: c}\nbuildings:\n  - id: b1\n    rooms:\n"
                 "      - {id: r1, kind: lab}\n", p, annotate=True).text
    doc = yaml.safe_load(text)
    dev = doc["buildings"][0]["rooms"][0]["devices"][0]
    assert "roles" not in dev and "owner" not in dev
    assert dev["labels"]["serial"] == "S1\nroles: [egress]"
    assert dev["model"] == "M1\n  owner: mallory"
