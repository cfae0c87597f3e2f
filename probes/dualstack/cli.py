"""`campusmon probe TARGET [--family ipv4|ipv6|both]`: every applicable probe once, per family;
JSON. Exit 0 when something answered, 1 when nothing did, 2 on bad input."""

from __future__ import annotations

import argparse
import asyncio
import functools
from typing import Any
from urllib.parse import urlsplit

from agent.core.errors import ConfigError
from agent.core.plugin import CliContext, Target
from probes.clitools import dump, inventory_of
from probes.common import is_ip
from probes.dualstack.config import DualStackConfig
from probes.dualstack.plan import Plan, plan_for


def cmd_probe(args: argparse.Namespace, ctx: CliContext) -> int:
    cfg = DualStackConfig.model_validate({
        "family": args.family, "resolvers": args.resolver or [],
        "icmp": {"count": args.count, "timeout_secs": args.timeout},
        "tcp": {"timeout_secs": args.timeout}, "dns": {"timeout_secs": args.timeout},
        "http": {"timeout_secs": max(args.timeout, 5.0), "verify_tls": not args.insecure}})
    target: str = args.target
    inv = inventory_of(args.config, ctx.registry)
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

    # imported here: the spec (which registers this command) loads without the engine's
    # client libraries (dnspython); `campusmon probe` loads them when it runs
    from probes.dualstack.engine import Engine

    async def run() -> dict[str, object]:
        eng = Engine(cfg)
        try:
            return (await eng.run(plan)).to_json()
        finally:
            eng.close()
    doc = asyncio.run(run())
    dump(doc)
    fams = doc["families"]
    assert isinstance(fams, dict)
    ok = any(p["ok"] for f in fams.values() for p in f["probes"])
    return 0 if ok else 1


def register(sub: Any, ctx: CliContext) -> None:
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
    sp.set_defaults(func=functools.partial(cmd_probe, ctx=ctx))
