"""Inventory loading: inheritance, CSV import, and every refusal naming file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.core.errors import ConfigError
from inventory.loader import load_inventory
from inventory.models import DeviceKind, RoomKind

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str, name: str = "inv.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


BASE = """\
campus: {code: c1, name: Test campus, students: 1000, staff: 100}
defaults: {credential: v2, owner: NOC, labels: {tier: campus}}
buildings:
  - id: b1
    defaults: {vendor: H3C, labels: {zone: teach}}
    rooms:
      - id: r1
        kind: classroom
        defaults: {owner: Teacher Li}
        devices:
          - id: ap1
            kind: ap
            ipv4: 10.0.0.11
            ipv6: 2001:DB8:0:0::11
            mac: AA-BB-CC-00-00-11
    devices:
      - id: sw1
        kind: access_switch
        ipv4: 10.0.0.2
        vendor: Huawei
"""


def test_example_inventory_loads() -> None:
    inv = load_inventory(REPO / "inventory/examples/campus.yaml")
    assert inv.campus.code == "hn-demo"
    assert inv.device("a-201-att") is not None  # from the CSV import
    assert inv.device("egress-router") is not None
    assert "egress" in inv.device("egress-router").roles  # type: ignore[union-attr]


def test_defaults_inherit_campus_building_room_device(tmp_path: Path) -> None:
    inv = load_inventory(write(tmp_path, BASE))
    ap = inv.device("ap1")
    sw = inv.device("sw1")
    assert ap is not None and sw is not None
    assert (ap.building, ap.room, ap.kind) == ("b1", "r1", DeviceKind.AP)
    assert ap.vendor == "H3C"  # building default
    assert ap.owner == "Teacher Li"  # room default beats campus default
    assert ap.credential == "v2"  # campus default
    assert ap.labels == {"tier": "campus", "zone": "teach"}
    assert ap.ipv6 == "2001:db8::11"  # canonical compressed form
    assert ap.mac == "aa:bb:cc:00:00:11"
    assert sw.vendor == "Huawei"  # the device's own value wins
    assert sw.room is None and sw.owner == "NOC"
    assert inv.rooms[0].kind is RoomKind.CLASSROOM and inv.rooms[0].kind.is_teaching_place
    assert inv.by_mac("AA:BB:CC:00:00:11") is ap


def test_duplicate_ipv6_names_both_places(tmp_path: Path) -> None:
    text = BASE + """      - id: sw2
        kind: access_switch
        ipv6: 2001:db8::11
"""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as ei:
        load_inventory(path)
    msgs = [str(p) for p in ei.value.problems]
    dup = [m for m in msgs if "duplicate address 2001:db8::11" in m]
    assert len(dup) == 2, msgs
    # line 11 holds `- id: ap1`, line 21 holds `- id: sw2`
    assert any(m.startswith(f"{path}:11:") and f"{path}:21" in m for m in dup), dup
    assert any(m.startswith(f"{path}:21:") and f"{path}:11" in m for m in dup), dup


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    text = """\
campus: {code: c1, name: x}
buildings:
  - id: b1
    rooms:
      - {id: r1, kind: classroom}
devices:
  - {id: d1, kind: ap, room: nowhere, ipv4: 10.0.0.1}
  - {id: d1, kind: ap, ipv4: 10.0.0.300}
  - {id: d3, kind: toaster}
  - {id: d4, kind: camera, parent: ghost, mac: zz:zz}
  - {id: d5, kind: camera, ipv6: "fe80::1::2"}
"""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as ei:
        load_inventory(path)
    msgs = "\n".join(str(p) for p in ei.value.problems)
    assert f"{path}:8" in msgs and "malformed IPv4" in msgs
    assert f"{path}:9" in msgs and "kind" in msgs
    assert f"{path}:10" in msgs and "malformed MAC" in msgs
    assert f"{path}:11" in msgs and "malformed IPv6" in msgs


def test_unknown_room_parent_and_duplicate_id(tmp_path: Path) -> None:
    text = """\
campus: {code: c1, name: x}
devices:
  - {id: d1, kind: ap, room: nowhere}
  - {id: d1, kind: camera}
  - {id: d2, kind: camera, parent: ghost}
"""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as ei:
        load_inventory(path)
    msgs = [str(p) for p in ei.value.problems]
    assert any(m.startswith(f"{path}:3:") and "unknown room 'nowhere'" in m for m in msgs)
    assert any(m.startswith(f"{path}:5:") and "unknown parent 'ghost'" in m for m in msgs)
    dups = [m for m in msgs if "duplicate device id d1" in m]
    assert len(dups) == 2 and f"{path}:4" in dups[0]


def test_csv_rows_are_located_and_checked(tmp_path: Path) -> None:
    (tmp_path / "bulk.csv").write_text(
        "id,kind,building,room,ipv4,mac\n"
        "cam1,camera,b1,r1,10.0.1.1,00:11:22:33:44:55\n"
        "cam2,camera,b1,r1,10.0.1.1,00:11:22:33:44:56\n"
        "cam3,blender,b1,r1,10.0.1.3,\n", encoding="utf-8")
    path = write(tmp_path, BASE + "imports:\n  - csv: bulk.csv\n")
    with pytest.raises(ConfigError) as ei:
        load_inventory(path)
    msgs = [str(p) for p in ei.value.problems]
    csv = tmp_path / "bulk.csv"
    assert any(m.startswith(f"{csv.resolve()}:3:") and "duplicate address 10.0.1.1" in m
               for m in msgs), msgs
    assert any(m.startswith(f"{csv.resolve()}:4:") and "kind" in m for m in msgs), msgs


def test_misspelt_key_in_inventory(tmp_path: Path) -> None:
    path = write(tmp_path, "campus: {code: c1, name: x}\ndevices:\n  - {id: d1, knd: ap}\n")
    with pytest.raises(ConfigError) as ei:
        load_inventory(path)
    msgs = [str(p) for p in ei.value.problems]
    assert any(f"{path}:3" in m and "unknown key 'knd'" in m for m in msgs), msgs
