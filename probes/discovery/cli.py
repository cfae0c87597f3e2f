"""`campusmon discover IFACE [--config FILE]`: one LAN discovery pass, hosts flagged against the
inventory; JSON. Exit 0 when the pass ran, 1 when it could not (no CAP_NET_RAW), 2 on bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
from pathlib import Path
from typing import Any

from agent.core.plugin import CliContext
from probes.clitools import dump, inventory_of
from probes.discovery.passes import DiscoveryConfig, discover_once


def cmd_discover(args: argparse.Namespace, ctx: CliContext) -> int:
    cfg_doc: dict[str, Any] = {"interfaces": [args.iface], "listen_secs": args.listen_secs}
    if args.allowed_router:
        cfg_doc["allowed_routers"] = args.allowed_router
    if args.allowed_dhcp:
        cfg_doc["allowed_dhcp_servers"] = args.allowed_dhcp
    base = _discovery_section(args.config, ctx) if args.config else {}
    cfg = DiscoveryConfig.model_validate({**base, **cfg_doc})
    doc = asyncio.run(discover_once(args.iface, cfg, inventory_of(args.config, ctx.registry)))
    dump(doc)
    return 1 if "error_type" in doc else 0


def _discovery_section(config: str, ctx: CliContext) -> dict[str, Any]:
    """The first `lan_discovery` input of the config (allowed lists, sweep options)."""
    from config.loader import load_config
    loaded = load_config(Path(config), ctx.registry)
    for inst in loaded.inputs:
        if inst.spec.name == "lan_discovery":
            dumped: dict[str, Any] = inst.config.model_dump(mode="json")
            dumped.pop("interfaces", None)
            return dumped
    return {}


def register(sub: Any, ctx: CliContext) -> None:
    sp = sub.add_parser("discover", help="one LAN discovery pass on IFACE (needs CAP_NET_RAW); "
                                         "hosts flagged against the inventory; JSON")
    sp.add_argument("iface")
    sp.add_argument("--config", "-c", help="agent config: inventory and lan_discovery options")
    sp.add_argument("--listen-secs", type=float, default=5.0,
                    help="how long to wait for answers and listen passively")
    sp.add_argument("--allowed-router", action="append", help="MAC or link-local address")
    sp.add_argument("--allowed-dhcp", action="append", help="server MAC or address")
    sp.set_defaults(func=functools.partial(cmd_discover, ctx=ctx))
