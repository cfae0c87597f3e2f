"""Typed poll data → metrics of the SNMP section of docs/metrics.md (names are a contract)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass

from agent.core.model import FieldValue, Metric
from agent.shared.measurements import sub_entity_place
from collectors.snmp.rates import RateTracker
from collectors.snmp.records import Counter, DeviceData, Interface, IpStats, Profile
from collectors.snmp.session import oid_to_str
from collectors.snmp.values import scope
from collectors.snmp.wlan import ApState
from inventory.models import Inventory

_TRUE = 1  # ipForwarding / ipv6IpForwarding forwarding(1), notForwarding(2)
_ROUTABLE = frozenset({"global", "ula", "private"})


@dataclass(frozen=True, slots=True)
class Clock:
    ts_ns: int  # wall clock stamped on every metric of the poll
    t_s: float  # monotonic seconds, for rates


def device_info(data: DeviceData, ts_ns: int) -> Metric:
    ident, ent, system = data.identity, data.entity, data.system
    return Metric("snmp_device_info", {
        "sys_object_id": oid_to_str(system.object_id) if system.object_id else "",
        "detected_vendor": ident.vendor,
        "domestic": ident.domestic.value,
        "domestic_rule": ident.domestic_rule,
        "detected_kind": ident.kind.value,
        "kind_rule": ident.kind_rule,
        "os": ident.os,
        "model": ent.model,
        "serial": ent.serial,
        "firmware": ent.firmware,
        "sys_name": system.name,
    }, {"info": 1}, ts_ns)


def _rates(tracker: RateTracker, key: tuple[Hashable, ...], counters: Mapping[str, Counter],
           clock: Clock, discontinuity: int | None) -> dict[str, float]:
    """in_bps / out_bps from the octet counters (no rate on the first sample or a reset).
    Series keys are flat tuples (`("if", 7, "in_octets")`): one tuple per baseline kept."""
    out: dict[str, float] = {}
    for name, field_name in _BPS:
        ctr = counters.get(name)
        if ctr is None:
            continue
        per_s = tracker.rate((*key, name), ctr.value, ctr.bits, clock.t_s, discontinuity)
        if per_s is not None:
            out[field_name] = per_s * 8
    return out


_BPS = (("in_octets", "in_bps"), ("out_octets", "out_bps"))
_UTILIZATION = (("in_bps", "in_utilization_percent"), ("out_bps", "out_utilization_percent"))


def _interface(ifc: Interface, tracker: RateTracker, clock: Clock) -> Metric:
    fields: dict[str, FieldValue] = {name: c.value for name, c in ifc.counters.items()}
    for name, value in (("speed_mbps", ifc.speed_mbps), ("admin_status", ifc.admin_status),
                        ("oper_status", ifc.oper_status)):
        if value is not None:
            fields[name] = value
    rates = _rates(tracker, ("if", ifc.index), ifc.counters, clock, ifc.discontinuity)
    fields.update(rates)
    if ifc.speed_mbps:
        for bps_name, field_name in _UTILIZATION:
            bps = rates.get(bps_name)
            if bps is not None:
                fields[field_name] = bps / (ifc.speed_mbps * 1e6) * 100
    return Metric("snmp_interface", {"ifindex": str(ifc.index), "ifname": ifc.name,
                                     "ifalias": ifc.alias}, fields, clock.ts_ns)


def _outside(fields: Mapping[str, FieldValue], value: str, high: str, low: str) -> bool | None:
    """value against the device's own thresholds; None when it gives none."""
    v, hi, lo = fields.get(value), fields.get(high), fields.get(low)
    if not isinstance(v, int | float) or (hi is None and lo is None):
        return None
    return bool((isinstance(hi, int | float) and v >= hi)
                or (isinstance(lo, int | float) and v <= lo))


def _judged(measurement: str, fields: Mapping[str, FieldValue]) -> Mapping[str, FieldValue]:
    """A reading judged against the thresholds the device sent with it, so an alert rule
    compares one field with a constant (rules compare a field with a value, not two fields)."""
    if measurement == "snmp_sensor":
        over = _outside(fields, "value", "high_threshold", "low_threshold")
        return fields if over is None else {**fields, "over_threshold": int(over)}
    if measurement == "snmp_optical":
        verdicts = [_outside(fields, f"{d}_power_dbm", f"{d}_power_high_dbm",
                             f"{d}_power_low_dbm") for d in ("rx", "tx")]
        known = [v for v in verdicts if v is not None]
        return fields if not known else {**fields, "out_of_range": int(any(known))}
    return fields


_ERROR_COUNTERS = tuple((name, f"{name}_per_second")
                        for name in ("in_errors", "out_errors", "in_discards", "out_discards"))


def _port_errors(ifc: Interface, tracker: RateTracker, clock: Clock) -> Metric | None:
    """Error and discard rates per port (no rate on the first sample or after a reset)."""
    fields: dict[str, FieldValue] = {}
    for name, field_name in _ERROR_COUNTERS:
        ctr = ifc.counters.get(name)
        if ctr is None:
            continue
        per_s = tracker.rate(("if", ifc.index, name), ctr.value, ctr.bits, clock.t_s,
                             ifc.discontinuity)
        if per_s is not None:
            fields[field_name] = per_s
    ucast = ifc.counters.get("in_ucast_pkts")
    in_err = fields.get("in_errors_per_second")
    if ucast is not None and isinstance(in_err, int | float):
        pkts = tracker.rate(("if", ifc.index, "in_ucast_pkts"), ucast.value, ucast.bits,
                            clock.t_s, ifc.discontinuity)
        if pkts is not None and pkts + in_err > 0:
            fields["in_error_ratio_percent"] = in_err / (pkts + in_err) * 100
    if not fields:
        return None
    return Metric("snmp_port_errors", {"ifindex": str(ifc.index), "ifname": ifc.name}, fields,
                  clock.ts_ns)


