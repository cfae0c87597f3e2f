"""Load, resolve and validate an inventory. Every problem names `file:line` of each place."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.core.errors import ConfigError, Problem
from agent.core.yamlsource import SourceDict, SourceList, load_yaml_file, locate, where
from inventory.models import Building, Campus, Device, Inventory, Room
from inventory.raw import DeviceDefaults, RawDevice, RawInventory

CSV_COLUMNS = (
    "id", "kind", "building", "room", "ipv4", "ipv6", "mac", "vendor", "model", "owner",
    "credential", "roles", "parent", "parent_port", "services", "hostname", "os", "cpu",
)
# Register columns kept as device labels of the same name (a terminal asset register's OS and
# CPU, free text such as `银河麒麟 V10` / `兆芯 KX-6640MA`): the localization audit classifies
# them with agent/shared/platforms.py; the inventory only bounds them.
LABEL_COLUMNS = ("os", "cpu")
MAX_LABEL_CHARS = 128


@dataclass(frozen=True, slots=True)
class _Placed:
    raw: RawDevice
    where: str
    building: str | None
    room: str | None
    defaults: tuple[DeviceDefaults, ...]  # outermost first


def pydantic_problems(exc: ValidationError, source: Any, fallback: str) -> list[Problem]:
    """Turn a pydantic error into problems located in the YAML source."""
    out = []
    for err in exc.errors():
        loc = err["loc"]
        place = locate(source, loc, fallback)
        field = ".".join(str(p) for p in loc if isinstance(p, str))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = f"unknown key '{loc[-1]}'"
        elif field:
            msg = f"{field}: {msg}"
        out.append(Problem(place, msg))
    return out


def _merge_defaults(chain: tuple[DeviceDefaults, ...], raw: RawDevice) -> dict[str, Any]:
    """Device value wins; otherwise the innermost default that sets it. Labels merge."""
    merged: dict[str, Any] = {}
    labels: dict[str, str] = {}
    for d in chain:
        for key in ("vendor", "model", "owner", "credential", "roles", "services"):
            value = getattr(d, key)
            if value is not None:
                merged[key] = value
        labels.update(d.labels)
    for key in ("vendor", "model", "owner", "credential", "roles", "services"):
        value = getattr(raw, key)
        if value is not None:
            merged[key] = value
    labels.update(raw.labels)
    merged["labels"] = labels
    return merged


def _iter_yaml_devices(inv: RawInventory, src: SourceDict) -> Iterator[_Placed]:
    base = (inv.defaults,)
    devs_src = src.get("devices")
    for i, raw in enumerate(inv.devices):
        yield _Placed(raw, where(devs_src, i), raw.building, raw.room, base)
    b_src = src.get("buildings")
    for bi, b in enumerate(inv.buildings):
        bsrc = b_src[bi] if isinstance(b_src, SourceList) else None
        chain_b = (*base, b.defaults)
        bdevs = bsrc.get("devices") if isinstance(bsrc, SourceDict) else None
        for i, raw in enumerate(b.devices):
            yield _Placed(raw, where(bdevs, i), b.id, raw.room, chain_b)
        rooms_src = bsrc.get("rooms") if isinstance(bsrc, SourceDict) else None
        for ri, r in enumerate(b.rooms):
            rsrc = rooms_src[ri] if isinstance(rooms_src, SourceList) else None
            rdevs = rsrc.get("devices") if isinstance(rsrc, SourceDict) else None
            for i, raw in enumerate(r.devices):
                yield _Placed(raw, where(rdevs, i), b.id, r.id, (*chain_b, r.defaults))


def _read_csv(path: Path, defaults: DeviceDefaults, problems: list[Problem]) -> list[_Placed]:
    out: list[_Placed] = []
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        problems.append(Problem(str(path), f"cannot read: {exc.strerror}"))
        return out
    with handle:
        reader = csv.DictReader(handle)
        unknown = [c for c in (reader.fieldnames or []) if c not in CSV_COLUMNS]
        if unknown:
            # a few short names only: the header line of a file that is no inventory CSV
            # must not be printed whole
            shown = ", ".join(repr(c[:24]) for c in unknown[:5])
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            problems.append(
                Problem(f"{path}:1", f"unknown column(s) {shown}{more}; "
                        f"known: {', '.join(CSV_COLUMNS)}")
            )
            return out
        for row in reader:
            place = f"{path}:{reader.line_num}"
            data: dict[str, Any] = {k: v.strip() for k, v in row.items()
                                    if k and v is not None and v.strip()}
            labels, bad = _label_cells(data)
            if bad:
                problems.extend(Problem(place, msg) for msg in bad)
                continue
            if labels:
                data["labels"] = labels
            try:
                raw = RawDevice.model_validate(data)
            except ValidationError as exc:
                for err in exc.errors():
                    column = ".".join(str(p) for p in err["loc"])
                    problems.append(Problem(place, f"{column}: {err['msg']}"))
                continue
            out.append(_Placed(raw, place, raw.building, raw.room, (defaults,)))
    return out


def _label_cells(data: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Move the label columns out of a CSV row; bound them (length, no control characters)."""
    labels: dict[str, str] = {}
    bad: list[str] = []
    for col in LABEL_COLUMNS:
        value = data.pop(col, None)
        if value is None:
            continue
        if len(value) > MAX_LABEL_CHARS:
            bad.append(f"{col}: longer than {MAX_LABEL_CHARS} characters")
        elif any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            bad.append(f"{col}: control character in the value")
        else:
            labels[col] = value
    return labels, bad


