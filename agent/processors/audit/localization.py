"""Localization (国产化) per category: share of domestic items, each with the rule that decided.

Items: inventory devices by kind (network, wireless, security, servers, terminals, IoT), host
operating systems and CPUs (`host_identity`, rules d.2/d.3 of agent/shared/platforms.py),
servers' CPUs, OSs, databases and middleware (`server_platform`: SNMP HOST-RESOURCES and SSH,
rules d.2-d.4 in agent/shared/platforms.py), terminals' OS family from their DHCP fingerprints
(`terminal_os`, d.5; a terminal seen on the LAN replaces the inventory row of its MAC),
terminals' OS and CPU as the asset register states them (labels `os` / `cpu`, d.3 name and
d.2 model rules), and information systems declared in the inventory (a device label `system`
names the system hosted there, `system_vendor` its developer). SNMP classification
(`snmp_device_info` domestic and domestic_rule, d.1) wins over the declared vendor. `unknown`
items are counted apart and left out of the share's denominator: the share is domestic /
(domestic + foreign).
"""

from __future__ import annotations

from collections.abc import Callable

from agent.processors.audit import standards as S
from agent.processors.audit.counters import share
from agent.processors.audit.inputs import AuditInput
from agent.processors.audit.model import Evidence, Indicator, Status
from agent.processors.audit.vendors import classify_vendor
from agent.shared import platforms
from agent.shared.iotclasses import is_iot_device
from inventory.models import Device, DeviceKind

FAMILY = "localization"

_STATUS = {"yes": Status.OK, "no": Status.FAIL}

DEVICE_CATEGORIES: tuple[tuple[str, str, str, Callable[[Device], bool]], ...] = (
    ("network", "网络设备", "Network devices",
     lambda d: d.kind.is_switch or d.kind is DeviceKind.ROUTER),
    ("wireless", "无线设备", "Wireless",
     lambda d: d.kind in (DeviceKind.AP, DeviceKind.WLAN_CONTROLLER)),
    ("security", "安全设备", "Security devices", lambda d: d.kind is DeviceKind.FIREWALL),
    ("servers", "服务器", "Servers", lambda d: d.kind is DeviceKind.SERVER),
    ("terminals", "终端", "Terminals", lambda d: d.kind is DeviceKind.TERMINAL),
    ("iot", "物联网设备", "IoT devices", is_iot_device),
)


def _indicator(cat: str, zh: str, en: str, items: list[Evidence]) -> Indicator:
    yes = sum(e.status is Status.OK for e in items)
    no = sum(e.status is Status.FAIL for e in items)
    unknown = sum(e.status is Status.UNKNOWN for e in items)
    return Indicator(
        f"localization_{cat}", FAMILY, f"国产化率：{zh}", f"Domestic share: {en}",
        share(yes, yes + no), "%", numerator=yes, denominator=yes + no, counted="items",
        evidence=tuple(sorted(items, key=lambda e: e.subject)), unknown=unknown,
        note=S.NO_TARGET_LOCALIZATION + f"; {unknown} unknown item(s) counted apart")


def _device_item(inp: AuditInput, d: Device, snmp: dict[str, dict[str, str]]) -> Evidence:
    t = snmp.get(d.id)
    if t and t.get("domestic") in ("yes", "no"):
        vendor = t.get("detected_vendor", "?")
        return Evidence(d.id, "device", _STATUS[t["domestic"]],
                        f"identified vendor {vendor}", d.building or "",
                        t.get("domestic_rule", "device identification"))
    domestic, rule = classify_vendor(d.vendor)
    return Evidence(d.id, "device", _STATUS.get(domestic, Status.UNKNOWN),
                    f"declared vendor {d.vendor or '-'}", d.building or "", rule)


def _platform_items(inp: AuditInput) -> dict[str, list[Evidence]]:
    """`server_platform` rows (SNMP HOST-RESOURCES, SSH) per category: one item per server and
    CPU/OS (the newest poll's), one per server and product for databases and middleware."""
    out: dict[str, list[Evidence]] = {"cpu": [], "os": [], "database": [], "middleware": []}
    seen: set[tuple[str, str, str]] = set()
    for m in sorted(inp.latest("server_platform", current_only=True), key=lambda m: -m.ts_ns):
        t = m.tags
        cat, dev = t.get("category", ""), t.get("device") or t.get("target", "?")
        product = t.get("product", "")
        key = (cat, dev, product if cat in ("database", "middleware") else "")
        if cat not in out or key in seen:
            continue
        seen.add(key)
        out[cat].append(Evidence(
            dev, "server", _STATUS.get(t.get("domestic", ""), Status.UNKNOWN),
            f"{t.get('platform_vendor', '?')} {product} (via {t.get('source', '?')})".strip(),
            t.get("building", ""), t.get("rule", "")))
    return out


def _terminal_items(inp: AuditInput) -> dict[str, Evidence]:
    """`terminal_os` rows (DHCP fingerprints) by MAC; unknown families stay `unknown`."""
    out: dict[str, Evidence] = {}
    # a terminal the inventory (asset register) knows by MAC is placed in its building
    building_of = {(d.mac or "").lower(): d.building or "" for d in inp.devices if d.mac}
    for m in sorted(inp.latest("terminal_os"), key=lambda m: m.ts_ns):
        t = m.tags
        mac = t.get("mac", "").lower()
        if not mac:
            continue
        conf = m.fields.get("confidence_ratio", 0)
        out[mac] = Evidence(
            mac, "terminal", _STATUS.get(t.get("domestic", ""), Status.UNKNOWN),
            f"{t.get('os_family', '?')} (confidence {conf}; {t.get('evidence', '')})",
            t.get("building") or building_of.get(mac, ""), t.get("rule", ""))
    return out


