"""Write a campus inventory (the project's YAML format) with N IoT devices of each class.

5G CPEs and Wi-Fi survey sensors sit in teaching places (classrooms, labs, library, hall): one
per room where possible, so coverage audits can read 5G and Wi-Fi per room. Everything is
derived from `seed`: the same arguments write the same file.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import yaml

from collectors.mqtt.classes import CLASSES, WIFI_SURVEY_ROLE, IotClass

# (id, name, [(room id suffix, name, kind, floor)])
_BUILDINGS: list[tuple[str, str, list[tuple[str, str, str]]]] = [
    ("teach-a", "教学楼A Teaching building A", [
        ("101", "多媒体教室", "classroom"), ("102", "多媒体教室", "classroom"),
        ("201", "实训室 Lab", "lab"), ("202", "实训室 Lab", "lab"),
        ("301", "多媒体教室", "classroom"), ("1f", "一楼走廊 Corridor", "corridor")]),
    ("train-b", "实训楼B Training building B", [
        ("101", "数控实训室 CNC lab", "lab"), ("102", "电工实训室 Electrical lab", "lab"),
        ("201", "智慧教室 Smart classroom", "classroom"), ("hall", "报告厅 Hall", "hall"),
        ("1f", "一楼大厅 Lobby", "corridor")]),
    ("lib", "图书馆 Library", [
        ("101", "阅览室 Reading room", "library"), ("201", "自习室 Study room", "library"),
        ("gate", "门禁大厅 Entrance", "corridor")]),
    ("dorm-1", "学生宿舍1 Dormitory 1", [
        ("gate", "宿舍门厅 Entrance", "corridor"), ("101", "宿舍 Dorm room", "dorm")]),
    ("canteen", "食堂 Canteen", [("hall", "就餐大厅 Dining hall", "canteen")]),
]

def default_heartbeats(base_s: float) -> dict[IotClass, float]:
    """Simulated heartbeats: `base_s` for most classes, twice that for the slower ones."""
    return {c: base_s * (2 if r.sim.slow else 1) for c, r in CLASSES.items()}


def _template_buildings() -> list[dict[str, Any]]:
    buildings = []
    for bid, bname, rlist in _BUILDINGS:
        rooms = []
        for suffix, rname, kind in rlist:
            room: dict[str, Any] = {"id": f"{bid}-{suffix}", "name": rname, "kind": kind}
            if suffix[0].isdigit():
                room["floor"] = int(suffix[0])
            rooms.append(room)
        buildings.append({"id": bid, "name": bname, "rooms": rooms})
    return buildings


def _base_doc(base: Path, out_dir: Path) -> tuple[dict[str, Any], set[str]]:
    """An existing inventory to add the fleet to: its YAML and the device ids already taken.
    Its CSV imports are copied beside the combined file (the loader reads imports only from
    the inventory's own folder), so the combined file can live anywhere."""
    from inventory.loader import load_inventory  # the loader validates the base as a whole

    taken = {d.id for d in load_inventory(base.resolve()).devices}
    doc = yaml.safe_load(base.read_text(encoding="utf-8"))
    for i, imp in enumerate(doc.get("imports") or []):
        source = (base.resolve().parent / imp["csv"]).resolve()
        copy = out_dir / f"base-import-{i}-{source.name}"
        if copy.resolve() != source:
            out_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy)
        imp["csv"] = copy.name
    return doc, taken


def generate_inventory(path: str | Path, *, per_class: int = 3, campus: str = "hn-iot-sim",
                       campus_name: str = "湖南某职业技术学院 IoT (simulated)",
                       heartbeat_secs: float = 5.0, seed: int = 1, subnet: str = "10.60",
                       base: str | Path | None = None, ipv6_share: float = 0.5) -> Path:
    """Write the inventory; return its path. Heartbeats go to each device as a label.

    With `base` (an inventory YAML, e.g. the simulated SNMP campus) the fleet is added to its
    rooms — 5G CPEs and Wi-Fi sensors beside the APs, so coverage audits see both — and the
    base's campus code is kept. `ipv6_share` of the devices get an IPv6 address (the IoT IPv6
    audit has something to count)."""
    if per_class < 1 or per_class > 200:
        raise ValueError("per_class must be 1..200")
    rng = random.Random(seed)
    beats = default_heartbeats(heartbeat_secs)
    taken: set[str] = set()
    if base is not None:
        doc, taken = _base_doc(Path(base), Path(path).parent)
        doc.setdefault("buildings", [])
    else:
        doc = {
            "campus": {"code": campus, "name": campus_name, "students": 12000, "staff": 800,
                       "province": "Hunan"},
            "defaults": {"owner": "网络中心 Network Centre"},
            "buildings": [],
        }
    if not any(b.get("rooms") for b in doc["buildings"]):
        doc["buildings"].extend(_template_buildings())
    rooms: dict[str, dict[str, Any]] = {}
    for b in doc["buildings"]:
        for r in b.get("rooms") or []:
            rooms[r["id"]] = r
    host = 10
    for cls in IotClass:
        spec = CLASSES[cls].sim
        kinds, vendors = spec.room_kinds, spec.vendors
        # fill rooms round-robin in a seeded order: 5G/Wi-Fi get one per room first
        order = [rid for rid, r in rooms.items() if r.get("kind") in kinds] or list(rooms)
        rng.shuffle(order)
        for i in range(per_class):
            room = rooms[order[i % len(order)]]
            host += 1
            dev_id = f"{spec.id_prefix}-{i + 1:03d}"
            if dev_id in taken:
                dev_id = f"iot-{dev_id}"
            dev: dict[str, Any] = {
                "id": dev_id,
                "kind": CLASSES[cls].kind.value,
                "ipv4": f"{subnet}.{host // 250}.{host % 250 + 2}",
                "mac": f"02:60:{list(IotClass).index(cls):02x}:{i // 256:02x}:{i % 256:02x}:"
                       f"{rng.randrange(256):02x}",
                "vendor": vendors[i % len(vendors)],
                "labels": {"heartbeat_secs": f"{beats[cls]:g}", "simulated": "true"},
            }
            if rng.random() < ipv6_share:
                dev["ipv6"] = f"2001:db8:60::{host:x}"
            if cls is IotClass.WIFI_SURVEY:
                dev["roles"] = [WIFI_SURVEY_ROLE]
            room.setdefault("devices", []).append(dev)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    header = (f"# IoT fleet inventory written by `campusmon sim-iot generate` "
              f"(per_class={per_class}, seed={seed}"
              f"{f', added to {base}' if base is not None else ''}).\n")
    p.write_text(header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                 encoding="utf-8")
    return p
