"""IPv6 rollout per campus: devices, interfaces, egress traffic, web, IoT (targets
docs/standards.md#b2 and docs/standards.md#b8).

Inputs: `snmp_ipv6` (per device), `snmp_ip_if_traffic` / `snmp_ip_traffic` (IP-MIB per-version
octets, docs/standards.md#e-1), `web_ipv6_support` (probes, docs/standards.md#b-4 test
items), IoT devices of the inventory with the `snmp_fdb` neighbour table, and the egress
links (egress.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

from agent.core.model import Metric
from agent.processors.audit import standards as S
from agent.processors.audit.counters import deltas, share
from agent.processors.audit.egress import egress_devices, egress_links
from agent.processors.audit.inputs import AuditInput, num
from agent.processors.audit.model import Evidence, Indicator, Status

FAMILY = "ipv6"


def _network_devices(inp: AuditInput) -> list[str]:
    # APs are managed through their controller and rarely polled one by one: they are
    # audited in the wireless family, not here.
    return [d.id for d in inp.devices if d.kind.is_network and d.kind.value != "ap"]


_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")


def global_unicast(addr: str) -> bool:
    """RFC 4291 §2.4 global unicast (2000::/3), documentation prefixes included: the address
    type decides, not whether the prefix is routed on the public Internet (labs and
    simulators use 2001:db8::/32)."""
    try:
        a = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return a.version == 6 and a in _GLOBAL_UNICAST


@dataclass(slots=True)
class AddressTable:
    """A device's addresses as its address table lists them (IP-MIB ipAddressTable, CLI)."""

    global_v6: dict[str, str] = field(default_factory=dict)  # address → interface
    l3_interfaces: set[str] = field(default_factory=set)  # interfaces with any IPv4/global IPv6

    @property
    def v6_interfaces(self) -> set[str]:
        return set(self.global_v6.values())


def _address_tables(inp: AuditInput) -> dict[str, AddressTable]:
    out: dict[str, AddressTable] = {}
    for name in ("ssh_ip_address", "snmp_ip_address"):
        for m in inp.latest(name, current_only=True):
            dev, addr = m.tags.get("device"), m.tags.get("address", "")
            if not dev:
                continue
            ifc = m.tags.get("ifindex") or m.tags.get("ifname") or "?"
            table = out.setdefault(dev, AddressTable())
            if global_unicast(addr):
                table.global_v6[addr] = ifc
                table.l3_interfaces.add(ifc)
            elif _routable_v4(addr):
                table.l3_interfaces.add(ifc)
    return out


def _routable_v4(addr: str) -> bool:
    try:
        a = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return a.version == 4 and not (a.is_loopback or a.is_link_local or a.is_unspecified)


def device_indicators(inp: AuditInput) -> list[Indicator]:
    # SNMP first; the SSH collector's `ssh_ipv6` (same fields, no forwarding flags) fills in
    # devices that are read over the CLI only
    facts = {**inp.latest_by_device("ssh_ipv6"), **inp.latest_by_device("snmp_ipv6")}
    # the address tables, when published, decide what counts as global (2000::/3): the
    # summary's own `global_addresses` follows each collector's scope rule. They also say which
    # interfaces are L3 (an address on them: VLAN interfaces, routed ports), the population
    # of the interface share; without a table the summary's interface counts are used.
    tables = _address_tables(inp)
    mgmt_ev: list[Evidence] = []
    fwd_ev: list[Evidence] = []
    if_ev: list[Evidence] = []
    with_addr = measured = routers = v6_routers = 0
    ifs_total = ifs_v6 = 0.0
    for dev_id in _network_devices(inp):
        d = inp.device(dev_id)
        b = (d.building or "") if d else ""
        m = facts.get(dev_id)
        if m is None:
            mgmt_ev.append(Evidence(dev_id, "device", Status.UNKNOWN,
                                    "no snmp_ipv6 / ssh_ipv6 data", b))
            continue
        measured += 1
        table = tables.get(dev_id)
        if table is not None:
            g = float(len(table.global_v6))
            n_ifs, g_ifs = float(len(table.l3_interfaces)), float(len(table.v6_interfaces))
            how, what = "address table, 2000::/3", "L3 interfaces"
        else:
            g = num(m, "global_addresses") or 0.0
            n_ifs = num(m, "interfaces") or 0.0
            g_ifs = num(m, "interfaces_with_global_ipv6") or 0.0
            how, what = m.name, "interfaces"
        ok = g > 0
        with_addr += ok
        mgmt_ev.append(Evidence(dev_id, "device", Status.OK if ok else Status.FAIL,
                                f"{int(g)} global IPv6 address(es) ({how})", b))
        ifs_total += n_ifs
        ifs_v6 += g_ifs
        if n_ifs:
            if_ev.append(Evidence(dev_id, "device", Status.OK if g_ifs >= n_ifs else
                                  Status.FAIL, f"{int(g_ifs)} of {int(n_ifs)} {what} with a "
                                  f"global IPv6 address ({how})", b))
        v4f, v6f = num(m, "ipv4_forwarding"), num(m, "ipv6_forwarding")
        if v4f == 1:  # a device that routes IPv4 should route IPv6 too (dual stack, a5/b2)
            routers += 1
            v6_routers += v6f == 1
            fwd_ev.append(Evidence(dev_id, "device", Status.OK if v6f == 1 else Status.FAIL,
                                   "ipv6 forwarding on" if v6f == 1 else "ipv6 forwarding off",
                                   b))
    unknown = sum(e.status is Status.UNKNOWN for e in mgmt_ev)
    return [
        Indicator("ipv6_device_global_address", FAMILY, "网络设备具有全局IPv6地址比例",
                  "Network devices with a global IPv6 address", share(with_addr, measured), "%",
                  target=S.IPV6_ALL_NETWORKS, numerator=with_addr, denominator=measured,
                  counted="devices",
                  evidence=tuple(mgmt_ev), unknown=unknown,
                  note="devices without SNMP IPv6 data are listed as unknown, not counted"),
        Indicator("ipv6_forwarding", FAMILY, "IPv4路由设备同时转发IPv6比例",
                  "IPv4-routing devices that also forward IPv6", share(v6_routers, routers), "%",
                  target=S.IPV6_ALL_NETWORKS, numerator=v6_routers, denominator=routers,
                  counted="devices",
                  evidence=tuple(fwd_ev)),
        Indicator("ipv6_interfaces", FAMILY, "三层接口/VLAN具有全局IPv6地址比例",
                  "L3 interfaces / VLANs with a global IPv6 address", share(ifs_v6, ifs_total),
                  "%", numerator=ifs_v6, denominator=ifs_total, evidence=tuple(if_ev),
                  note=S.NO_TARGET_GENERIC + "; L3 = interfaces holding an IPv4 or global "
                  "IPv6 address in the device's address table", counted="interfaces"),
    ]


