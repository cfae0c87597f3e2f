"""`campusmon inventory-csv export|import`: the inventory as CSV, and a school's asset register
(or a NetBox device export) into the inventory as a reviewed proposal.

Export writes the loader's own CSV columns (inventory/loader.py CSV_COLUMNS), so the file can go
straight back in as an `imports: - csv:` entry. Import maps the register's columns onto
inventory fields (known English and Chinese headers, or `--map FIELD=COLUMN`), adds missing
buildings and rooms, proposes new devices and changed facts like `enrol` does (same merge,
comments kept), and sets a bad row aside with its file:line while the rest flows.
"""

from __future__ import annotations

import argparse
import csv
import io
import ipaddress
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.core.errors import ConfigError, Problem
from agent.core.plugin import CliContext
from collectors.snmp.enrol.proposal import Change, Enrolled, Proposal, device_fact
from collectors.snmp.enrol.scan import Found, clean
from inventory.models import DeviceKind, Inventory, RoomKind
from inventory.raw import normalize_mac

MAX_ROWS = 100_000  # a register bigger than this is refused, not half-read
FIELDS = ("id", "kind", "building", "building_name", "room", "room_name", "room_kind",
          "ipv4", "ipv6", "mac", "vendor", "model", "serial", "owner", "hostname")
# headers seen in school asset registers and NetBox exports, lower-cased
HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "name", "hostname", "设备名称", "名称", "资产编号", "asset_tag", "asset id"),
    "kind": ("kind", "type", "role", "设备类型", "类型", "类别"),
    "building": ("building", "site", "楼宇", "建筑", "所在楼宇"),
    "building_name": ("building_name", "楼宇名称"),
    "room": ("room", "location", "房间", "位置", "安装位置"),
    "room_name": ("room_name", "房间名称"),
    "room_kind": ("room_kind", "房间类型"),
    "ipv4": ("ipv4", "ip", "ip address", "primary_ip4", "ip地址", "管理地址", "管理ip"),
    "ipv6": ("ipv6", "primary_ip6", "ipv6地址"),
    "mac": ("mac", "mac address", "mac地址"),
    "vendor": ("vendor", "manufacturer", "厂商", "品牌", "生产厂家"),
    "model": ("model", "device_type", "型号", "规格型号"),
    "serial": ("serial", "serial number", "serial_number", "序列号", "sn"),
    "owner": ("owner", "tenant", "责任人", "使用人", "管理部门"),
}
# kind words of registers (and NetBox roles) → inventory kinds
KIND_WORDS: dict[str, DeviceKind] = {
    "交换机": DeviceKind.ACCESS_SWITCH, "接入交换机": DeviceKind.ACCESS_SWITCH,
    "汇聚交换机": DeviceKind.AGGREGATION_SWITCH, "核心交换机": DeviceKind.CORE_SWITCH,
    "路由器": DeviceKind.ROUTER, "防火墙": DeviceKind.FIREWALL,
    "无线控制器": DeviceKind.WLAN_CONTROLLER, "ac": DeviceKind.WLAN_CONTROLLER,
    "无线ap": DeviceKind.AP, "无线接入点": DeviceKind.AP, "摄像机": DeviceKind.CAMERA,
    "摄像头": DeviceKind.CAMERA, "录像机": DeviceKind.NVR, "服务器": DeviceKind.SERVER,
    "打印机": DeviceKind.PRINTER, "终端": DeviceKind.TERMINAL, "电脑": DeviceKind.TERMINAL,
    "门禁": DeviceKind.DOOR_ACCESS, "考勤机": DeviceKind.ATTENDANCE,
    "switch": DeviceKind.ACCESS_SWITCH, "access": DeviceKind.ACCESS_SWITCH,
    "core": DeviceKind.CORE_SWITCH, "distribution": DeviceKind.AGGREGATION_SWITCH,
    "firewall": DeviceKind.FIREWALL, "wireless-ap": DeviceKind.AP,
}


@dataclass(slots=True)
class Imported:
    proposal: Proposal = field(default_factory=Proposal)
    buildings: dict[str, str] = field(default_factory=dict)  # id → name, to add
    rooms: dict[str, tuple[str, str, RoomKind]] = field(default_factory=dict)  # id → b, name, kind
    problems: list[Problem] = field(default_factory=list)  # rows set aside


