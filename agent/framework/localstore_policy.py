"""What the local store keeps, and for how long, per series.

A 1,000-switch campus writes ~1M values a minute; keeping roll-ups of all of them for the
180 days the inspection reports cover would be ~6 GB a day of roll-ups. So only what the
reports and audits read is rolled up (the measurements of
`agent/processors/audit/inputs.py: MEASUREMENTS`, tests/agent/test_localstore_policy.py
keeps the two lists equal), and interface/IP counters only on egress devices (the audit's
own rule, `EGRESS_ONLY` in agent/processors/audit/plugin.py: no other device's counter
history is read). Everything else is kept raw for `retention_hours` only.

Classes (stored in `series.history`, the column's name kept from the first layout):
- OTHER: raw for `retention_hours`, then gone;
- HISTORY: events and audit results (`audit_indicator`), raw for `history_days`;
- REPORT: raw, then 5-minute roll-ups, hourly roll-ups after `hourly_after_days`, kept
  `rollup_days` (device health, inventory facts, IPv6, wireless, IoT up/down …);
- EGRESS: raw, then 5-minute roll-ups kept `rollup_days` (egress/uplink counters: the report's
  volume and 95th-percentile utilisation are computed over 5-minute intervals).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class SeriesClass(enum.IntEnum):
    OTHER = 0
    HISTORY = 1
    REPORT = 2
    EGRESS = 3


REPORT_MEASUREMENTS = frozenset({
    "snmp_device_info", "snmp_interface", "snmp_ip_traffic", "snmp_ip_if_traffic",
    "snmp_ipv6", "snmp_fdb", "snmp_ip_address", "ssh_ip_address", "ssh_ipv6",
    "ssh_device_info", "wlan_ap", "wlan_radio", "web_ipv6_support", "iot_device",
    "cellular_5g", "wifi_survey", "host_identity", "server_platform", "terminal_os",
    "info_system_http", "audit_campus_info", "audit_building_info", "audit_room_info",
    "audit_device_info", "snmp_cpu", "snmp_memory", "snmp_sensor", "snmp_optical", "snmp_poe",
    "snmp_ups",
})
EGRESS_COUNTERS = frozenset({"snmp_interface", "snmp_ip_traffic", "snmp_ip_if_traffic"})
EGRESS_ROLE = "egress"


def is_history(name: str) -> bool:
    """Kept raw for the reports' period: events and audit results. The audit's inventory
    series (`audit_*_info`, one per device every emit) are REPORT: rolled up like the rest."""
    return name == "event" or (name.startswith("audit_") and not name.endswith("_info"))


def classify(name: str, tags: Mapping[str, str]) -> SeriesClass:
    if is_history(name):
        return SeriesClass.HISTORY
    if name in EGRESS_COUNTERS:
        roles = tags.get("roles", "").split(",")
        return SeriesClass.EGRESS if EGRESS_ROLE in roles else SeriesClass.OTHER
    if name in REPORT_MEASUREMENTS:
        return SeriesClass.REPORT
    return SeriesClass.OTHER
