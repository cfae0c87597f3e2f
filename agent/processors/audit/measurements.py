"""What the audit processor writes (the catalogue, agent/core/catalogue.py)."""

from __future__ import annotations

from agent.core.catalogue import Measurement, gauge, info, state, tag

MEASUREMENTS: tuple[Measurement, ...] = (
    Measurement(
        "audit_indicator", "one indicator per scope against its cited target (docs/standards.md)",
        tags=(tag("indicator", "indicator id (ipv6_device_global_address, egress_capacity …)"),
              tag("family", "ipv6 / wireless / 5g / bandwidth / localization"),
              tag("unit", "unit of value and target: %, Mbps, GB, min, count, dBm, Mbps/1000"),
              tag("scope", "campus, building:<id> or isp:<name>"),
              tag("source", "short cite of the target's source (only with a target)")),
        fields=(gauge("value", "", "the measured figure, in the unit tag's unit"),
                gauge("target", "", "the cited target (only when one exists)"),
                state("pass", "1 the value meets the target, 0 not (only with a target)"),
                gauge("unknown", "", "items counted apart as unknown (when any)"))),
    Measurement(
        "audit_campus_info", "the campus, for the central store's report",
        tags=(tag("campus_name", "campus name"), tag("province", "province")),
        fields=(info(), gauge("students", "", "students enrolled"),
                gauge("staff", "", "staff"))),
    Measurement(
        "audit_building_info", "an inventory building",
        tags=(tag("building_name", "building name"),), fields=(info(),)),
    Measurement(
        "audit_room_info", "an inventory room",
        tags=(tag("room_name", "room name"),
              tag("room_kind", "classroom, lab, library, office …"),
              tag("floor", "floor number")),
        fields=(info(),)),
    Measurement(
        "audit_device_info", "an inventory device; `label_<key>` per inventory label",
        tags=(tag("ipv4", "IPv4 address"), tag("ipv6", "IPv6 address"),
              tag("mac", "MAC address"), tag("model", "model"),
              tag("parent", "parent device id")),
        fields=(info(),), open_tags=True),
)
