"""Declared vendor name → domestic (yes/no), from the vendor table of standards.md d.1.

Used when a device has no SNMP classification (`snmp_device_info` domestic tag) — cameras,
door controllers, servers declared in the inventory. A vendor not in the table stays
`unknown`: the audit never guesses from a name's sound or a country of origin.
"""

from __future__ import annotations

import re

# canonical name → domestic; aliases below. Rows of standards.md d.1.
_DOMESTIC = (
    "Huawei", "xFusion", "H3C", "Ruijie", "ZTE", "Maipu", "DCN", "BDCOM", "FiberHome",
    "Raisecom", "Inspur", "TP-Link", "Sangfor", "Hillstone", "Qi An Xin", "Topsec", "NSFOCUS",
    "Venustech", "DPtech", "Centec", "Asterfusion", "Hikvision", "Dahua", "Uniview", "Tiandy",
    "Yealink", "Tenda", "Loongson", "Sugon", "Lenovo",
)
_FOREIGN = (
    "Cisco", "HPE", "HP", "Aruba", "Juniper", "Arista", "Extreme", "Ruckus", "Ubiquiti",
    "Fortinet", "Palo Alto", "Check Point", "Netgear", "MikroTik", "Meraki", "Axis", "Dell",
    "Microsoft",
)
_ALIASES = {
    "华为": "Huawei", "huawei technologies": "Huawei", "超聚变": "xFusion",
    "new h3c": "H3C", "新华三": "H3C", "华三": "H3C", "锐捷": "Ruijie", "ruijie networks": "Ruijie",
    "中兴": "ZTE", "迈普": "Maipu", "神州数码": "DCN", "digital china": "DCN", "博达": "BDCOM",
    "烽火": "FiberHome", "瑞斯康达": "Raisecom", "浪潮": "Inspur", "普联": "TP-Link",
    "tplink": "TP-Link", "深信服": "Sangfor", "山石": "Hillstone", "山石网科": "Hillstone",
    "奇安信": "Qi An Xin", "qianxin": "Qi An Xin", "天融信": "Topsec", "绿盟": "NSFOCUS",
    "启明星辰": "Venustech", "迪普": "DPtech", "盛科": "Centec", "星融": "Asterfusion",
    "海康": "Hikvision", "海康威视": "Hikvision", "大华": "Dahua", "宇视": "Uniview",
    "天地伟业": "Tiandy", "亿联": "Yealink", "腾达": "Tenda", "龙芯": "Loongson",
    "曙光": "Sugon", "dawning": "Sugon", "联想": "Lenovo",
    "hewlett packard enterprise": "HPE", "hewlett-packard": "HP", "思科": "Cisco",
}


def _norm(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name.strip().lower())


_TABLE: dict[str, tuple[str, str]] = {}
for _n in _DOMESTIC:
    _TABLE[_norm(_n)] = (_n, "yes")
for _n in _FOREIGN:
    _TABLE[_norm(_n)] = (_n, "no")
for _alias, _canon in _ALIASES.items():
    _TABLE[_norm(_alias)] = _TABLE[_norm(_canon)]


def classify_vendor(name: str | None) -> tuple[str, str]:
    """(domestic yes/no/unknown, rule)."""
    if not name or not name.strip():
        return "unknown", "no vendor declared"
    hit = _TABLE.get(_norm(name))
    if hit is None:
        return "unknown", f"vendor '{name}' is not in the standards.md d.1 table"
    canon, domestic = hit
    return domestic, f"d.1 declared vendor {canon}"