def _column_map(header: Iterable[str], overrides: Mapping[str, str]) -> dict[str, str]:
    """Inventory field → register column."""
    cols = {h.strip().lower(): h for h in header}
    out: dict[str, str] = {}
    for name, candidates in HEADERS.items():
        col = next((cols[c] for c in candidates if c in cols), None)
        if col is not None:
            out[name] = col
    for name, col in overrides.items():
        if name not in FIELDS:
            raise ConfigError.one("--map", f"unknown field '{name}' (known: {', '.join(FIELDS)})")
        if col not in cols.values() and col.lower() not in cols:
            raise ConfigError.one("--map", f"column '{col}' is not in the register")
        out[name] = cols.get(col.lower(), col)
    if "id" not in out:
        raise ConfigError.one("--map", "no id column found: give --map id=COLUMN")
    return out


def _kind(text: str, extra: Mapping[str, str]) -> DeviceKind:
    word = text.strip().lower()
    if word in extra:
        return DeviceKind(extra[word])
    try:
        return DeviceKind(word)
    except ValueError:
        pass
    kind = KIND_WORDS.get(word)
    if kind is None:
        raise ValueError(f"unknown kind '{text}' (an inventory kind, a known word, or --kind "
                         f"'{text}=KIND')")
    return kind


def _address(text: str, version: int) -> str:
    """NetBox writes primary_ip4 with its prefix length (10.0.0.1/24)."""
    if not text:
        return ""
    ip = ipaddress.ip_interface(text.strip()).ip
    if ip.version != version:
        raise ValueError(f"'{text}' is not an IPv{version} address")
    return str(ip)


def import_register(text: str, source: str, inv: Inventory, overrides: Mapping[str, str],
                    kinds: Mapping[str, str]) -> Imported:
    out = Imported()
    reader = csv.DictReader(io.StringIO(text))
    colmap = _column_map(reader.fieldnames or [], overrides)
    known_b = {b.id for b in inv.buildings}
    known_r = {r.id: r.building for r in inv.rooms}
    taken = {d.id for d in inv.devices}
    for n, row in enumerate(reader):
        if n >= MAX_ROWS:
            out.problems.append(Problem(f"{source}:{reader.line_num}",
                                        f"more than {MAX_ROWS} rows: the rest is not read"))
            break
        place = f"{source}:{reader.line_num}"
        value = {f: clean(row.get(c) or "") for f, c in colmap.items()}
        try:
            _row(value, inv, kinds, known_b, known_r, taken, out)
        except ValueError as exc:
            out.problems.append(Problem(place, f"row set aside: {exc}"))
    return out


def _row(v: dict[str, str], inv: Inventory, kinds: Mapping[str, str], known_b: set[str],
         known_r: dict[str, str], taken: set[str], out: Imported) -> None:
    dev_id = v.get("id", "")
    if not dev_id:
        raise ValueError("no id")
    building, room = v.get("building") or None, v.get("room") or None
    if room is not None and room not in known_r:
        if building is None:
            raise ValueError(f"room '{room}' is new and the row names no building")
        rk = RoomKind(v["room_kind"]) if v.get("room_kind") else RoomKind.OTHER
        out.rooms[room] = (building, v.get("room_name") or room, rk)
        known_r[room] = building
    if room is not None:
        building = known_r[room] if building is None else building
        if known_r[room] != building:
            raise ValueError(f"room '{room}' is in building '{known_r[room]}', not '{building}'")
    if building is not None and building not in known_b:
        out.buildings[building] = v.get("building_name") or building
        known_b.add(building)
    ipv4, ipv6 = _address(v.get("ipv4", ""), 4), _address(v.get("ipv6", ""), 6)
    found = Found(address=ipv4 or ipv6, port=0, credential="", attempts=(), via="asset register",
                  vendor=v.get("vendor", ""), model=v.get("model", ""),
                  serial=v.get("serial", ""), ipv6=(ipv6,) if ipv6 and ipv4 else (),
                  chassis_mac=normalize_mac(v["mac"]) if v.get("mac") else None)
    existing = inv.device(dev_id)
    if existing is None:
        if dev_id in taken:
            raise ValueError(f"id '{dev_id}' appears twice")
        taken.add(dev_id)
        if not v.get("kind"):
            raise ValueError("a new device needs a kind")
        e = Enrolled(found, dev_id, _kind(v["kind"], kinds), building, room,
                     evidence=["asset register row"], extra={"owner": v.get("owner", "")})
        out.proposal.new.append(e)
        return
    e = Enrolled(found, dev_id, existing.kind, existing.building, existing.room, matched=dev_id,
                 extra={"owner": v.get("owner", "")})
    changed = False
    for name, value in e.facts().items():
        old = device_fact(existing, name)
        if old != value:
            out.proposal.changes.append(Change(dev_id, name, old, value, "asset register row"))
            changed = True
    if not changed:
        out.proposal.unchanged.append(dev_id)


