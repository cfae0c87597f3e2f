"""The `campusmon` command line. User errors end in one line per problem and exit 2."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from agent import __version__
from agent.app.builtins import builtin_registry
from agent.core.errors import CampusmonError, ConfigError
from agent.core.lineprotocol import render_many
from agent.core.model import Metric
from agent.core.plugin import CliContext
from agent.framework.localstore import LocalStore
from agent.framework.logsetup import redact, register_secrets, secrets_of, setup_logging
from agent.shared.timeargs import parse_time
from config.loader import LoadedConfig, load_config
from inventory.loader import load_inventory
from inventory.models import Inventory

# Subcommands of the application itself: each module has `register(subparsers)`. Plugins add
# theirs through `PluginSpec.cli` (build_parser), never listed here.
EXTRA_COMMANDS: tuple[str, ...] = ("agent.app.metricsdoc",
                                   "agent.app.queuecli",
                                   "agent.app.service.cli",
                                   "agent.app.init")


def _fail(message: str) -> int:
    print(f"campusmon: {message}", file=sys.stderr)
    return 2


def _load(args: argparse.Namespace) -> LoadedConfig:
    cfg = load_config(Path(args.config), builtin_registry())
    # from here on no log line carries one of the config's secrets, whatever the library
    register_secrets(secrets_of(cfg))
    for w in cfg.warnings:
        print(f"campusmon: warning: {w}", file=sys.stderr)
    return cfg


def cmd_run(args: argparse.Namespace) -> int:
    from agent.framework.mallocarenas import limit_malloc_arenas
    from agent.framework.runtime import Agent
    from agent.framework.sdnotify import supervise

    limit_malloc_arenas()  # before any thread starts (docs/performance.md, memory)
    # everything the agent creates (queues, store, alert state and log) holds student device
    # MACs and IPs: owner-only, whatever the service manager's umask
    os.umask(0o077)
    cfg = _load(args)
    setup_logging(args.log_level or cfg.agent.log_level, args.log_format)
    agent = Agent(cfg, builtin_registry(), settle_heap=True)
    # under systemd (Type=notify): READY=1 once built, the watchdog fed while the loop is live
    asyncio.run(supervise(agent.run(), lambda: agent.built is not None))
    return 0


def cmd_once(args: argparse.Namespace) -> int:
    from agent.framework.runtime import Agent

    cfg = _load(args)
    setup_logging(args.log_level or "warning", args.log_format)

    def show(metrics: list[Metric]) -> None:
        for line in render_many(metrics):
            print(line)

    agent = Agent(cfg, builtin_registry(), print_lines=show)
    built = asyncio.run(agent.once(listen_secs=args.listen_secs))
    if built.listeners and args.listen_secs <= 0:
        print(f"campusmon: {len(built.listeners)} listener(s) not run "
              "(give --listen-secs to include them)", file=sys.stderr)
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    from agent.framework.runtime import Agent

    paths = args.configs or ([args.config] if args.config else [])
    if not paths:
        return _fail("check-config: give --config FILE or one or more FILEs")
    problems: list[str] = []
    for p in paths:
        try:
            cfg = load_config(Path(p), builtin_registry())
        except ConfigError as exc:
            problems.extend(str(x) for x in exc.problems)
            continue
        register_secrets(secrets_of(cfg))
        for w in cfg.warnings:
            print(f"campusmon: warning: {w}", file=sys.stderr)
        # build every plugin without starting it
        async def build_only(cfg: LoadedConfig = cfg) -> None:
            agent = Agent(cfg, builtin_registry())
            built = await agent.build(cfg, for_once=True)
            await agent._close(built)

        try:
            asyncio.run(build_only())
        except CampusmonError as exc:
            problems.append(f"{p}: {exc}")
            continue
        print(f"{p}: ok ({len(cfg.inputs)} inputs, {len(cfg.processors)} processors, "
              f"{len(cfg.outputs)} outputs, {len(cfg.inventory.devices)} devices)")
    for line in problems:
        print(f"campusmon: {redact(line)}", file=sys.stderr)
    return 2 if problems else 0


def _inventory_from(args: argparse.Namespace) -> Inventory:
    if args.inventory:
        return load_inventory(Path(args.inventory).resolve())
    if args.config:
        return _load(args).inventory
    raise ConfigError.one("", "give --inventory FILE or --config FILE")


def cmd_inventory(args: argparse.Namespace) -> int:
    inv = _inventory_from(args)
    if args.action == "validate":
        c = inv.campus
        print(f"{inv.source}: ok — campus {c.code} ({c.name}), {len(inv.buildings)} buildings, "
              f"{len(inv.rooms)} rooms, {len(inv.devices)} devices")
        return 0
    if args.format == "json":
        print(json.dumps([{
            "id": d.id, "kind": d.kind.value, "building": d.building, "room": d.room,
            "ipv4": d.ipv4, "ipv6": d.ipv6, "mac": d.mac, "vendor": d.vendor, "model": d.model,
            "owner": d.owner, "credential": d.credential, "roles": sorted(d.roles),
            "parent": d.parent} for d in inv.devices], ensure_ascii=False, indent=1))
        return 0
    rows: list[tuple[str, ...]] = [
        ("ID", "KIND", "BUILDING", "ROOM", "IPV4", "IPV6", "VENDOR", "OWNER")]
    rows += [(d.id, d.kind.value, d.building or "-", d.room or "-", d.ipv4 or "-",
              d.ipv6 or "-", d.vendor or "-", d.owner or "-") for d in inv.devices]
    _print_table(rows)
    return 0


def _print_table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def cmd_query(args: argparse.Namespace) -> int:
    path = Path(args.store) if args.store else _load(args).data_dir / "store.db"
    if not path.exists():
        return _fail(f"no local store at {path} (has the agent run with this config?)")
    tags = {}
    for t in args.tag or []:
        k, sep, v = t.partition("=")
        if not sep:
            return _fail(f"--tag takes KEY=VALUE, got '{t}'")
        tags[k] = v
    now = time.time_ns()
    start = parse_time(args.since, now) if args.since else (
        parse_time(args.start, now) if args.start else None)
    end = parse_time(args.end, now) if args.end else None
    store = LocalStore.open_readonly(path)
    try:
        if args.stats:  # rows and bytes per tier, rows the size bound evicted
            _print_table([("STORE", "VALUE"), *((k, str(v)) for k, v in store.stats().items())])
            return 0
        if not args.measurement and not tags and args.format == "table":
            _print_table([("MEASUREMENT", "POINTS"),
                          *((n, str(c)) for n, c in store.measurements())])
            return 0
        points = store.query(args.measurement, tags, start, end, args.limit)
    finally:
        store.close()
    if args.format == "lp":
        for line in render_many(points):
            print(line)
        return 0
    if not points:
        print("(no points)")
        return 0
    tag_keys = sorted({k for p in points for k in p.tags})
    field_keys = sorted({k for p in points for k in p.fields})
    rows: list[tuple[str, ...]] = [("TIME", "MEASUREMENT", *tag_keys, *field_keys)]
    for p in points:
        ts = datetime.fromtimestamp(p.ts_ns / 1e9).strftime("%Y-%m-%d %H:%M:%S")
        rows.append((ts, p.name, *(p.tags.get(k, "") for k in tag_keys),
                     *(_fmt(p.fields.get(k)) for k in field_keys)))
    _print_table(rows)
    return 0


def _fmt(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def cmd_plugins(args: argparse.Namespace) -> int:
    rows: list[tuple[str, ...]] = [("SECTION", "TYPE", "KIND", "DESCRIPTION")]
    rows += [(s.kind.section, s.name, s.kind.value, s.description)
             for s in builtin_registry().all()]
    _print_table(rows)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="campusmon",
        description="Campus network and IoT monitoring agent: SNMP, SSH, MQTT, dual-stack "
                    "probes, audits against cited national indicators, alerts.")
    p.add_argument("--version", action="version", version=f"campusmon {__version__}")
    p.add_argument("--log-format", choices=("text", "json"), default="text")
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"))
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_config(sp: argparse.ArgumentParser, required: bool = True) -> None:
        sp.add_argument("--config", "-c", required=required, help="agent config (YAML)")

    sp = sub.add_parser("run", help="run the agent until SIGTERM/SIGINT (SIGHUP reloads)")
    with_config(sp)
    sp.set_defaults(func=cmd_run)
    sp = sub.add_parser("once", help="one cycle of every plugin; print line protocol")
    with_config(sp)
    sp.add_argument("--listen-secs", type=float, default=0.0,
                    help="also run listeners (MQTT …) for this long")
    sp.set_defaults(func=cmd_once)
    sp = sub.add_parser("check-config", help="validate config(s) and inventory, build plugins")
    with_config(sp, required=False)
    sp.add_argument("configs", nargs="*", help="config files")
    sp.set_defaults(func=cmd_check_config)
    sp = sub.add_parser("inventory", help="list or validate the inventory")
    sp.add_argument("action", choices=("list", "validate"))
    with_config(sp, required=False)
    sp.add_argument("--inventory", "-i", help="inventory file (instead of --config)")
    sp.add_argument("--format", choices=("table", "json"), default="table")
    sp.set_defaults(func=cmd_inventory)
    sp = sub.add_parser("query", help="read points from the local store")
    with_config(sp, required=False)
    sp.add_argument("--store", help="path to store.db (instead of --config)")
    sp.add_argument("--measurement", "-m")
    sp.add_argument("--tag", "-t", action="append", help="KEY=VALUE filter (repeatable)")
    sp.add_argument("--since", help="e.g. 15m, 2h")
    sp.add_argument("--start")
    sp.add_argument("--end")
    sp.add_argument("--limit", type=int)
    sp.add_argument("--format", choices=("table", "lp"), default="table")
    sp.add_argument("--stats", action="store_true",
                    help="rows and bytes per tier (raw, 5-minute, hourly), rows evicted")
    sp.set_defaults(func=cmd_query)
    sp = sub.add_parser("plugins", help="list built-in plugins")
    sp.set_defaults(func=cmd_plugins)
    from agent.app.demo import register as register_demo

    register_demo(sub)
    for module in EXTRA_COMMANDS:
        importlib.import_module(module).register(sub)
    registry = builtin_registry()
    ctx = CliContext(registry)
    for spec in registry.all():
        if spec.cli is not None:
            spec.cli(sub, ctx)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command not in ("run", "once"):
        setup_logging(args.log_level or "warning", args.log_format)
    try:
        rc: int = args.func(args)
        return rc
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"campusmon: {redact(str(problem))}", file=sys.stderr)
        return 2
    except CampusmonError as exc:
        return _fail(redact(str(exc)))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
