"""Declared vendor name → domestic (yes/no), from the vendor catalogue (agent/shared/vendors.py,
rows of docs/standards.md d.1).

Used when a device has no SNMP classification (`snmp_device_info` domestic tag) — cameras,
door controllers, servers declared in the inventory. A vendor not in the catalogue stays
`unknown`: the audit never guesses from a name's sound or a country of origin.
"""

from __future__ import annotations

from agent.shared.vendors import by_name


def classify_vendor(name: str | None) -> tuple[str, str]:
    """(domestic yes/no/unknown, rule)."""
    if not name or not name.strip():
        return "unknown", "no vendor declared"
    v = by_name(name)
    if v is None:
        why = f"vendor '{name}' is not in the standards.md d.1 table (docs/standards.md#d-1)"
        return "unknown", why
    if v.source.startswith("d.1"):
        return v.domestic.value, f"d.1 declared vendor {v.name}"
    return v.domestic.value, f"declared vendor {v.name} ({v.source})"
