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
import logging

from agent.core.errors import ConfigError
from agent.core.model import ErrorType, Event, EventState, Item
from agent.core.plugin import BuildContext, ListenerContext, PluginKind, PluginSpec
from inventory.models import Inventory
from probes.discovery.cli import register as register_cli
from probes.discovery.measurements import MEASUREMENTS
from probes.discovery.oui import OuiTable
from probes.discovery.passes import DiscoveryConfig, Pass, discover_once

__all__ = ["SPEC", "DiscoveryConfig", "LanDiscovery", "discover_once"]
log = logging.getLogger("campusmon.discovery")


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
                items += d.terminal_metrics()
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
    cli=register_cli,
)
