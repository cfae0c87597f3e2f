"""One discovery pass on one interface, and its configuration: what the `lan_discovery`
listener repeats and what `campusmon discover` runs once."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from pydantic import Field

from agent.core.errors import ConfigError
from agent.core.model import ErrorType
from config.base import StrictModel
from inventory.models import Inventory
from probes.discovery.analyse import Discovery, analyse
from probes.discovery.model import Observation
from probes.discovery.oui import DEFAULT_PATH, OuiTable

log = logging.getLogger("campusmon.discovery")
MAX_OBSERVATIONS = 65536  # distinct facts kept between two passes of one interface


class DiscoveryConfig(StrictModel):
    interfaces: list[str] = Field(min_length=1)
    sweep_interval_secs: float = Field(default=300.0, gt=0)
    # wait for answers after sending; DHCP servers such as dnsmasq ping an address for up to
    # 3 s before they offer it
    listen_secs: float = Field(default=5.0, gt=0, le=60)
    arp_sweep: bool = True
    max_sweep_hosts: int = Field(default=1024, ge=1, le=65536)  # larger subnets are skipped
    ndp: bool = True
    dhcp_probe: bool = True
    allowed_routers: list[str] = Field(default_factory=list)  # MACs or addresses
    allowed_dhcp_servers: list[str] = Field(default_factory=list)  # MACs or addresses
    oui_path: Path = DEFAULT_PATH
    resolve_after_passes: int = Field(default=2, ge=1)


@dataclass(slots=True)
class IfaceInfo:
    name: str
    mac: str
    ipv4: list[ipaddress.IPv4Interface] = field(default_factory=list)
    ipv6: list[str] = field(default_factory=list)  # without scope

    @property
    def link_local(self) -> str | None:
        return next((a for a in self.ipv6 if a.startswith("fe80:")), None)


def iface_info(name: str) -> IfaceInfo:
    addrs = psutil.net_if_addrs().get(name)
    if addrs is None:
        raise ConfigError.one("discovery", f"no interface '{name}' in this network namespace")
    info = IfaceInfo(name, "")
    for a in addrs:
        if a.family == psutil.AF_LINK:
            info.mac = a.address.lower()
        elif a.family == socket.AF_INET and a.netmask:
            info.ipv4.append(ipaddress.IPv4Interface(f"{a.address}/{a.netmask}"))
        elif a.family == socket.AF_INET6:
            info.ipv6.append(a.address.split("%", 1)[0])
    return info


def _sweep_targets(info: IfaceInfo, limit: int, notes: list[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for itf in info.ipv4:
        net = itf.network
        if net.num_addresses - 2 > limit:
            notes.append(f"{net} has more than {limit} hosts: ARP sweep skipped "
                         "(raise max_sweep_hosts), passive listening only")
            continue
        out.extend((str(itf.ip), str(h)) for h in net.hosts() if h != itf.ip)
    return out


class Pass:
    """One interface: the sniffer and the observations gathered since the last analysis."""

    def __init__(self, iface: str, cfg: DiscoveryConfig, inventory: Inventory,
                 oui: OuiTable) -> None:
        self.iface, self.cfg, self.inventory, self.oui = iface, cfg, inventory, oui
        self.info = iface_info(iface)
        # distinct observations only (a busy LAN repeats the same ARP/NDP facts all day),
        # bounded between passes
        self.observations: dict[Observation, None] = {}
        self.dropped = 0
        self.capture: Any = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        from probes.discovery import client  # scapy loads only where discovery runs
        self.capture = client.Capture(self.iface, self.info.mac, self._observe)
        self.capture.start(loop)

    async def wait_started(self, timeout_s: float = 10.0) -> None:
        """Until the sniffer's socket is open, so the answers to our probes are not missed."""
        if self.capture is not None and not await asyncio.to_thread(
                self.capture.started.wait, timeout_s):
            log.warning("sniffer on %s not started after %.0fs", self.iface, timeout_s)

    def stop(self) -> None:
        if self.capture is not None:
            self.capture.stop()
            self.capture = None

    async def probe(self) -> list[str]:
        """Send this pass's active probes; returns notes (skipped sweeps)."""
        from probes.discovery import client
        notes: list[str] = []
        self.info = iface_info(self.iface)  # addresses may have changed
        frames: list[Any] = []
        if self.cfg.arp_sweep:
            by_src: dict[str, list[str]] = {}
            for src, dst in _sweep_targets(self.info, self.cfg.max_sweep_hosts, notes):
                by_src.setdefault(src, []).append(dst)
            for src, dsts in by_src.items():
                frames += client.arp_sweep_frames(self.info.mac, src, dsts)
        if self.cfg.ndp and self.info.ipv6:
            nets = [ipaddress.IPv6Interface(f"{a}/64").network for a in self.info.ipv6
                    if not a.startswith("fe80:")]
            expected = sorted({d.ipv6 for d in self.inventory.devices if d.ipv6 and any(
                ipaddress.IPv6Address(d.ipv6) in n for n in nets)})
            frames += client.ndp_frames(self.info.mac, self.info.ipv6, expected)
        if self.cfg.dhcp_probe:
            frames += client.dhcp_frames(self.info.mac, self.info.link_local)
        await asyncio.to_thread(client.send_frames, self.iface, frames)
        return notes

    def take(self) -> list[Observation]:
        obs = list(self.observations)
        self.observations.clear()
        if self.dropped:
            log.warning("%s: %d observations over the limit of %d were dropped this pass",
                        self.iface, self.dropped, MAX_OBSERVATIONS)
            self.dropped = 0
        return obs

    def _observe(self, o: Observation) -> None:
        if len(self.observations) < MAX_OBSERVATIONS or o in self.observations:
            self.observations[o] = None
        else:
            self.dropped += 1

    def analyse(self, observations: Sequence[Observation]) -> Discovery:
        return analyse(self.iface, observations, self.inventory, self.cfg.allowed_routers,
                       self.cfg.allowed_dhcp_servers, self.oui, ignore_macs=[self.info.mac])


async def discover_once(iface: str, cfg: DiscoveryConfig, inventory: Inventory) -> dict[str, Any]:
    """One pass for the `discover` command: listen, probe, wait, analyse."""
    p = Pass(iface, cfg, inventory, OuiTable(cfg.oui_path))
    try:
        p.start(asyncio.get_running_loop())
    except PermissionError as exc:
        return {"interface": iface, "error_type": ErrorType.PERMISSION.value,
                "detail": f"discovery needs CAP_NET_RAW (packet sockets): {exc}"}
    stats = p.capture.stats
    try:
        await p.wait_started()
        notes = await p.probe()
        await asyncio.sleep(cfg.listen_secs)
        await asyncio.to_thread(p.capture.wait_quiet, 0.3, cfg.listen_secs)
    finally:
        await asyncio.to_thread(p.stop)
    result = p.analyse(p.take())
    result.notes.extend(notes)
    doc = result.to_json()
    # frames the bounded parsers refused (hostile or broken NBNS/LLDP/DHCP …): counted, dropped
    doc["capture"] = {"packets": stats.packets, "bad_frames": stats.bad}
    return doc
