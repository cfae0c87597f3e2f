"""Write a planned campus: snmprec per device, the inventory YAML, credentials and ground truth."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from collectors.snmp.sim.plan import Ap, CampusPlan, Device
from collectors.snmp.sim.snmprec import render

INVENTORY = "inventory.yaml"
CREDENTIALS = "credentials.yaml"
TRUTH = "truth.json"
DATA = "data"


def credential_name(device_id: str) -> str:
    return f"sim-{device_id}"


def _device_entry(d: Device) -> dict[str, Any]:
    e: dict[str, Any] = {"id": d.id, "kind": d.kind.value, "ipv4": d.ipv4}
    if d.ipv6:
        e["ipv6"] = d.ipv6
    e.update({"mac": d.mac, "vendor": d.vendor.name, "model": d.vendor.model,
              "credential": credential_name(d.id)})
    if d.roles:
        e["roles"] = list(d.roles)
    if d.parent:
        e["parent"] = d.parent
    if d.parent_port:
        e["parent_port"] = d.parent_port
    e["labels"] = {"serial": d.serial, "simulated": "yes", **d.labels}
    return e


def _ap_entry(a: Ap, controller: str) -> dict[str, Any]:
    e: dict[str, Any] = {"id": a.id, "kind": "ap", "ipv4": a.ipv4}
    if a.ipv6:
        e["ipv6"] = a.ipv6
    e.update({"mac": a.mac, "vendor": "Huawei", "model": a.model, "parent": a.switch,
              "parent_port": a.switch_port,
              "labels": {"controller": controller, "serial": a.serial, "simulated": "yes"}})
    return e


def inventory_dict(plan: CampusPlan) -> dict[str, Any]:
    controller = next((d.id for d in plan.devices if d.aps), "")
    buildings: list[dict[str, Any]] = []
    for b in plan.buildings:
        rooms = []
        for r in b.rooms:
            room: dict[str, Any] = {"id": r.id, "name": r.name, "kind": r.kind.value,
                                    "floor": r.floor}
            devs = [_device_entry(d) for d in plan.devices if d.room == r.id]
            devs += [_ap_entry(a, controller) for a in plan.aps if a.room == r.id]
            devs += [{"id": tid, "kind": "terminal", "mac": mac, "vendor": maker,
                      "model": model, "labels": {"source": "asset register", "simulated": "yes",
                                                 "os": os_name, "cpu": cpu}}
                     for tid, maker, model, _b, room, mac, os_name, cpu in plan.terminals
                     if room == r.id]
            if devs:
                room["devices"] = devs
            rooms.append(room)
        entry: dict[str, Any] = {"id": b.id, "name": b.name, "rooms": rooms}
        loose = [_device_entry(d) for d in plan.devices if d.building == b.id and d.room is None]
        if loose:
            entry["devices"] = loose
        buildings.append(entry)
    return {
        "campus": {"code": plan.code, "name": plan.name, "province": "Hunan",
                   "students": 8000 + 400 * len(plan.buildings), "staff": 600},
        "defaults": {"owner": "网络中心 Network Centre"},
        "buildings": buildings,
    }


def credentials_list(plan: CampusPlan) -> list[dict[str, str]]:
    """One v2c credential set per device: the simulator's community is the device id."""
    return [{"name": credential_name(d.id), "type": "snmp_v2c", "community": d.community}
            for d in plan.devices]


