"""Which links are the campus egress: inventory role `egress`, then the interface(s) on it.

The inventory says which device is the egress (`roles: [egress]`). The interfaces are, in order:
1. the device label `egress_interfaces` — `GE0/0/1=CERNET,GE0/0/2=China Telecom` (ISP optional);
2. interfaces whose ifAlias names an uplink (`出口`, `ISP`, `WAN`, `uplink`, a carrier name);
3. none: the link is reported as unidentified (the audits never pick a port by guesswork).
Capacity: device label `capacity_mbps` (contracted bandwidth, one link) or `<ifname>` entries of
`egress_capacity_mbps` (`GE0/0/1=1000,…`), else ifHighSpeed (`speed_mbps`) as a proxy
(docs/standards.md#e-1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.core.model import Metric
from agent.processors.audit.inputs import AuditInput, to_float
from inventory.models import Device

EGRESS_ROLE = "egress"
_ALIAS = re.compile(
    r"出口|egress|\bisp\b|\bwan\b|internet|uplink|cernet|电信|联通|移动|telecom|unicom|"
    r"china ?mobile|广电", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class EgressLink:
    device: Device
    ifname: str
    ifindex: str
    isp: str
    capacity_mbps: float | None
    capacity_rule: str  # where the capacity came from
    rule: str  # why this interface is an egress link

    @property
    def id(self) -> str:
        return f"{self.device.id}/{self.ifname}"


def _pairs(text: str) -> dict[str, str]:
    out = {}
    for part in text.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip():
            out[name.strip()] = value.strip()
    return out


def egress_devices(inp: AuditInput) -> list[Device]:
    return [d for d in inp.devices if EGRESS_ROLE in d.roles]


def egress_links(inp: AuditInput) -> tuple[list[EgressLink], list[Device]]:
    """The egress links found, and the egress devices on which none could be identified."""
    interfaces: dict[str, list[Metric]] = {}
    for m in inp.latest("snmp_interface"):
        dev = m.tags.get("device")
        if dev:
            interfaces.setdefault(dev, []).append(m)
    links: list[EgressLink] = []
    unidentified: list[Device] = []
    for d in egress_devices(inp):
        declared = _pairs(d.labels.get("egress_interfaces", ""))
        caps = _pairs(d.labels.get("egress_capacity_mbps", ""))
        ifs = sorted(interfaces.get(d.id, []), key=lambda m: m.tags.get("ifname", ""))
        chosen: list[tuple[Metric, str, str]] = []
        if declared:
            for m in ifs:
                name = m.tags.get("ifname", "")
                if name in declared:
                    chosen.append((m, declared[name], "inventory label egress_interfaces"))
        else:
            for m in ifs:
                alias = m.tags.get("ifalias", "")
                if alias and _ALIAS.search(alias):
                    chosen.append((m, "", f"ifAlias '{alias}' names an uplink"))
        if not chosen:
            unidentified.append(d)
            continue
        for m, isp, rule in chosen:
            name = m.tags.get("ifname", "")
            isp = isp or d.labels.get("isp", "") or m.tags.get("ifalias", "") or "unknown"
            cap: float | None
            if name in caps and to_float(caps[name]) is not None:
                cap, cap_rule = to_float(caps[name]), "inventory label egress_capacity_mbps"
            elif len(chosen) == 1 and to_float(d.labels.get("capacity_mbps")) is not None:
                cap, cap_rule = to_float(d.labels["capacity_mbps"]), "inventory label capacity_mbps"
            else:
                speed = to_float(m.fields.get("speed_mbps"))
                cap = speed if speed else None
                cap_rule = "ifHighSpeed (port speed as capacity proxy, docs/standards.md#e-1)" \
                    if cap else "unknown: no speed reported"
            links.append(EgressLink(d, name, m.tags.get("ifindex", ""), isp, cap, cap_rule,
                                    rule))
    return links, unidentified
