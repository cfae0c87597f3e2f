"""`campusmon inventory-csv`: an asset register with Chinese headers into the inventory (sites
added, new devices, a changed fact, a bad row set aside with its file:line), and the inventory
out as CSV that the loader takes back unchanged. No network."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from agent.app.cli import main
from inventory.loader import load_inventory
from inventory.models import Device

INVENTORY = """\
# the admin's campus file
campus: {code: lab, name: Lab campus}
buildings:
  - id: dc   # data centre
    name: Data centre
    rooms:
      - {id: dc-101, kind: machine_room}
  - id: teach-a
    name: Teaching building A
devices:
  - id: nms-1   # the NMS itself
    kind: server
    ipv4: 10.0.0.5
"""

REGISTER = (
    "\ufeff设备名称,设备类型,楼宇,楼宇名称,房间,房间类型,IP地址,MAC地址,品牌,型号,序列号,责任人\n"
    "lib-sw-1,接入交换机,lib,图书馆 Library,lib-101,library,10.9.0.11/24,00-11-22-33-44-55,"
    "Ruijie,S2910-24GT4XS-E,G1NQ7AB,图书馆\n"
    "a-cam-1,摄像机,teach-a,,,,10.9.1.20,,Hikvision,DS-2CD3T46,DS1234,保卫处\n"
    "bad-row,飞船,lib,,,,,,,,,\n"
    "nms-1,server,,,,,10.0.0.6,,,,,\n"
)


def test_asset_register_import_then_csv_export_round_trip(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = tmp_path / "inventory.yaml"
    inv.write_text(INVENTORY, encoding="utf-8")
    reg = tmp_path / "register.csv"
    reg.write_text(REGISTER, encoding="utf-8")

    rc = main(["inventory-csv", "import", str(reg), "-i", str(inv), "--apply"])
    err = capsys.readouterr().err
    assert rc == 1  # one row set aside: the exit says so, the rest went in
    assert f"{reg}:4" in err and "飞船" in err
    text = inv.read_text(encoding="utf-8")
    for comment in ("# the admin's campus file", "# data centre", "# the NMS itself"):
        assert comment in text
    loaded = load_inventory(inv)
    lib = loaded.device("lib-sw-1")
    assert lib is not None
    assert (lib.kind.value, lib.building, lib.room, lib.ipv4, lib.mac, lib.vendor, lib.model,
            lib.owner, lib.labels["serial"]) == (
        "access_switch", "lib", "lib-101", "10.9.0.11", "00:11:22:33:44:55", "Ruijie",
        "S2910-24GT4XS-E", "图书馆", "G1NQ7AB")
    room = loaded.room("lib-101")
    assert room is not None and room.kind.value == "library"
    cam = loaded.device("a-cam-1")
    assert cam is not None and (cam.kind.value, cam.building) == ("camera", "teach-a")
    nms = loaded.device("nms-1")
    assert nms is not None and nms.ipv4 == "10.0.0.6"
    assert loaded.device("bad-row") is None

    # export, then load the CSV back through the inventory's own `imports:`
    out = tmp_path / "export.csv"
    assert main(["inventory-csv", "export", "-i", str(inv), "--out", str(out)]) == 0
    again = tmp_path / "again.yaml"
    again.write_text(
        "campus: {code: lab, name: Lab campus}\nbuildings:\n"
        "  - {id: dc, rooms: [{id: dc-101, kind: machine_room}]}\n  - {id: teach-a}\n"
        "  - {id: lib, rooms: [{id: lib-101, kind: library}]}\nimports:\n"
        "  - csv: export.csv\n", encoding="utf-8")
    back = load_inventory(again)

    def rows(devs: Iterable[Device]) -> set[tuple[object, ...]]:
        return {(d.id, d.kind, d.building, d.room, d.ipv4, d.ipv6, d.mac, d.vendor, d.model,
                 d.owner) for d in devs}

    assert rows(back.devices) == rows(loaded.devices)


def test_register_without_an_id_column_is_refused_by_name(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = tmp_path / "inventory.yaml"
    inv.write_text(INVENTORY, encoding="utf-8")
    reg = tmp_path / "register.csv"
    reg.write_text("colour,weight\nred,3\n", encoding="utf-8")
    assert main(["inventory-csv", "import", str(reg), "-i", str(inv)]) == 2
    assert "--map id=COLUMN" in capsys.readouterr().err


def test_netbox_device_export_maps_as_the_docs_say(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = tmp_path / "inventory.yaml"
    inv.write_text(INVENTORY, encoding="utf-8")
    reg = tmp_path / "netbox.csv"
    reg.write_text(
        "name,status,role,manufacturer,device_type,serial,site,location,rack,primary_ip4,"
        "primary_ip6,tenant\n"
        "core-1,active,Core Switch,Huawei,S12700E-8,2102351,dc,dc-101,R1,10.20.0.1/24,"
        "2001:db8:20::1/64,Network Centre\n", encoding="utf-8")
    rc = main(["inventory-csv", "import", str(reg), "-i", str(inv), "--kind",
               "Core Switch=core_switch", "--apply"])
    assert rc == 0, capsys.readouterr().err
    dev = load_inventory(inv).device("core-1")
    assert dev is not None
    assert (dev.kind.value, dev.building, dev.room, dev.ipv4, dev.ipv6, dev.vendor, dev.model,
            dev.owner, dev.labels["serial"]) == (
        "core_switch", "dc", "dc-101", "10.20.0.1", "2001:db8:20::1", "Huawei", "S12700E-8",
        "Network Centre", "2102351")
