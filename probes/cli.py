"""One-shot commands for admins and tests; each prints one JSON document on stdout.

    campusmon probe TARGET [--family ipv4|ipv6|both]   every applicable probe, per family
    campusmon ipv6-check URL                            the website IPv6-support test
    campusmon discover IFACE [--config FILE]            one LAN discovery pass vs the inventory

Exit status: 0 when the check ran and passed (probe: something answered; ipv6-check: the site
passed; discover: the pass ran), 1 when it ran and failed (discover: no CAP_NET_RAW), 2 on bad
input.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agent.core.errors import ConfigError
from probes.common import is_ip


def _dump(doc: Any) -> None:
    json.dump(doc, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


def _inventory(config: str | None) -> Any:
    from inventory.models import Inventory
    if not config:
        return Inventory.empty()
    from agent.app.builtins import builtin_registry
    from config.loader import load_config
    return load_config(Path(config), builtin_registry()).inventory


def cmd_probe(args: argparse.Namespace) -> int:
    from agent.core.plugin import Target
    from probes.dualstack.config import DualStackConfig
    from probes.dualstack.engine import Engine
    from probes.dualstack.plan import Plan, plan_for

    cfg = DualStackConfig.model_validate({
        "family": args.family, "resolvers": args.resolver or [],
        "icmp": {"count": args.count, "timeout_secs": args.timeout},
        "tcp": {"timeout_secs": args.timeout}, "dns": {"timeout_secs": args.timeout},
        "http": {"timeout_secs": max(args.timeout, 5.0), "verify_tls": not args.insecure}})
    target: str = args.target
    inv = _inventory(args.config)
    dev = inv.device(target)
    if dev is not None:
        plan = plan_for(Target(id=dev.id, device=dev, ipv4=dev.ipv4, ipv6=dev.ipv6,
                               hostname=dev.hostname), cfg)
    elif "://" in target:
        parts = urlsplit(target)
        if not parts.hostname or parts.scheme not in ("http", "https"):
            raise ConfigError.one("probe", f"not an http(s) URL: {target}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host = parts.hostname
        plan = Plan(target, hostname=None if is_ip(host) else host,
                    ipv4=host if is_ip(host) and ":" not in host else None,
                    ipv6=host if ":" in host else None, tcp_ports=(port,), urls=(target,))
    else:
        plan = Plan(target, hostname=None if is_ip(target) else target,
                    ipv4=target if is_ip(target) and ":" not in target else None,
                    ipv6=target if ":" in target else None)
    plan = Plan(plan.target, plan.hostname, plan.ipv4, plan.ipv6, not args.no_icmp,
                tuple(sorted({*plan.tcp_ports, *(args.port or [])})),
                tuple(args.dns_name or plan.dns_names), tuple([*plan.urls, *(args.url or [])]))

    async def run() -> dict[str, object]:
        eng = Engine(cfg)
        try:
            return (await eng.run(plan)).to_json()
        finally:
            eng.close()
    doc = asyncio.run(run())
    _dump(doc)
    fams = doc["families"]
    assert isinstance(fams, dict)
    ok = any(p["ok"] for f in fams.values() for p in f["probes"])
    return 0 if ok else 1


def cmd_ipv6_check(args: argparse.Namespace) -> int:
    from probes.web_ipv6.check import SiteCheck
    from probes.web_ipv6.config import WebIpv6Options

    opts = WebIpv6Options.model_validate({
        "resolvers": args.resolver or [], "tries": args.tries,
        "timeout_secs": args.timeout, "verify_tls": not args.insecure,
        "max_links_per_level": args.max_links})
    result = asyncio.run(SiteCheck(args.url, opts).run())
    _dump(result.to_json_dict())
    return 0 if result.passed else 1


def cmd_discover(args: argparse.Namespace) -> int:
    from probes.discovery.plugin import DiscoveryConfig, discover_once

    cfg_doc: dict[str, Any] = {"interfaces": [args.iface], "listen_secs": args.listen_secs}
    if args.allowed_router:
        cfg_doc["allowed_routers"] = args.allowed_router
    if args.allowed_dhcp:
        cfg_doc["allowed_dhcp_servers"] = args.allowed_dhcp
    base = _discovery_section(args.config) if args.config else {}
    cfg = DiscoveryConfig.model_validate({**base, **cfg_doc})
    doc = asyncio.run(discover_once(args.iface, cfg, _inventory(args.config)))
    _dump(doc)
    return 1 if "error_type" in doc else 0


def _discovery_section(config: str) -> dict[str, Any]:
    """The first `lan_discovery` input of the config (allowed lists, sweep options)."""
    from agent.app.builtins import builtin_registry
    from config.loader import load_config
    loaded = load_config(Path(config), builtin_registry())
    for inst in loaded.inputs:
        if inst.spec.name == "lan_discovery":
            dumped: dict[str, Any] = inst.config.model_dump(mode="json")
            dumped.pop("interfaces", None)
            return dumped
    return {}


def register(sub: Any) -> None:
    sp = sub.add_parser("probe", help="run every applicable probe once over IPv4 and IPv6; JSON")
    sp.add_argument("target", help="address, host name, http(s) URL or inventory device id")
    sp.add_argument("--family", choices=("ipv4", "ipv6", "both"), default="both")
    sp.add_argument("--port", type=int, action="append", help="TCP port to connect to")
    sp.add_argument("--url", action="append", help="URL to fetch at the target's addresses")
    sp.add_argument("--dns-name", action="append",
                    help="treat the target as a resolver and ask it for NAME (A, AAAA, NS)")
    sp.add_argument("--resolver", action="append", help="resolver for names (default: system)")
    sp.add_argument("--count", type=int, default=3, help="ICMP echoes per family")
    sp.add_argument("--timeout", type=float, default=2.0)
    sp.add_argument("--no-icmp", action="store_true")
    sp.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")
    sp.add_argument("--config", "-c", help="agent config (its inventory names devices)")
    sp.set_defaults(func=cmd_probe)

    sp = sub.add_parser("ipv6-check", help="national website IPv6-support test of one site; JSON")
    sp.add_argument("url")
    sp.add_argument("--resolver", action="append")
    sp.add_argument("--tries", type=int, default=5)
    sp.add_argument("--timeout", type=float, default=5.0)
    sp.add_argument("--max-links", type=int, default=20, help="links tested per level")
    sp.add_argument("--insecure", action="store_true")
    sp.set_defaults(func=cmd_ipv6_check)

    sp = sub.add_parser("discover", help="one LAN discovery pass on IFACE (needs CAP_NET_RAW); "
                                         "hosts flagged against the inventory; JSON")
    sp.add_argument("iface")
    sp.add_argument("--config", "-c", help="agent config: inventory and lan_discovery options")
    sp.add_argument("--listen-secs", type=float, default=5.0,
                    help="how long to wait for answers and listen passively")
    sp.add_argument("--allowed-router", action="append", help="MAC or link-local address")
    sp.add_argument("--allowed-dhcp", action="append", help="server MAC or address")
    sp.set_defaults(func=cmd_discover)