def _duplicates(
    key_of: dict[str, list[str]], what: str, problems: list[Problem]
) -> None:
    for key, places in key_of.items():
        if len(places) > 1:
            for i, place in enumerate(places):
                others = ", ".join(p for j, p in enumerate(places) if j != i)
                problems.append(Problem(place, f"duplicate {what} {key} (also at {others})"))


def load_inventory(path: Path) -> Inventory:
    # no ${ENV} here: an inventory's values become labels on every series, so a secret
    # reaching it through the environment would be exported everywhere
    src = load_yaml_file(path, expand_env=False)
    if not isinstance(src, SourceDict):
        raise ConfigError.one(f"{path}:1", "inventory must be a mapping with a 'campus' key")
    try:
        inv = RawInventory.model_validate(src)
    except ValidationError as exc:
        raise ConfigError(pydantic_problems(exc, src, str(path))) from None

    problems: list[Problem] = []
    campus = Campus(
        inv.campus.code, inv.campus.name, inv.campus.students, inv.campus.staff,
        inv.campus.province, where(src, "campus"),
    )
    buildings: list[Building] = []
    rooms: list[Room] = []
    building_places: dict[str, list[str]] = defaultdict(list)
    room_places: dict[str, list[str]] = defaultdict(list)
    b_src = src.get("buildings")
    for bi, b in enumerate(inv.buildings):
        bwhere = where(b_src, bi)
        building_places[b.id].append(bwhere)
        buildings.append(Building(b.id, b.name or b.id, bwhere))
        bsrc = b_src[bi] if isinstance(b_src, SourceList) else None
        rooms_src = bsrc.get("rooms") if isinstance(bsrc, SourceDict) else None
        for ri, r in enumerate(b.rooms):
            rwhere = where(rooms_src, ri)
            room_places[r.id].append(rwhere)
            rooms.append(Room(r.id, r.name or r.id, r.kind, b.id, r.floor, rwhere))
    _duplicates(building_places, "building id", problems)
    _duplicates(room_places, "room id", problems)
    room_building = {r.id: r.building for r in rooms}

    placed = list(_iter_yaml_devices(inv, src))
    imports_src = src.get("imports")
    root = path.parent.resolve()
    for ii, imp in enumerate(inv.imports):
        csv_path = (path.parent / imp.csv).resolve()
        if not csv_path.is_relative_to(root):
            # only the inventory's own folder: an import must not read (and quote in an
            # error) any file the agent can read, such as /etc/shadow or a key file
            problems.append(Problem(where(imports_src, ii), f"CSV import {imp.csv!r} is "
                                    f"outside the inventory's folder {root}"))
            continue
        before = len(problems)
        placed.extend(_read_csv(csv_path, inv.defaults, problems))
        if len(problems) > before and not csv_path.exists():
            problems[-1] = Problem(where(imports_src, ii), f"cannot read CSV {csv_path}")

    devices: list[Device] = []
    id_places: dict[str, list[str]] = defaultdict(list)
    addr_places: dict[str, list[str]] = defaultdict(list)
    mac_places: dict[str, list[str]] = defaultdict(list)
    for p in placed:
        raw = p.raw
        building, room = p.building, p.room
        if room is not None:
            if room not in room_building:
                problems.append(Problem(p.where, f"device {raw.id}: unknown room '{room}'"))
            elif building is not None and room_building[room] != building:
                problems.append(Problem(
                    p.where, f"device {raw.id}: room '{room}' is in building "
                    f"'{room_building[room]}', not '{building}'"))
            else:
                building = room_building[room]
        if building is not None and building not in building_places:
            problems.append(Problem(p.where, f"device {raw.id}: unknown building '{building}'"))
        merged = _merge_defaults(p.defaults, raw)
        id_places[raw.id].append(p.where)
        for addr in (raw.ipv4, raw.ipv6):
            if addr:
                addr_places[addr].append(p.where)
        if raw.mac:
            mac_places[raw.mac].append(p.where)
        devices.append(Device(
            id=raw.id, kind=raw.kind, campus=campus.code, building=building, room=room,
            ipv4=raw.ipv4, ipv6=raw.ipv6, mac=raw.mac, vendor=merged.get("vendor"),
            model=merged.get("model"), owner=merged.get("owner"),
            credential=merged.get("credential"),
            roles=frozenset(merged.get("roles") or ()), parent=raw.parent,
            parent_port=raw.parent_port, services=frozenset(merged.get("services") or ()),
            hostname=raw.hostname, labels=merged["labels"], where=p.where,
        ))
    _duplicates(id_places, "device id", problems)
    _duplicates(addr_places, "address", problems)
    _duplicates(mac_places, "MAC", problems)
    for d in devices:
        if d.parent is not None and d.parent not in id_places:
            problems.append(Problem(d.where, f"device {d.id}: unknown parent '{d.parent}'"))
        if d.parent == d.id:
            problems.append(Problem(d.where, f"device {d.id}: is its own parent"))
    if problems:
        raise ConfigError(problems)
    return Inventory.build(campus, buildings, rooms, devices, str(path))