def export_rows(inv: Inventory) -> str:
    from inventory.loader import CSV_COLUMNS

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for d in inv.devices:
        row: dict[str, Any] = {
            "id": d.id, "kind": d.kind.value, "building": d.building, "room": d.room,
            "ipv4": d.ipv4, "ipv6": d.ipv6, "mac": d.mac, "vendor": d.vendor, "model": d.model,
            "owner": d.owner, "credential": d.credential, "roles": ";".join(sorted(d.roles)),
            "parent": d.parent, "parent_port": d.parent_port,
            "services": ";".join(sorted(d.services)), "hostname": d.hostname}
        w.writerow(["" if row.get(c) is None else str(row[c]) for c in CSV_COLUMNS])
    return buf.getvalue()


def register(subparsers: Any, ctx: CliContext) -> None:
    p = subparsers.add_parser("inventory-csv", help="export the inventory as CSV; import an "
                              "asset register (or NetBox export) as a proposal")
    sub = p.add_subparsers(dest="csv_action", required=True)
    for name in ("export", "import"):
        sp = sub.add_parser(name)
        sp.add_argument("--config", "-c", help="agent config (its inventory)")
        sp.add_argument("--inventory", "-i", help="inventory file (instead of --config)")
        sp.add_argument("--out", help="output file (default: stdout)")
        if name == "import":
            sp.add_argument("register", help="the asset register, CSV (UTF-8, BOM allowed)")
            sp.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                            help=f"register column of a field ({', '.join(FIELDS)})")
            sp.add_argument("--kind", action="append", default=[], metavar="WORD=KIND",
                            help="the register's word for an inventory kind")
            sp.add_argument("--apply", action="store_true",
                            help="merge into the inventory file (comments kept)")
        sp.set_defaults(func=lambda a, ctx=ctx: _cmd(a, ctx))


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    out = {}
    for item in items:
        k, sep, v = item.partition("=")
        if not sep or not k.strip() or not v.strip():
            raise ConfigError.one(flag, f"takes KEY=VALUE, got '{item}'")
        out[k.strip().lower() if flag == "--kind" else k.strip()] = v.strip()
    return out


def _cmd(args: argparse.Namespace, ctx: CliContext) -> int:
    from collectors.snmp.enrol.client import merge, write_atomic
    from config.loader import load_config
    from inventory.loader import load_inventory

    if args.inventory:
        inv = load_inventory(Path(args.inventory).resolve())
    elif args.config:
        inv = load_config(Path(args.config), ctx.registry).inventory
    else:
        raise ConfigError.one("inventory-csv", "give --inventory FILE or --config FILE")
    if args.csv_action == "export":
        text = export_rows(inv)
        if args.out:
            write_atomic(Path(args.out), text)
        else:
            sys.stdout.write(text)
        return 0
    kinds = _pairs(args.kind, "--kind")
    for word, kind in kinds.items():
        if kind not in DeviceKind.__members__.values():
            raise ConfigError.one("--kind", f"'{word}={kind}': unknown inventory kind")
    reg = Path(args.register)
    try:
        text = reg.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError.one(str(reg), f"cannot read the register: {exc}") from None
    imp = import_register(text, str(reg), inv, _pairs(args.map, "--map"), kinds)
    inv_path = Path(inv.source)
    original = inv_path.read_text(encoding="utf-8")
    sites = (imp.buildings, imp.rooms)
    applied = merge(original, imp.proposal, annotate=False, sites=sites)
    check = inv_path.parent / f".{inv_path.name}.import-check.yaml"
    try:
        write_atomic(check, applied.text)
        load_inventory(check)
    finally:
        check.unlink(missing_ok=True)
    for problem in imp.problems:
        print(f"campusmon: {problem}", file=sys.stderr)
    print(f"inventory-csv import: {len(imp.buildings)} buildings, {len(imp.rooms)} rooms, "
          f"{imp.proposal.summary()}, {len(imp.problems)} rows set aside", file=sys.stderr)
    if args.apply:
        write_atomic(inv_path, applied.text)
    else:
        proposed = merge(original, imp.proposal, annotate=True, sites=sites).text
        if args.out:
            write_atomic(Path(args.out), proposed)
        else:
            sys.stdout.write(proposed)
    return 1 if imp.problems else 0
