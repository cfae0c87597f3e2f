"""Wi-Fi coverage of teaching places (rooms whose kind `is_teaching_place`).

A room is covered when at least one AP serving it is up with at least one radio up (when the
controller reports radios). APs are tied to rooms by the `room` tag the framework adds from the
inventory, or by matching `ap_name` / `ap_mac` to an inventory AP. No coverage percentage target
was verified (docs/standards.md#a3, docs/standards.md#a14), so the figures carry none.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from statistics import median

from agent.processors.audit import standards as S
from agent.processors.audit.counters import share
from agent.processors.audit.inputs import AuditInput, num
from agent.processors.audit.model import Evidence, Indicator, Status
from inventory.models import DeviceKind, Room

FAMILY = "wireless"


@dataclass(slots=True)
class ApState:
    name: str
    up: bool | None  # None: declared in the inventory, no controller data
    state: str
    clients: float = 0.0
    bands: set[str] = field(default_factory=set)
    radios_up: int = 0
    radios: int = 0
    utilization: list[float] = field(default_factory=list)

    @property
    def working(self) -> bool:
        return bool(self.up) and (self.radios == 0 or self.radios_up > 0)


@dataclass(slots=True)
class RoomWifi:
    room: Room
    aps: list[ApState] = field(default_factory=list)
    survey: dict[str, float] = field(default_factory=dict)  # band → median RSSI dBm

    @property
    def covered(self) -> bool:
        return any(a.working for a in self.aps)

    def describe(self) -> str:
        if not self.aps:
            parts = ["no AP serves this room"]
        else:
            parts = ["APs: " + "; ".join(
                f"{a.name} ({'no data' if a.up is None else a.state})" for a in self.aps)]
            bands = sorted({b for a in self.aps if a.working for b in a.bands})
            parts.append("bands " + (",".join(bands) if bands else "none"))
            parts.append(f"clients {sum(a.clients for a in self.aps):g}")
            util = [u for a in self.aps for u in a.utilization]
            if util:
                parts.append(f"channel utilisation max {max(util):g}%")
        if self.survey:
            parts.append("survey " + ", ".join(f"{b} {v:g} dBm"
                                                for b, v in sorted(self.survey.items())))
        return "; ".join(parts)


def room_wifi(inp: AuditInput) -> list[RoomWifi]:
    teaching = [r for r in inp.rooms if r.kind.is_teaching_place]
    by_room = {r.id: RoomWifi(r) for r in teaching}
    inv_aps = [d for d in inp.devices if d.kind is DeviceKind.AP]
    by_name = {d.id: d for d in inv_aps}
    by_mac = {d.mac: d for d in inv_aps if d.mac}
    states: dict[str, ApState] = {}  # key: ap_mac or ap_name
    ap_room: dict[str, str] = {}
    for m in inp.latest("wlan_ap", current_only=True):
        t = m.tags
        name = t.get("ap_name") or t.get("device") or t.get("ap_mac", "?")
        mac = t.get("ap_mac", "").lower()
        key = mac or name
        inv = by_mac.get(mac) or by_name.get(name) or by_name.get(t.get("device", ""))
        room = t.get("room") or (inv.room if inv else None)
        up = num(m, "up")
        states[key] = ApState(inv.id if inv else name, up == 1,
                              t.get("ap_state", "up" if up == 1 else "down"),
                              num(m, "clients") or 0.0)
        if room:
            ap_room[key] = room
    by_ap_name = {s.name: s for s in states.values()}
    for m in inp.latest("wlan_radio", current_only=True):
        t = m.tags
        key = t.get("ap_mac", "").lower() or t.get("ap_name", "")
        st = states.get(key) or by_ap_name.get(t.get("ap_name", ""))
        if st is None:
            continue
        st.radios += 1
        if num(m, "up") == 1:
            st.radios_up += 1
            if t.get("band"):
                st.bands.add(t["band"])
            u = num(m, "utilization_percent")
            if u is not None:
                st.utilization.append(u)
    for key, room_id in ap_room.items():
        if room_id in by_room:
            by_room[room_id].aps.append(states[key])
    seen = {a.name for rw in by_room.values() for a in rw.aps}
    for d in inv_aps:  # declared but not reported by any controller
        if d.room in by_room and d.id not in seen:
            by_room[d.room].aps.append(ApState(d.id, None, "no data"))
    survey: dict[tuple[str, str], list[float]] = defaultdict(list)
    for pts in inp.series("wifi_survey").values():
        for p in pts:
            room, band, v = p.tags.get("room"), p.tags.get("band", "?"), num(p, "rssi_dbm")
            if room and v is not None:
                survey[(room, band)].append(v)
    for (room, band), vals in survey.items():
        if room in by_room:
            by_room[room].survey[band] = median(vals)
    return sorted(by_room.values(), key=lambda rw: (rw.room.building, rw.room.id))


def _coverage(rooms: list[RoomWifi], scope: str, title_suffix: tuple[str, str]) -> Indicator:
    ev = tuple(Evidence(rw.room.id, "room", Status.OK if rw.covered else Status.FAIL,
                        rw.describe(), rw.room.building) for rw in rooms)
    ok = sum(rw.covered for rw in rooms)
    return Indicator("wifi_teaching_coverage", FAMILY,
                     "教学场所无线覆盖率" + title_suffix[0],
                     "Teaching places with a working AP" + title_suffix[1],
                     share(ok, len(rooms)), "%", scope=scope, numerator=ok,
                     denominator=len(rooms), evidence=ev, note=S.NO_TARGET_WIFI_COVERAGE,
                     counted="rooms")


def indicators(inp: AuditInput, rooms: list[RoomWifi] | None = None) -> list[Indicator]:
    rooms = room_wifi(inp) if rooms is None else rooms
    out = [_coverage(rooms, "campus", ("", ""))]
    uncovered = [rw for rw in rooms if not rw.covered]
    out.append(Indicator(
        "wifi_rooms_without_working_ap", FAMILY, "无可用AP的教学场所数",
        "Teaching places with no working AP", float(len(uncovered)), "count",
        evidence=tuple(Evidence(rw.room.id, "room", Status.FAIL, rw.describe(),
                                rw.room.building) for rw in uncovered),
        note=S.NO_TARGET_GENERIC))
    by_b: dict[str, list[RoomWifi]] = defaultdict(list)
    for rw in rooms:
        by_b[rw.room.building].append(rw)
    for b, lst in sorted(by_b.items()):
        name = inp.building_name(b)
        out.append(_coverage(lst, f"building:{b}", (f"（{name}）", f" ({name})")))
    util = [u for rw in rooms for a in rw.aps if a.working for u in a.utilization]
    out.append(Indicator(
        "wifi_channel_utilization", FAMILY, "教学场所信道利用率（平均）",
        "Channel utilisation in teaching places (mean of radios)",
        sum(util) / len(util) if util else None, "%", note=S.NO_TARGET_GENERIC))
    clients = sum(a.clients for rw in rooms for a in rw.aps if a.up)
    out.append(Indicator("wifi_clients", FAMILY, "教学场所无线终端数",
                         "Wi-Fi clients in teaching places", clients, "count",
                         note=S.NO_TARGET_GENERIC))
    surveyed = [rw for rw in rooms if rw.survey]
    if surveyed:
        vals = [v for rw in surveyed for v in rw.survey.values()]
        out.append(Indicator(
            "wifi_survey_rssi", FAMILY, "无线测量信号强度（中位数）",
            "Wi-Fi survey signal strength (median)", median(vals), "dBm",
            evidence=tuple(Evidence(rw.room.id, "room", Status.INFO, ", ".join(
                f"{b} {v:g} dBm" for b, v in sorted(rw.survey.items())), rw.room.building)
                for rw in surveyed), note=S.NO_TARGET_GENERIC))
    return out
