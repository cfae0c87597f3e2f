"""The per-teaching-place table: APs and their state, bands, clients, channel utilisation,
Wi-Fi survey and 5G readings for every room whose kind is a teaching place."""

from __future__ import annotations

from agent.processors.audit import cellular, wireless
from agent.processors.audit.inputs import AuditInput
from agent.processors.audit.model import Table


def teaching_places(inp: AuditInput, rooms: list[wireless.RoomWifi] | None = None) -> Table:
    g5, _ = cellular.samples_by_room(inp)
    rows = []
    for rw in wireless.room_wifi(inp) if rooms is None else rooms:
        working = [a for a in rw.aps if a.working]
        util = [u for a in rw.aps for u in a.utilization]
        rows.append((
            inp.building_name(rw.room.building), f"{rw.room.name} ({rw.room.id})",
            rw.room.kind.value,
            "; ".join(f"{a.name}: {'no data' if a.up is None else a.state}" for a in rw.aps)
            or "— none",
            ",".join(sorted({b for a in working for b in a.bands})) or "—",
            f"{sum(a.clients for a in rw.aps if a.up):g}" if any(a.up for a in rw.aps) else "—",
            f"{max(util):g}%" if util else "—",
            ", ".join(f"{b} {v:g} dBm" for b, v in sorted(rw.survey.items())) or "—",
            cellular.summary(g5[rw.room.id]) if rw.room.id in g5 else "—",
            "yes" if rw.covered else "NO",
        ))
    return Table("teaching_places", "教学场所无线与5G覆盖", "Wi-Fi and 5G per teaching place",
                 ("楼宇 Building", "场所 Room", "类型 Kind", "AP (状态 state)", "频段 Bands",
                  "终端 Clients", "信道利用率 max util", "无线测量 Survey (median)",
                  "5G (信号升格 DL>=200 / UL>=40)", "有可用AP Covered"), tuple(rows))