# The collector reads IP-MIB's ipSystemStats/ipIfStats HC octet counters: always 64-bit.
_IP_STATS_BITS = 64


def _octet_deltas(points: Sequence[Metric]) -> tuple[float, int]:
    """In + out octets over the window and the number of resets; each direction is its own
    counter (a wrap of one is not a wrap of their sum)."""
    total, resets = 0.0, 0
    for name in ("in_octets", "out_octets"):
        d = deltas([(p.ts_ns, v) for p in points if (v := num(p, name)) is not None],
                   _IP_STATS_BITS)
        total += d.total
        resets += d.resets
    return total, resets


def egress_traffic_indicator(inp: AuditInput) -> Indicator:
    """Δ IPv6 octets / Δ all octets (in + out) on the egress links over the window (b, e.1)."""
    links, _ = egress_links(inp)
    per_if = inp.series("snmp_ip_if_traffic")
    per_sys = inp.series("snmp_ip_traffic")
    v6 = total = 0.0
    ev: list[Evidence] = []
    resets = 0

    def add(name: str, groups: list[tuple[str, list[Metric]]], how: str) -> None:
        nonlocal v6, total, resets
        sums = {"ipv4": 0.0, "ipv6": 0.0}
        for version, pts in groups:
            volume, n_resets = _octet_deltas(pts)
            resets += n_resets
            if version in sums:
                sums[version] += volume
        v6 += sums["ipv6"]
        total += sums["ipv4"] + sums["ipv6"]
        s = share(sums["ipv6"], sums["ipv4"] + sums["ipv6"])
        ev.append(Evidence(name, "link", Status.INFO,
                           f"{how}: IPv6 {sums['ipv6'] / 1e9:.3f} GB of "
                           f"{(sums['ipv4'] + sums['ipv6']) / 1e9:.3f} GB"
                           + (f" ({s:.2f}%)" if s is not None else "")))

    done_devices: set[str] = set()
    for link in links:
        groups = [(dict(k).get("ip_version", ""), pts) for k, pts in per_if.items()
                  if dict(k).get("device") == link.device.id
                  and (dict(k).get("ifname") == link.ifname
                       or (link.ifindex and dict(k).get("ifindex") == link.ifindex))]
        if groups:
            add(link.id, groups, "ipIfStatsTable on the egress interface")
            done_devices.add(link.device.id)
    for d in egress_devices(inp):
        if d.id in done_devices:
            continue
        groups = [(dict(k).get("ip_version", ""), pts) for k, pts in per_sys.items()
                  if dict(k).get("device") == d.id]
        if groups:
            add(d.id, groups, "ipSystemStatsTable of the egress device")
    note = ""
    if not egress_devices(inp):
        note = "no egress link declared in the inventory (role egress)"
    elif total == 0:
        note = "no IP-MIB per-version octets from the egress device(s) in the window"
    if resets:
        note = (note + "; " if note else "") + f"{resets} counter reset(s) skipped"
    return Indicator(
        "ipv6_egress_traffic_share", FAMILY, "出口IPv6流量占比", "IPv6 share of egress traffic",
        share(v6, total), "%", target=S.IPV6_EGRESS_SHARE_2025, references=S.IPV6_EGRESS_REFS,
        numerator=v6, denominator=total, evidence=tuple(ev), note=note)


