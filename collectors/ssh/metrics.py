"""Typed rows → metrics, with the names of docs/metrics.md (SSH section; `wlan_*` shared with
SNMP so the same audits read both)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from agent.core.model import Event, EventState, FieldValue, Metric, Severity
from agent.shared import vendors
from agent.shared.measurements import sub_entity_place
from collectors.ssh.platforms import Platform
from collectors.ssh.rows import AccessPoint, ApState, Ipv6Interface, LldpNeighbor, VersionInfo
from inventory.models import Inventory


def vendor_mismatch(target: str, declared: str | None, v: VersionInfo,
                    was: bool | None) -> tuple[bool, Event | None]:
    """Compare the inventory's vendor with the CLI's; an event only when the state changes.

    Returns (mismatch now, event or None). An unknown declared spelling is no mismatch: we
    cannot tell, and the localization audit already prefers the CLI's identification.
    """
    said, seen = vendors.by_name(declared), vendors.by_name(v.vendor)
    now = said is not None and (seen is None or said.lineage != seen.lineage)
    if now == bool(was):  # no change (first sight counts as "matching")
        return now, None
    key = f"ssh:{target}:vendor"
    labels = {"declared_vendor": declared or "", "detected_vendor": v.vendor}
    if now:
        return now, Event(key, "inventory_mismatch", EventState.RAISED, Severity.WARNING,
                          f"{target}: the inventory says vendor {declared}, the CLI shows "
                          f"{v.vendor} {v.model}".strip(), target, labels)
    return now, Event(key, "inventory_mismatch", EventState.RESOLVED, Severity.INFO,
                      f"{target}: inventory vendor matches the CLI ({v.vendor})", target, labels)


def _tags(**kv: str) -> dict[str, str]:
    """Line protocol has no empty tag values: leave unknown facts out."""
    return {k: v for k, v in kv.items() if v}


def domestic(vendor: str) -> str:
    """The catalogue's flag (agent/shared/vendors.py); HPE-branded Comware is not domestic
    although its CLI is H3C's."""
    return vendors.domestic_of(vendor).value


def version_metrics(v: VersionInfo, platform: Platform, ts: int) -> list[Metric]:
    out = [Metric("ssh_device_info", _tags(
        detected_vendor=v.vendor, domestic=domestic(v.vendor), domestic_rule="standards d.1",
        platform=platform.value, model=v.model, os=v.os_name, os_version=v.os_version,
        serial=v.serial, hostname=v.hostname), {"info": 1}, ts)]
    if v.uptime_seconds is not None:
        out.append(Metric("ssh_system", {}, {"uptime_seconds": v.uptime_seconds}, ts))
    return out


def address_scope(address: str) -> str:
    try:
        ip = ipaddress.IPv6Address(address)
    except ValueError:
        return "invalid"
    if ip.is_link_local:
        return "linklocal"
    if ip in ipaddress.IPv6Network("fc00::/7"):
        return "ula"
    if ip in ipaddress.IPv6Network("2000::/3"):
        return "global"
    return "other"


def ipv6_metrics(ifaces: Sequence[Ipv6Interface], ts: int) -> list[Metric]:
    out: list[Metric] = []
    with_global = total_global = 0
    for i in ifaces:
        scopes = [(a, address_scope(a)) for a in i.addresses]
        n_global = sum(1 for _, s in scopes if s == "global")
        total_global += n_global
        with_global += 1 if n_global else 0
        out.append(Metric("ssh_interface_ipv6", {"ifname": i.name}, {
            "admin_status": 1 if i.admin_up else 2, "oper_status": 1 if i.oper_up else 2,
            "addresses": len(i.addresses), "global_addresses": n_global}, ts))
        for a, s in scopes:
            out.append(Metric("ssh_ip_address", {
                "address": a, "family": "ipv6", "scope": s, "ifname": i.name}, {"present": 1},
                ts))
    out.append(Metric("ssh_ipv6", {}, {
        "interfaces": len(ifaces), "interfaces_with_global_ipv6": with_global,
        "global_addresses": total_global}, ts))
    return out


def ap_metrics(aps: Sequence[AccessPoint], controller: str, inventory: Inventory,
               ts: int) -> list[Metric]:
    out: list[Metric] = []
    clients_known = [a.clients for a in aps if a.clients is not None]
    for a in aps:
        v6 = ":" in a.ip
        tags = _tags(controller=controller, ap_name=a.name, ap_mac=a.mac, ap_model=a.model,
                     ap_state=a.state.value, ap_ipv4="" if v6 else a.ip,
                     ap_ipv6=a.ip if v6 else "")
        tags.update(sub_entity_place(inventory, a.mac))  # the AP's own, never the controller's
        fields: dict[str, FieldValue] = {"up": 1 if a.state is ApState.UP else 0}
        if a.clients is not None:
            fields["clients"] = a.clients
        if a.uptime_seconds is not None:
            fields["uptime_seconds"] = a.uptime_seconds
        out.append(Metric("wlan_ap", tags, fields, ts))
    summary: dict[str, FieldValue] = {
        "aps_total": len(aps), "aps_up": sum(1 for a in aps if a.state is ApState.UP)}
    if clients_known:
        summary["clients"] = sum(clients_known)
    out.append(Metric("wlan_controller", {}, summary, ts))
    return out


def lldp_metrics(neighbors: Sequence[LldpNeighbor], ts: int) -> list[Metric]:
    return [Metric("ssh_lldp_neighbor", _tags(
        local_port=n.local_port, remote_chassis=n.remote_chassis, remote_port=n.remote_port,
        remote_sys_name=n.remote_sys_name), {"present": 1}, ts) for n in neighbors]
