"""`campusmon ipv6-check URL`: the national website IPv6-support test of one site; JSON.
Exit 0 when the site passed, 1 when it did not, 2 on bad input."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from agent.core.plugin import CliContext
from probes.clitools import dump
from probes.web_ipv6.check import SiteCheck
from probes.web_ipv6.config import WebIpv6Options


def cmd_ipv6_check(args: argparse.Namespace) -> int:
    opts = WebIpv6Options.model_validate({
        "resolvers": args.resolver or [], "tries": args.tries,
        "timeout_secs": args.timeout, "verify_tls": not args.insecure,
        "max_links_per_level": args.max_links})
    result = asyncio.run(SiteCheck(args.url, opts).run())
    dump(result.to_json_dict())
    return 0 if result.passed else 1


def register(sub: Any, ctx: CliContext) -> None:
    sp = sub.add_parser("ipv6-check", help="national website IPv6-support test of one site; JSON")
    sp.add_argument("url")
    sp.add_argument("--resolver", action="append")
    sp.add_argument("--tries", type=int, default=5)
    sp.add_argument("--timeout", type=float, default=5.0)
    sp.add_argument("--max-links", type=int, default=20, help="links tested per level")
    sp.add_argument("--insecure", action="store_true")
    sp.set_defaults(func=cmd_ipv6_check)
