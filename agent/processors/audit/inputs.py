"""`AuditInput`: what every indicator reads — the inventory plus the points of the audit window.

The same input is built by the `audit` processor (from the item stream), by `campusmon report
--config` (local store) and by `campusmon report --from` (central store). Because the central
store has no inventory, the processor also publishes the inventory as `audit_*_info` series
(`inventory_metrics`), and `inventories_from_points` rebuilds it on the other side.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from agent.core.model import FieldValue, Metric
from agent.processors.audit.model import CampusInfo
from inventory.models import Building, Device, DeviceKind, Inventory, Room, RoomKind

SeriesKey = tuple[tuple[str, str], ...]

# measurements the audits read (docs/metrics.md); sources fetch only these
MEASUREMENTS: Mapping[str, tuple[str, ...]] = {
    "snmp_device_info": ("info",),
    "snmp_interface": ("in_octets", "out_octets", "speed_mbps", "oper_status"),
    "snmp_ip_traffic": ("in_octets", "out_octets"),
    "snmp_ip_if_traffic": ("in_octets", "out_octets"),
    "snmp_ipv6": ("global_addresses", "interfaces_with_global_ipv6", "interfaces",
                  "ipv6_forwarding", "ipv4_forwarding"),
    "snmp_fdb": ("present",),
    "snmp_ip_address": ("present",),
    "ssh_ip_address": ("present",),
    # the SSH collector publishes the same facts for devices read over the CLI
    "ssh_ipv6": ("global_addresses", "interfaces_with_global_ipv6", "interfaces"),
    "ssh_device_info": ("info",),
    "wlan_ap": ("up", "clients"),
    "wlan_radio": ("up", "utilization_percent", "clients", "channel"),
    "web_ipv6_support": ("pass", "aaaa", "homepage_ipv6", "ns_ipv6", "success_ratio"),
    "iot_device": ("up",),
    "cellular_5g": ("dl_mbps", "ul_mbps", "rsrp_dbm", "sinr_db"),
    "wifi_survey": ("rssi_dbm",),
    "host_identity": ("info",),
    # servers' CPU/OS/database/middleware (SNMP HOST-RESOURCES, SSH) and terminals' OS (DHCP)
    "server_platform": ("info",),
    "terminal_os": ("confidence_ratio",),
    "info_system_http": ("up", "tls_sm2"),  # information systems' web fronts (probes/systems)
    "audit_campus_info": ("info", "students", "staff"),
    "audit_building_info": ("info",),
    "audit_room_info": ("info",),
    "audit_device_info": ("info",),
    # device health (the report's health table, agent/processors/audit/health.py)
    "snmp_cpu": ("usage_percent",),
    "snmp_memory": ("used_percent",),
    "snmp_sensor": ("value", "status", "high_threshold"),
    "snmp_optical": ("out_of_range",),
    "snmp_poe": ("used_percent",),
    "snmp_ups": ("on_battery", "battery_charge_percent"),
}


def to_float(v: object) -> float | None:
    """A field or label value as a number (counters arrive as int, gauges as float, labels
    and some stores as text); None when it is not one."""
    if isinstance(v, bool | int | float):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def num(m: Metric, name: str) -> float | None:
    return to_float(m.fields.get(name))


def series_key(tags: Mapping[str, str]) -> SeriesKey:
    return tuple(sorted(tags.items()))


@dataclass(frozen=True, slots=True)
class AuditInput:
    campus: CampusInfo
    buildings: tuple[Building, ...]
    rooms: tuple[Room, ...]
    devices: tuple[Device, ...]
    points: Mapping[str, Sequence[Metric]]  # per measurement, oldest first
    start_ns: int
    end_ns: int
    _by_id: Mapping[str, Device] = field(default_factory=dict, repr=False, compare=False)
    # grouped views, computed once per input (every family reads the same measurements)
    _cache: dict[tuple[str, bool], object] = field(default_factory=dict, repr=False,
                                                    compare=False)

    @staticmethod
    def build(campus: CampusInfo, buildings: Iterable[Building], rooms: Iterable[Room],
              devices: Iterable[Device], points: Iterable[Metric], start_ns: int,
              end_ns: int) -> AuditInput:
        by_m: dict[str, list[Metric]] = defaultdict(list)
        for p in points:
            if start_ns <= p.ts_ns <= end_ns:
                by_m[p.name].append(p)
        for lst in by_m.values():
            lst.sort(key=lambda m: m.ts_ns)
        devs = tuple(devices)
        return AuditInput(campus, tuple(buildings), tuple(rooms), devs, dict(by_m),
                          start_ns, end_ns, {d.id: d for d in devs})

    @staticmethod
    def from_inventory(inv: Inventory, points: Iterable[Metric], start_ns: int,
                       end_ns: int) -> AuditInput:
        c = inv.campus
        return AuditInput.build(CampusInfo(c.code, c.name, c.province, c.students, c.staff),
                                inv.buildings, inv.rooms, inv.devices, points, start_ns, end_ns)

    def device(self, device_id: str | None) -> Device | None:
        return self._by_id.get(device_id) if device_id else None

    def building_name(self, building_id: str) -> str:
        return next((b.name for b in self.buildings if b.id == building_id), building_id)

    def series(self, measurement: str) -> dict[SeriesKey, list[Metric]]:
        """Points of each series (one tag set), oldest first. Callers must not modify it."""
        hit = self._cache.get((measurement, False))
        if hit is None:
            grouped: dict[SeriesKey, list[Metric]] = defaultdict(list)
            for p in self.points.get(measurement, ()):
                grouped[series_key(p.tags)].append(p)
            hit = self._cache[(measurement, False)] = dict(grouped)
        return hit  # type: ignore[return-value]

    def latest(self, measurement: str, current_only: bool = False) -> list[Metric]:
        """The last point of each series; fields of points sharing that last timestamp merged.

        `current_only` keeps, per device, only the series of its newest poll: rows of a table
        that are gone (an address removed, an AP no longer listed by its controller) drop out
        instead of lingering until the window ends (a collector stamps one poll with one time).
        """
        hit = self._cache.get((f"latest:{measurement}", current_only))
        if hit is not None:
            return hit  # type: ignore[return-value]
        out = []
        for pts in self.series(measurement).values():
            last_ts = pts[-1].ts_ns
            fields: dict[str, FieldValue] = {}
            for p in pts:
                if p.ts_ns == last_ts:
                    fields.update(p.fields)
            out.append(Metric(measurement, pts[-1].tags, fields, last_ts))
        if current_only:
            newest: dict[str, int] = {}
            for m in out:
                dev = m.tags.get("device", "")
                newest[dev] = max(newest.get(dev, m.ts_ns), m.ts_ns)
            out = [m for m in out if m.ts_ns == newest[m.tags.get("device", "")]]
        self._cache[(f"latest:{measurement}", current_only)] = out
        return out

    def latest_by_device(self, measurement: str) -> dict[str, Metric]:
        """Last point per device (the newest series wins when a device has several)."""
        out: dict[str, Metric] = {}
        for m in sorted(self.latest(measurement), key=lambda m: m.ts_ns):
            dev = m.tags.get("device")
            if dev:
                out[dev] = m
        return out


# ------------------------------------------------------------- inventory as series
def inventory_metrics(inv: Inventory, ts_ns: int) -> list[Metric]:
    """The inventory facts the audits need, as `audit_*_info` points for the central store."""
    c = inv.campus
    campus_tags = {"campus": c.code, "campus_name": c.name}
    if c.province:
        campus_tags["province"] = c.province
    out = [Metric("audit_campus_info", campus_tags,
                  {"info": 1, "students": c.students, "staff": c.staff}, ts_ns)]
    for b in inv.buildings:
        out.append(Metric("audit_building_info",
                          {"campus": c.code, "building": b.id, "building_name": b.name},
                          {"info": 1}, ts_ns))
    for r in inv.rooms:
        tags = {"campus": c.code, "building": r.building, "room": r.id, "room_name": r.name,
                "room_kind": r.kind.value}
        if r.floor is not None:
            tags["floor"] = str(r.floor)
        out.append(Metric("audit_room_info", tags, {"info": 1}, ts_ns))
    for d in inv.devices:
        tags = d.tags()
        for k in ("ipv4", "ipv6", "mac", "model", "parent"):
            v = getattr(d, k)
            if v:
                tags[k] = str(v)
        if d.roles:
            tags["roles"] = ",".join(sorted(d.roles))
        for k, v in d.labels.items():
            if v:
                tags[f"label_{k}"] = v
        out.append(Metric("audit_device_info", tags, {"info": 1}, ts_ns))
    return out


@dataclass(frozen=True, slots=True)
class RebuiltInventory:
    campus: CampusInfo
    buildings: tuple[Building, ...]
    rooms: tuple[Room, ...]
    devices: tuple[Device, ...]


def _room_kind(v: str) -> RoomKind:
    try:
        return RoomKind(v)
    except ValueError:
        return RoomKind.OTHER


def inventories_from_points(points: Iterable[Metric]) -> dict[str, RebuiltInventory]:
    """Rebuild each campus's inventory from its `audit_*_info` points (newest wins)."""
    campuses: dict[str, CampusInfo] = {}
    buildings: dict[str, dict[str, Building]] = defaultdict(dict)
    rooms: dict[str, dict[str, Room]] = defaultdict(dict)
    devices: dict[str, dict[str, Device]] = defaultdict(dict)
    for p in sorted(points, key=lambda m: m.ts_ns):
        t = p.tags
        code = t.get("campus")
        if not code:
            continue
        if p.name == "audit_campus_info":
            campuses[code] = CampusInfo(code, t.get("campus_name", code), t.get("province"),
                                        int(float(p.fields.get("students", 0))),
                                        int(float(p.fields.get("staff", 0))))
        elif p.name == "audit_building_info" and t.get("building"):
            b = t["building"]
            buildings[code][b] = Building(b, t.get("building_name", b))
        elif p.name == "audit_room_info" and t.get("room"):
            floor = t.get("floor")
            rooms[code][t["room"]] = Room(
                t["room"], t.get("room_name", t["room"]), _room_kind(t.get("room_kind", "")),
                t.get("building", ""), int(floor) if floor and floor.lstrip("-").isdigit()
                else None)
        elif p.name == "audit_device_info" and t.get("device"):
            try:
                kind = DeviceKind(t.get("kind", ""))
            except ValueError:
                continue
            devices[code][t["device"]] = Device(
                id=t["device"], kind=kind, campus=code, building=t.get("building"),
                room=t.get("room"), ipv4=t.get("ipv4"), ipv6=t.get("ipv6"), mac=t.get("mac"),
                vendor=t.get("vendor"), model=t.get("model"), parent=t.get("parent"),
                roles=frozenset(r for r in t.get("roles", "").split(",") if r),
                labels={k[6:]: v for k, v in t.items() if k.startswith("label_")})
    out = {}
    for code in set(campuses) | set(devices) | set(rooms):
        out[code] = RebuiltInventory(
            campuses.get(code, CampusInfo(code, code)),
            tuple(sorted(buildings[code].values(), key=lambda b: b.id)),
            tuple(sorted(rooms[code].values(), key=lambda r: r.id)),
            tuple(sorted(devices[code].values(), key=lambda d: d.id)))
    return out