def truth_dict(plan: CampusPlan) -> dict[str, Any]:
    devices: dict[str, Any] = {}
    for d in plan.devices:
        devices[d.id] = {
            "kind": d.kind.value, "vendor": d.vendor.name,
            "domestic": "yes" if d.vendor.domestic else "no",
            "sys_object_id": d.vendor.sys_object_id, "model": d.vendor.model,
            "serial": d.serial, "firmware": d.vendor.firmware,
            "address": d.ipv4, "port": plan.port, "community": d.community,
            "interfaces": len(d.interfaces),
            "interfaces_up": sum(1 for i in d.interfaces if i.oper_up),
            "ipv6_global_addresses": len(d.ipv6_globals),
            "ipv6_addresses": len(d.ipv6_globals) + (1 if d.ipv6_globals else 0),
            "lldp_neighbors": sorted(n.sys_name for n in d.neighbors),
            "fdb_entries": len(d.fdb),
            "arp_entries": len(d.arp),
            "uplink_ifindex": d.uplink_if,
            # octets/s the counters advance by; bits/s = 8 x
            "rates": {str(i.index): {"name": i.name, "in_octets_per_s": i.in_rate,
                                     "out_octets_per_s": i.out_rate,
                                     "in_bps": i.in_bps, "out_bps": i.out_bps,
                                     "speed_mbps": i.speed_mbps}
                      for i in d.interfaces if i.in_rate or i.out_rate},
        }
    router = next((d for d in plan.devices if "egress" in d.roles), None)
    egress: dict[str, Any] = {}
    if router is not None:
        by_v = {t.version: t for t in router.ip_traffic}
        v4, v6 = by_v[1], by_v[2]
        egress = {
            "device": router.id, "ifindex": router.uplink_if,
            "ipv4_in_bps": v4.in_rate * 8, "ipv4_out_bps": v4.out_rate * 8,
            "ipv6_in_bps": v6.in_rate * 8, "ipv6_out_bps": v6.out_rate * 8,
            "ipv6_share_in": v6.in_rate / (v4.in_rate + v6.in_rate),
            "ipv6_share_out": v6.out_rate / (v4.out_rate + v6.out_rate),
            "ipv6_share": (v6.in_rate + v6.out_rate)
            / (v4.in_rate + v4.out_rate + v6.in_rate + v6.out_rate),
            "uplink_speed_mbps": router.interfaces[0].speed_mbps,
        }
    working = {a.room for a in plan.aps if a.up}
    rooms = [r for b in plan.buildings for r in b.rooms]
    controller = next((d for d in plan.devices if d.aps), None)
    return {
        "campus": plan.code, "seed": plan.seed, "port": plan.port,
        "devices": devices,
        "egress": egress,
        "wlan": {
            "controller": controller.id if controller else None,
            "aps_total": len(plan.aps), "aps_up": sum(1 for a in plan.aps if a.up),
            "clients": sum(a.clients for a in plan.aps if a.up),
            "aps": {a.id: {"mac": a.mac, "room": a.room, "building": a.building,
                           "state": "up" if a.up else "down", "run_state": a.run_state,
                           "clients": a.clients, "ipv6": a.ipv6 is not None}
                    for a in plan.aps},
        },
        "rooms": {
            "with_working_ap": sorted(r.id for r in rooms if r.id in working),
            "without_working_ap": sorted(r.id for r in rooms if r.id not in working),
            "without_ap": sorted(r.id for r in rooms
                                 if not any(a.room == r.id for a in plan.aps)),
        },
        "counts": {
            "switches": sum(1 for d in plan.devices if d.kind.is_switch),
            "snmp_devices": len(plan.devices),
            "domestic_network_devices": sum(1 for d in plan.devices if d.vendor.domestic)
            + len(plan.aps),
            "network_devices": len(plan.devices) + len(plan.aps),
            "dual_stack_devices": sum(1 for d in plan.devices if d.ipv6_globals),
            # the localization audit's security category (firewalls)
            "security_devices": sum(1 for d in plan.devices if d.kind.value == "firewall"),
            "domestic_security_devices": sum(1 for d in plan.devices
                                             if d.kind.value == "firewall" and d.vendor.domestic),
        },
    }


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o644)  # snmpsim reads the data as nobody
    os.replace(tmp, path)


def _yaml(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False)


def write_plan(plan: CampusPlan, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    data = out_dir / DATA
    data.mkdir(exist_ok=True)
    for p in (out_dir, data):
        p.chmod(0o755)
    for stale in data.glob("*.snmprec"):
        stale.unlink()
    for d in plan.devices:
        _write(data / f"{d.community}.snmprec", render(d))
    header = (f"# Simulated campus {plan.code} (seed {plan.seed}), written by "
              "`campusmon sim-campus generate`. Every SNMP device answers on its loopback\n"
              f"# address, port {plan.port}, community = device id (credential sets in "
              f"{CREDENTIALS}).\n")
    _write(out_dir / INVENTORY, header + _yaml(inventory_dict(plan)))
    _write(out_dir / CREDENTIALS, _yaml({"credentials": credentials_list(plan)}))
    _write(out_dir / TRUTH, json.dumps(truth_dict(plan), indent=1, ensure_ascii=False,
                                       sort_keys=True) + "\n")
