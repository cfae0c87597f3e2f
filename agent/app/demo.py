"""`campusmon demo`: run the agent on a simulated campus and show what it collected.

Parts join when present: the simulated SNMP campus (snmpsim on loopback), the IoT fleet
simulator (on a local mosquitto, when installed), loopback probes, audits and the report, and
with --central a local VictoriaMetrics. Whatever is skipped is said, with the reason.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agent.app import demo_parts
from agent.app.builtins import builtin_registry
from agent.app.demorun import DemoRun
from agent.core.lineprotocol import render
from agent.framework.localstore import LocalStore
from agent.framework.runtime import Agent
from config.loader import load_config


def _have_plugin(name: str, section: str = "inputs") -> bool:
    return builtin_registry().get(section, name) is not None


def _setup_parts(run: DemoRun, args: argparse.Namespace) -> None:

    run.inputs.append({"type": "host", "interval_secs": args.interval_secs})
    for part in demo_parts.PARTS:
        part(run, args)


async def _run_agent(config: Path, seconds: float) -> None:
    cfg = load_config(config, builtin_registry())
    agent = Agent(cfg, builtin_registry())
    task = asyncio.create_task(agent.run())
    await asyncio.sleep(seconds)
    agent.request_stop()
    await task


def _summary(store_path: Path) -> None:
    store = LocalStore.open_readonly(store_path)
    try:
        counts = store.measurements()
        print(f"\nCollected {sum(c for _, c in counts)} points in "
              f"{len(counts)} measurements (local store {store_path}):")
        for name, n in counts:
            print(f"  {name:28s} {n:7d}")
        print("\nA few of them, as line protocol:")
        shown = 0
        for name, _ in counts:
            if name.startswith("agent_") or shown >= 12:
                continue
            pts = store.query(name, limit=1)
            if pts:
                print("  " + render(pts[0])[:160])
                shown += 1
    finally:
        store.close()


@contextlib.contextmanager
def demo_environment(args: argparse.Namespace) -> Iterator[DemoRun]:
    """The simulated campus and its servers, running until the block ends."""
    workdir = Path(args.workdir).resolve()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    workdir.chmod(0o755)  # snmpsim reads its data as nobody when started by root
    run = DemoRun(workdir)
    print(f"campusmon demo in {workdir}")
    try:
        _setup_parts(run, args)
        yield run
    finally:
        run.close()


def run_agent_for(config: Path, seconds: float) -> None:
    asyncio.run(_run_agent(config, seconds))


def run_demo(args: argparse.Namespace) -> int:
    with demo_environment(args) as run:
        config = run.write_config(args.interval_secs)
        seconds = args.intervals * args.interval_secs + 1.5
        print(f"\nRunning the agent for {args.intervals} intervals of {args.interval_secs}s "
              f"({config}) …")
        t0 = time.monotonic()
        run_agent_for(config, seconds)
        print(f"agent stopped after {time.monotonic() - t0:.1f}s")
        store_path = run.workdir / "data" / "store.db"
        _summary(store_path)
        print(f"\nQuery it yourself:\n  campusmon query --config {config} "
              "--measurement host_cpu\n  campusmon query --config "
              f"{config} --since 10m --format lp")

        for finish in demo_parts.FINISHERS:
            finish(run, args, config)
    if run.notes:
        print("\nNot part of this run:\n  " + "\n  ".join(run.notes))
    return 0


def register(sub: Any) -> None:
    sp = sub.add_parser("demo", help="run the agent on a simulated campus and show the data")
    sp.add_argument("--workdir", default="data/demo")
    sp.add_argument("--intervals", type=int, default=3)
    sp.add_argument("--interval-secs", type=float, default=10.0)
    sp.add_argument("--switches", type=int, default=6)
    sp.add_argument("--aps", type=int, default=12)
    sp.add_argument("--central", action="store_true",
                    help="also write into a local VictoriaMetrics (Debian victoria-metrics)")
    sp.set_defaults(func=run_demo)