def _ip_stats(s: IpStats, data: DeviceData, tracker: RateTracker, clock: Clock) -> Metric:
    fields: dict[str, FieldValue] = {n: c.value for n, c in s.counters.items()}
    fields.update(_rates(tracker, ("ip", s.version, s.if_index), s.counters, clock,
                         s.discontinuity))
    if s.if_index is None:
        return Metric("snmp_ip_traffic", {"ip_version": s.version}, fields, clock.ts_ns)
    ifc = data.interfaces.get(s.if_index)
    return Metric("snmp_ip_if_traffic", {
        "ip_version": s.version, "ifindex": str(s.if_index),
        "ifname": ifc.name if ifc else str(s.if_index)}, fields, clock.ts_ns)


def _ipv6_summary(data: DeviceData, clock: Clock) -> Metric:
    global6 = [a for a in data.addresses if a.family == "ipv6" and a.scope == "global"]
    fields: dict[str, FieldValue] = {
        "global_addresses": len(global6),
        "interfaces_with_global_ipv6": len({a.if_index for a in global6
                                            if a.if_index is not None}),
        "interfaces": len(data.interface_indexes),
    }
    if data.neighbors is not None:
        # Hosts (distinct MACs) the device sees with a routable address, per family.
        for family in ("ipv4", "ipv6"):
            fields[f"{family}_neighbor_hosts"] = len({
                n.mac for n in data.neighbors if n.family == family
                and scope(n.address) in _ROUTABLE})
    if data.ipv6_forwarding is not None:
        fields["ipv6_forwarding"] = int(data.ipv6_forwarding == _TRUE)
    if data.ipv4_forwarding is not None:
        fields["ipv4_forwarding"] = int(data.ipv4_forwarding == _TRUE)
    return Metric("snmp_ipv6", {}, fields, clock.ts_ns)


def to_metrics(data: DeviceData, tracker: RateTracker, clock: Clock, inventory: Inventory,
               controller: str) -> list[Metric]:
    """All metrics of one poll; `controller` names the device for the wlan_* tags."""
    tracker.begin(data.system.uptime_s)
    ts = clock.ts_ns
    out = [device_info(data, ts)]
    if data.system.uptime_s is not None:
        out.append(Metric("snmp_system", {}, {"uptime_seconds": data.system.uptime_s}, ts))
    out.extend(_interface(i, tracker, clock) for i in data.interfaces.values())
    out.extend(m for i in data.interfaces.values()
               if (m := _port_errors(i, tracker, clock)) is not None)
    out.extend(Metric(r.measurement, r.tags, _judged(r.measurement, r.fields), ts)
               for r in data.health)
    out.extend(_ip_stats(s, data, tracker, clock) for s in data.ip_stats)
    if Profile.IPV6 in data.profiles:
        out.append(_ipv6_summary(data, clock))
        out.extend(Metric("snmp_ip_address", {
            "address": a.address, "family": a.family, "scope": a.scope,
            "ifindex": "" if a.if_index is None else str(a.if_index)}, {"present": 1}, ts)
            for a in data.addresses)
    out.extend(Metric("snmp_lldp_neighbor", {
        "local_port": n.local_port, "remote_chassis": n.remote_chassis,
        "remote_port": n.remote_port, "remote_sys_name": n.remote_sys_name}, {"present": 1}, ts)
        for n in data.lldp)
    for e in data.fdb:
        ifc = data.interfaces.get(e.if_index) if e.if_index is not None else None
        port = ifc.name if ifc else str(e.if_index if e.if_index is not None else e.bridge_port)
        out.append(Metric("snmp_fdb", {"mac": e.mac, "port": port,
                                       "vlan": "" if e.vlan is None else str(e.vlan),
                                       "ip": e.ip}, {"present": 1}, ts))
    out.extend(_wlan(data, inventory, controller, ts))
    tracker.end()
    return out


def _wlan(data: DeviceData, inventory: Inventory, controller: str, ts: int) -> list[Metric]:
    wlan = data.wlan
    if wlan is None:
        return []
    out = [Metric("wlan_controller", {}, {"aps_total": len(wlan.aps), "aps_up": wlan.aps_up,
                                          "clients": wlan.clients}, ts)]
    for ap in wlan.aps:
        place = sub_entity_place(inventory, ap.mac)  # never the controller's place
        tags = {"controller": controller, "ap_name": ap.name, "ap_mac": ap.mac,
                "ap_model": ap.model, "ap_state": ap.state.value,
                "ap_ipv4": ap.ipv4, "ap_ipv6": ap.ipv6,  # management addresses (IPv6 audit)
                **place}
        fields: dict[str, FieldValue] = {"up": int(ap.state is ApState.UP)}
        if ap.clients is not None:
            fields["clients"] = ap.clients
        if ap.uptime_s is not None:
            fields["uptime_seconds"] = ap.uptime_s
        out.append(Metric("wlan_ap", tags, fields, ts))
        for r in ap.radios:
            rf: dict[str, FieldValue] = {}
            for name, value in (("up", None if r.up is None else int(r.up)),
                                ("channel", r.channel), ("width_mhz", r.width_mhz),
                                ("utilization_percent", r.utilization_percent),
                                ("clients", r.clients)):
                if value is not None:
                    rf[name] = value
            if rf:
                out.append(Metric("wlan_radio", {
                    "controller": controller, "ap_name": ap.name, "ap_mac": ap.mac,
                    "radio": r.radio, "band": r.band, **place}, rf, ts))
    return out