def _register_items(inp: AuditInput) -> tuple[list[Evidence], list[Evidence]]:
    """Terminals' OS and CPU as the school's asset register states them (inventory labels
    `os` / `cpu`, the register CSV's columns of those names), classified by the d.3 name and
    d.2 model rules; a name no rule knows is an `unknown` item (counted apart), a terminal the
    register says nothing about is no item."""
    os_items: list[Evidence] = []
    cpu_items: list[Evidence] = []
    for d in inp.devices:
        if d.kind is not DeviceKind.TERMINAL:
            continue
        b = d.building or ""
        if d.labels.get("os"):
            v = platforms.os_from_name(d.labels["os"])
            os_items.append(Evidence(d.id, "terminal", _STATUS.get(v.domestic, Status.UNKNOWN),
                                     f"{v.vendor} {v.product} (asset register)", b, v.rule))
        if d.labels.get("cpu"):
            v = platforms.cpu_from_model(d.labels["cpu"])
            cpu_items.append(Evidence(d.id, "terminal", _STATUS.get(v.domestic, Status.UNKNOWN),
                                      f"{v.vendor} {v.product} (asset register)", b, v.rule))
    return os_items, cpu_items


def indicators(inp: AuditInput) -> list[Indicator]:
    # SNMP identification first, then the SSH collector's (both apply the d.1 rules)
    snmp = {m.tags["device"]: dict(m.tags)
            for name in ("ssh_device_info", "snmp_device_info")
            for m in sorted(inp.latest(name), key=lambda m: m.ts_ns) if m.tags.get("device")
            and m.tags.get("domestic") in ("yes", "no")}
    out = []
    terminals = _terminal_items(inp)
    for cat, zh, en, pred in DEVICE_CATEGORIES:
        items = [_device_item(inp, d, snmp) for d in inp.devices if pred(d)
                 and not (cat == "terminals" and (d.mac or "").lower() in terminals)]
        if cat == "terminals":
            items += terminals.values()
        out.append(_indicator(cat, zh, en, items))
    platform = _platform_items(inp)
    os_items, cpu_items = list(platform["os"]), list(platform["cpu"])
    for m in inp.latest("host_identity"):
        t = m.tags
        host = t.get("device") or t.get("host") or t.get("target") or t.get("campus", "?")
        b = t.get("building", "")
        os_items.append(Evidence(host, "host", _STATUS.get(t.get("os_domestic", ""),
                                                           Status.UNKNOWN),
                                 f"{t.get('os_vendor', '?')} {t.get('os_name', '')}".strip(),
                                 b, t.get("os_rule", "")))
        cpu_items.append(Evidence(host, "host", _STATUS.get(t.get("cpu_domestic", ""),
                                                            Status.UNKNOWN),
                                  f"{t.get('cpu_vendor', '?')} {t.get('cpu_model', '')}".strip(),
                                  b, t.get("cpu_rule", "")))
    reg_os, reg_cpu = _register_items(inp)
    os_items += reg_os
    cpu_items += reg_cpu
    out.append(_indicator("os", "操作系统", "Operating systems", os_items))
    out.append(_indicator("cpu", "CPU", "CPUs", cpu_items))
    out.append(_indicator("database", "数据库", "Databases", platform["database"]))
    out.append(_indicator("middleware", "中间件", "Middleware", platform["middleware"]))
    sys_items = []
    stack: dict[str, list[Evidence]] = {}  # hosting server → its database/middleware items
    for e in (*platform["database"], *platform["middleware"]):
        stack.setdefault(e.subject, []).append(e)
    fronts = {m.tags.get("system", ""): m for m in sorted(inp.latest("info_system_http"),
                                                         key=lambda m: m.ts_ns)}
    for d in inp.devices:
        name = d.labels.get("system")
        if not name:
            continue
        domestic, rule = classify_vendor(d.labels.get("system_vendor"))
        detail = f"on {d.id}, developer {d.labels.get('system_vendor', '-')}"
        hosted = list(stack.get(d.id, []))
        front = fronts.get(name)
        if front is not None:
            t = front.tags
            if t.get("rule", "").startswith("d.4"):  # the web front names its middleware
                hosted.append(Evidence(name, "system", _STATUS.get(t.get("domestic", ""),
                                                                   Status.UNKNOWN),
                                       f"{t.get('platform_vendor')} {t.get('product')}",
                                       d.building or "", t["rule"]))
            if front.fields.get("tls_sm2"):
                detail += "; SM2 (国密) certificate"
            elif t.get("tls_issuer"):
                detail += f"; TLS issuer {t['tls_issuer']}"
        if domestic == "unknown" and hosted:
            # joined with the hosting server's facts: the system runs on what it runs on —
            # domestic when its database and middleware all are, foreign when one is not
            known = [e for e in hosted if e.status is not Status.UNKNOWN]
            if known:
                domestic = "no" if any(e.status is Status.FAIL for e in known) else "yes"
                rule = f"hosted on {d.id}: " + ", ".join(
                    f"{e.detail.split(' (via')[0]} [{e.rule}]" for e in known)
                detail += "; " + ", ".join(e.detail.split(" (via")[0] for e in known)
        sys_items.append(Evidence(name, "system", _STATUS.get(domestic, Status.UNKNOWN),
                                  detail, d.building or "", rule))
    out.append(_indicator("systems", "信息系统", "Information systems", sys_items))
    return out
