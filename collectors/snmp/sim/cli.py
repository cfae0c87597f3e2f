"""`campusmon sim-campus generate|serve`: write and serve the simulated campus."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from agent.core.plugin import CliContext


def register(subparsers: Any, ctx: CliContext | None = None) -> None:
    p = subparsers.add_parser("sim-campus", help="generate / serve a simulated campus (snmpsim)")
    sub = p.add_subparsers(dest="sim_action", required=True)
    g = sub.add_parser("generate", help="write snmprec data, inventory and ground truth")
    g.add_argument("--out", required=True, help="output directory")
    g.add_argument("--switches", type=int, default=5, help="core + access switches")
    g.add_argument("--aps", type=int, default=12, help="access points behind the AC")
    g.add_argument("--campus", default="sim", help="campus code")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--port", type=int, default=1161, help="UDP port the devices answer on")
    g.set_defaults(func=_generate)
    s = sub.add_parser("serve", help="serve a generated campus with snmpsim on loopback")
    s.add_argument("--data", required=True, help="directory written by `generate`")
    s.add_argument("--port", type=int, default=None, help="override the generated port")
    s.add_argument("--ipv6", action="store_true", help="also answer on [::1]")
    s.set_defaults(func=_serve)


def _generate(args: argparse.Namespace) -> int:
    from collectors.snmp.sim import generate

    if args.switches < 1 or args.aps < 0:
        print("campusmon: sim-campus: --switches must be >= 1 and --aps >= 0", file=sys.stderr)
        return 2
    campus = generate(Path(args.out), args.switches, args.aps, campus=args.campus,
                      seed=args.seed, port=args.port)
    plan = campus.plan
    print(f"{campus.out_dir}: {len(plan.devices)} SNMP devices, {len(plan.aps)} APs, "
          f"{sum(len(b.rooms) for b in plan.buildings)} rooms; inventory {campus.inventory}, "
          f"credentials {campus.credentials}, truth {campus.truth}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from collectors.snmp.sim import SimError, serve

    try:
        server = serve(Path(args.data), args.port, args.ipv6)
    except SimError as exc:
        print(f"campusmon: sim-campus: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    first = server.endpoints[0]
    print(f"snmpsim pid {server.pid}: {len(server.endpoints)} devices on udp port {first.port} "
          f"(e.g. {first.device} at {first.host}, community {first.community})"
          + (f"; also [::1]:{first.port}" if server.ipv6 else ""), flush=True)
    for e in server.endpoints:
        print(f"  {e.device:24} udp:{e.host}:{e.port}  community {e.community}", flush=True)
    try:
        while not stop.wait(0.5):
            if server.proc.poll() is not None:
                print("campusmon: sim-campus: snmpsim exited", file=sys.stderr)
                return 1
    finally:
        server.stop()
    return 0
