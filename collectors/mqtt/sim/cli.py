"""`campusmon sim-iot generate|run`: the IoT fleet simulator from the command line."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from agent.core.plugin import CliContext
from collectors.mqtt.sim.broker import start_local_broker
from collectors.mqtt.sim.inventory_gen import generate_inventory

if TYPE_CHECKING:  # the fleet and client.py (paho) load with `sim-iot run`, not with the SPEC
    from collectors.mqtt.sim.fleet import FleetOptions


def _generate(args: argparse.Namespace) -> int:
    path = generate_inventory(args.out, per_class=args.per_class, campus=args.campus,
                              heartbeat_secs=args.heartbeat_secs, seed=args.seed,
                              base=args.base)
    print(f"wrote {path} ({args.per_class} devices per class, 11 classes)")
    return 0


def _run(args: argparse.Namespace) -> int:
    from collectors.mqtt.client import TlsFiles
    from collectors.mqtt.sim.fleet import FleetOptions

    logging.getLogger("campusmon.sim").setLevel(logging.INFO)
    password = None
    if args.password_file:
        password = Path(args.password_file).read_text(encoding="utf-8").strip()
    tls = TlsFiles(args.ca_file, args.cert_file, args.key_file) if args.ca_file else None
    opts = FleetOptions(
        host=args.host, port=args.port, protocol=args.protocol, username=args.username,
        password=password, tls=tls, seed=args.seed, outage_fraction=args.outage_fraction,
        malformed_rate=args.malformed_rate, telemetry_qos=args.telemetry_qos)
    duration = args.duration if args.duration > 0 else None
    broker = None
    if args.local_broker:
        broker, why = start_local_broker()
        if broker is None:
            print(f"sim-iot: no local broker: {why}", file=sys.stderr)
            return 2
        opts = FleetOptions(**{**opts.__dict__, "host": broker.host, "port": broker.port})
        print(f"sim-iot: local mosquitto on {broker.host}:{broker.port}", file=sys.stderr)
    try:
        return _run_fleet(args, opts, duration)
    finally:
        if broker is not None:
            broker.stop()


def _run_fleet(args: argparse.Namespace, opts: FleetOptions, duration: float | None) -> int:
    from collectors.mqtt.sim.fleet import start_fleet, write_truth

    handle = start_fleet(opts.host, opts.port, args.inventory, duration, opts)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    how_long = f"for {duration:.0f}s" if duration else "until SIGTERM"
    print(f"sim-iot: {len(handle.fleet.devices)} devices → {opts.host}:{opts.port} {how_long}",
          file=sys.stderr)
    while handle.running and not stop.wait(0.2):
        pass
    truth = handle.stop()
    if args.truth:
        write_truth(truth, args.truth)
    summary = {"devices": len(handle.fleet.devices), "per_class": truth.per_class,
               "outages": len(truth.outages), "malformed": truth.malformed,
               "unconnected": len(truth.unconnected)}
    print(json.dumps(summary, ensure_ascii=False))
    return 1 if truth.unconnected and len(truth.unconnected) == len(handle.fleet.devices) else 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
             ctx: CliContext | None = None) -> None:
    """`sim-iot`: needs nothing from the application (`ctx` unused)."""
    p = subparsers.add_parser("sim-iot", help="IoT fleet simulator over MQTT (demo, tests)")
    sub = p.add_subparsers(dest="sim_action", required=True)
    g = sub.add_parser("generate", help="write an inventory with N IoT devices per class")
    g.add_argument("--out", "-o", required=True, help="inventory YAML to write")
    g.add_argument("--per-class", type=int, default=3)
    g.add_argument("--campus", default="hn-iot-sim")
    g.add_argument("--heartbeat-secs", type=float, default=5.0)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--base", help="an inventory to add the fleet to (its rooms, its campus)")
    g.set_defaults(func=_generate)
    r = sub.add_parser("run", help="publish as the devices of an inventory")
    r.add_argument("--inventory", "-i", required=True)
    r.add_argument("--host", default="127.0.0.1")
    r.add_argument("--port", type=int, default=1883)
    r.add_argument("--local-broker", action="store_true",
                   help="start a throw-away mosquitto on a free loopback port (ignores --host/"
                        "--port)")
    r.add_argument("--protocol", choices=("3.1.1", "5"), default="5")
    r.add_argument("--duration", type=float, default=0.0, help="seconds; 0 = until SIGTERM")
    r.add_argument("--truth", help="write the ground truth JSON here")
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--outage-fraction", type=float, default=0.15)
    r.add_argument("--malformed-rate", type=float, default=0.02)
    r.add_argument("--telemetry-qos", type=int, choices=(0, 1), default=0)
    r.add_argument("--username")
    r.add_argument("--password-file")
    r.add_argument("--ca-file")
    r.add_argument("--cert-file")
    r.add_argument("--key-file")
    r.set_defaults(func=_run)
