"""The `lan_discovery` listener: passive listening plus periodic active passes per interface.

A sniffer per configured interface runs for the agent's life (passive: ARP, NDP, RA, DHCP).
Every `sweep_interval_secs` a pass sends an ARP sweep of the interface's IPv4 subnets, NDP
multicast echoes and neighbour solicitations for the inventory's IPv6 addresses, a router
solicitation, a DHCPDISCOVER and a DHCPv6 SOLICIT, waits `listen_secs`, and compares everything
seen since the last pass with the inventory (analyse.py). It emits `lan_hosts` and Events:
raised when a condition first appears, resolved after `resolve_after_passes` passes without it.
Needs CAP_NET_RAW; without it the listener reports PERMISSION once per pass and stays up.
"""

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
from agent.core.model import ErrorType, Event, EventState, Item
from agent.core.plugin import BuildContext, ListenerContext, PluginKind, PluginSpec
from config.base import StrictModel
from inventory.models import Inventory
from probes.discovery.analyse import Discovery, analyse
from probes.discovery.measurements import MEASUREMENTS
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
    try:
        await p.wait_started()
        notes = await p.probe()
        await asyncio.sleep(cfg.listen_secs)
        await asyncio.to_thread(p.capture.wait_quiet, 0.3, cfg.listen_secs)
    finally:
        await asyncio.to_thread(p.stop)
    result = p.analyse(p.take())
    result.notes.extend(notes)
    return result.to_json()


class LanDiscovery:
    def __init__(self, cfg: DiscoveryConfig, inventory: Inventory) -> None:
        self.cfg = cfg
        self.inventory = inventory
        self.oui = OuiTable(cfg.oui_path)
        self._passes: list[Pass] = []
        self._active: dict[str, tuple[Event, int]] = {}  # key → (event, passes since seen)

    def _transitions(self, events: list[Event]) -> list[Event]:
        out: list[Event] = []
        seen = {e.key for e in events}
        for e in events:
            if e.key not in self._active:
                out.append(e)
            self._active[e.key] = (e, 0)
        for key, (e, missed) in list(self._active.items()):
            if key in seen:
                continue
            if missed + 1 >= self.cfg.resolve_after_passes:
                del self._active[key]
                out.append(Event(e.key, e.kind, EventState.RESOLVED, e.severity,
                                 f"no longer seen: {e.summary}", e.device, e.labels))
            else:
                self._active[key] = (e, missed + 1)
        return out

    async def run(self, ctx: ListenerContext) -> None:
        loop = asyncio.get_running_loop()
        for name in self.cfg.interfaces:
            try:
                p = Pass(name, self.cfg, self.inventory, self.oui)
                p.start(loop)
            except PermissionError:
                ctx.count_error(ErrorType.PERMISSION.value)
                log.error("discovery on %s needs CAP_NET_RAW; skipping it", name)
                continue
            except (ConfigError, OSError) as exc:
                ctx.count_error(ErrorType.UNREACHABLE.value)
                log.error("discovery on %s cannot start: %s", name, exc)
                continue
            await p.wait_started()
            self._passes.append(p)
        if not self._passes:
            await asyncio.Event().wait()  # nothing to do; stay up without busy-looping
        while True:
            for p in self._passes:
                try:
                    await p.probe()
                except (OSError, ConfigError) as exc:
                    ctx.count_error(ErrorType.PERMISSION.value if isinstance(
                        exc, PermissionError) else ErrorType.UNREACHABLE.value)
                    log.warning("discovery on %s: %s", p.iface, exc)
            await asyncio.sleep(self.cfg.listen_secs)
            items: list[Item] = []
            events: list[Event] = []
            for p in self._passes:
                d = p.analyse(p.take())
                items.append(d.metric())
                events += d.events()
            items += self._transitions(events)
            ctx.emit(items)
            await asyncio.sleep(max(0.0, self.cfg.sweep_interval_secs - self.cfg.listen_secs))

    async def close(self) -> None:
        for p in self._passes:
            await asyncio.to_thread(p.stop)
        self._passes.clear()


def build(cfg: DiscoveryConfig, ctx: BuildContext) -> LanDiscovery:
    return LanDiscovery(cfg, ctx.inventory)


SPEC = PluginSpec(
    name="lan_discovery", kind=PluginKind.LISTENER, config_model=DiscoveryConfig, build=build,
    description="LAN discovery (ARP, NDP, passive) vs the inventory; rogue RA and DHCP servers",
    example={"type": "lan_discovery", "interfaces": ["eth1"], "sweep_interval_secs": 600,
             "allowed_routers": ["00:11:22:33:44:55"],
             "allowed_dhcp_servers": ["10.0.0.1"]},
    measurements=MEASUREMENTS,
)