def web_indicator(inp: AuditInput) -> Indicator:
    ev = []
    passed = n = 0
    for m in sorted(inp.latest("web_ipv6_support"), key=lambda m: m.tags.get("site", "")):
        site = m.tags.get("site", "?")
        ok = num(m, "pass") == 1
        n += 1
        passed += ok
        details = ", ".join(f"{k}={num(m, k):g}" for k in ("aaaa", "homepage_ipv6", "ns_ipv6",
                                                          "success_ratio")
                            if num(m, k) is not None)
        ev.append(Evidence(site, "site", Status.OK if ok else Status.FAIL, details,
                           m.tags.get("building", "")))
    return Indicator(
        "web_ipv6_support", FAMILY, "校园网站/服务通过IPv6支持度测试比例",
        "Campus websites / services passing the IPv6 support test", share(passed, n), "%",
        target=S.WEB_IPV6_ALL, references=S.CERNET_PORTAL_REF, numerator=passed,
        denominator=n, evidence=tuple(ev), counted="sites",
        note="" if n else "no web_ipv6_support results (no sites probed)")


def iot_indicator(inp: AuditInput) -> Indicator:
    """IoT devices with IPv6: declared in the inventory, or seen with one in a neighbour table."""
    seen_v6: dict[str, str] = {}  # mac → address, from ipNetToPhysicalTable via snmp_fdb
    for m in inp.latest("snmp_fdb", current_only=True):
        ip, mac = m.tags.get("ip", ""), m.tags.get("mac", "").lower()
        if mac and global_unicast(ip):
            seen_v6[mac] = ip
    iot_ids = {d.id for d in inp.devices if d.kind.is_iot}
    for m in inp.latest("iot_device"):
        dev = m.tags.get("device")
        if dev and inp.device(dev) is not None:
            iot_ids.add(dev)
    ev = []
    yes = 0
    for dev_id in sorted(iot_ids):
        d = inp.device(dev_id)
        if d is None:
            continue
        if d.ipv6:
            yes += 1
            ev.append(Evidence(d.id, "device", Status.OK, f"inventory IPv6 {d.ipv6}",
                               d.building or "", "inventory ipv6"))
        elif d.mac and d.mac in seen_v6:
            yes += 1
            ev.append(Evidence(d.id, "device", Status.OK, f"seen with {seen_v6[d.mac]}",
                               d.building or "", "neighbour table (snmp_fdb ip)"))
        else:
            ev.append(Evidence(d.id, "device", Status.FAIL, "no IPv6 address known",
                               d.building or ""))
    return Indicator(
        "iot_ipv6", FAMILY, "物联网设备支持IPv6比例", "IoT devices with IPv6",
        share(yes, len(ev)), "%", numerator=yes, denominator=len(ev), evidence=tuple(ev),
        counted="devices",
        note="no target: b3/b5/b8 give national IoT IPv6 connection counts, not a share")


def ap_indicator(inp: AuditInput) -> Indicator:
    """APs (as their controllers list them) with a global IPv6 management address."""
    ev = []
    for m in sorted(inp.latest("wlan_ap", current_only=True),
                    key=lambda m: m.tags.get("ap_name", "")):
        t = m.tags
        name = t.get("ap_name") or t.get("ap_mac", "?")
        addr = t.get("ap_ipv6", "")
        ok = global_unicast(addr)
        ev.append(Evidence(name, "device", Status.OK if ok else Status.FAIL,
                           f"IPv6 management address {addr}" if ok else
                           "no global IPv6 management address listed by the controller",
                           t.get("building", ""), f"controller {t.get('device', '?')}"))
    yes = sum(e.status is Status.OK for e in ev)
    return Indicator(
        "ipv6_ap_management", FAMILY, "AP具有全局IPv6管理地址比例",
        "APs with a global IPv6 management address", share(yes, len(ev)), "%",
        target=S.IPV6_ALL_NETWORKS, numerator=yes, denominator=len(ev), evidence=tuple(ev),
        counted="APs", note="" if ev else "no wlan_ap data from a controller")


def indicators(inp: AuditInput) -> list[Indicator]:
    return [*device_indicators(inp), ap_indicator(inp), egress_traffic_indicator(inp),
            web_indicator(inp), iot_indicator(inp)]
