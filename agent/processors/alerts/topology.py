"""Who is behind whom: inventory parents, plus what LLDP neighbours and forwarding tables show.

The inventory's `parent`/`parent_port` wins. A device the inventory leaves without a parent gets
one from LLDP (a breadth-first walk outward from the anchors: egress/core devices with no
parent) or, failing that, from the forwarding tables: the switch port where its MAC is learned
with the fewest other MACs (an access port, not a trunk that sees the whole building).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from agent.core.model import Metric
from inventory.models import Device, DeviceKind, Inventory

_ANCHOR_KINDS = frozenset({DeviceKind.ROUTER, DeviceKind.FIREWALL, DeviceKind.CORE_SWITCH})
_NS = 10**9


@dataclass(frozen=True, slots=True)
class Link:
    parent: str
    port: str | None  # the parent's port facing the child, when known


class Topology:
    def __init__(self, inventory: Inventory, *, use_lldp: bool = True, use_fdb: bool = True,
                 fact_ttl_secs: float = 3600.0) -> None:
        self.inv = inventory
        self.use_lldp, self.use_fdb = use_lldp, use_fdb
        self._ttl_ns = int(fact_ttl_secs * _NS)
        self._names: dict[str, str] = {}
        for d in inventory.devices:
            self._names[d.id.lower()] = d.id
            if d.hostname:
                self._names[d.hostname.lower()] = d.id
        # (device, local_port) -> (neighbour device id, seen_ns)
        self._lldp: dict[tuple[str, str], tuple[str, int]] = {}
        # (switch, port, mac) -> seen_ns
        self._fdb: dict[tuple[str, str, str], int] = {}
        self._links: dict[str, Link] | None = None
        self._ports: set[tuple[str, str]] | None = None
        self._next_expiry = 0

    # ------------------------------------------------------------ learning
    def _resolve(self, name: str, chassis: str = "") -> str | None:
        dev = self._names.get(name.lower()) if name else None
        if dev is None and name:
            dev = self._names.get(name.split(".")[0].lower())  # sysName with a domain
        if dev is None and chassis:
            by_mac = self.inv.by_mac(chassis)
            dev = by_mac.id if by_mac else None
        return dev

    def observe(self, m: Metric, now_ns: int) -> None:
        dev = m.tags.get("device")
        if dev is None:
            return
        if self.use_lldp and m.name == "snmp_lldp_neighbor":
            peer = self._resolve(m.tags.get("remote_sys_name", ""), m.tags.get("remote_chassis",
                                                                                ""))
            port = m.tags.get("local_port", "")
            if peer and peer != dev:
                key = (dev, port)
                if self._lldp.get(key, ("", 0))[0] != peer:
                    self._links = None
                self._lldp[key] = (peer, now_ns)
        elif self.use_fdb and m.name == "snmp_fdb":
            mac = m.tags.get("mac", "").lower()
            port = m.tags.get("port", "")
            if mac and port:
                key3 = (dev, port, mac)
                if key3 not in self._fdb:
                    self._links = None
                self._fdb[key3] = now_ns

    def expire(self, now_ns: int) -> None:
        if now_ns < self._next_expiry:
            return
        self._next_expiry = now_ns + min(self._ttl_ns // 10, 60 * _NS)
        horizon = now_ns - self._ttl_ns
        old_l = [k for k, (_, seen) in self._lldp.items() if seen < horizon]
        old_f = [k for k, seen in self._fdb.items() if seen < horizon]
        for k in old_l:
            del self._lldp[k]
        for k3 in old_f:
            del self._fdb[k3]
        if old_l or old_f:
            self._links = None

    # ------------------------------------------------------------ answers
    @property
    def learned(self) -> tuple[int, int]:
        """(LLDP neighbour facts, forwarding-table facts) currently held."""
        return len(self._lldp), len(self._fdb)

    def links(self) -> dict[str, Link]:
        if self._links is None:
            self._links = self._compute()
            self._ports = None
        return self._links

    def parent(self, device: str) -> Link | None:
        return self.links().get(device)

    def is_link_port(self, device: str, port: str) -> bool:
        """Does a link of the topology leave `device` through `port`?"""
        if self._ports is None:
            ports: set[tuple[str, str]] = set()
            for link in self.links().values():
                if link.port:
                    ports.add((link.parent, _norm(link.port)))
            for (dev, local_port) in self._lldp:
                ports.add((dev, _norm(local_port)))
            self._ports = ports
        return (device, _norm(port)) in self._ports

    def ancestors(self, device: str) -> list[Link]:
        """Upstream chain, nearest first; bounded so a cycle in bad data cannot loop."""
        out: list[Link] = []
        seen = {device}
        cur = device
        for _ in range(len(self.inv.devices) + 1):
            link = self.links().get(cur)
            if link is None or link.parent in seen:
                break
            out.append(link)
            seen.add(link.parent)
            cur = link.parent
        return out

    def _compute(self) -> dict[str, Link]:
        links: dict[str, Link] = {}
        for d in self.inv.devices:
            if d.parent:
                links[d.id] = Link(d.parent, d.parent_port)
        if self.use_lldp and self._lldp:
            self._from_lldp(links)
        if self.use_fdb and self._fdb:
            self._from_fdb(links)
        return links

    def _from_lldp(self, links: dict[str, Link]) -> None:
        adj: dict[str, dict[str, str | None]] = {}
        for (dev, port), (peer, _) in self._lldp.items():
            adj.setdefault(dev, {})[peer] = port
            adj.setdefault(peer, {}).setdefault(dev, None)
        for child, link in links.items():
            adj.setdefault(link.parent, {}).setdefault(child, link.port)
            adj.setdefault(child, {}).setdefault(link.parent, None)
        anchors = [d.id for d in self.inv.devices if d.parent is None and _is_anchor(d)]
        queue = deque(anchors)
        reached = set(anchors)
        while queue:
            cur = queue.popleft()
            for peer, via in adj.get(cur, {}).items():
                if peer in reached:
                    continue
                reached.add(peer)
                if peer not in links:
                    links[peer] = Link(cur, via)
                queue.append(peer)

    def _from_fdb(self, links: dict[str, Link]) -> None:
        lldp_ports = {(dev, port) for (dev, port) in self._lldp}
        per_port: dict[tuple[str, str], int] = {}
        for (sw, port, _mac) in self._fdb:
            per_port[(sw, port)] = per_port.get((sw, port), 0) + 1
        best: dict[str, tuple[int, str, str]] = {}
        for (sw, port, mac) in self._fdb:
            if (sw, port) in lldp_ports:
                continue  # a port facing another switch: a trunk, not where the host sits
            dev = self.inv.by_mac(mac)
            if dev is None or dev.id in links or dev.id == sw:
                continue
            cand = (per_port[(sw, port)], sw, port)
            if dev.id not in best or cand < best[dev.id]:
                best[dev.id] = cand
        for dev_id, (_, sw, port) in best.items():
            links[dev_id] = Link(sw, port)


def _is_anchor(d: Device) -> bool:
    return "egress" in d.roles or d.kind in _ANCHOR_KINDS


def behind(topology: Topology, device: str, root_device: str, root_port: str | None) -> bool:
    """Is `device` cut off when `root_device` (or only its `root_port`) goes down?"""
    for link in topology.ancestors(device):
        if link.parent == root_device:
            if root_port is None:
                return True
            return link.port is not None and same_port(link.port, root_port)
    return False


def _norm(port: str) -> str:
    return port.replace(" ", "").lower()


def same_port(a: str, b: str) -> bool:
    return _norm(a) == _norm(b)
