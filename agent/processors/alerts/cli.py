"""`campusmon alerts`: what is firing now, from the local alert log (works with the centre
unreachable), the recent history, or the effective rule set of a config."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

from agent.core.errors import ConfigError
from agent.core.plugin import CliContext, Registry
from agent.shared.alertlog import AlertLogConfig


def _when(ts_ns: int) -> str:
    return dt.datetime.fromtimestamp(ts_ns / 1e9).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def log_records(config: Path, registry: Registry) -> list[dict[str, Any]]:
    """Every record of the config's alert log outputs, oldest first (the log's place and
    format: agent/shared/alertlog.py, shared with the `alertlog` output that writes it)."""
    from config.loader import load_config

    cfg = load_config(config, registry)
    logs = [o for o in cfg.outputs if o.spec.name == "alertlog" and o.options.enabled]
    if not logs:
        raise ConfigError.one(str(config), "no enabled `alertlog` output: nothing to read")
    records: list[dict[str, Any]] = []
    for inst in logs:
        lc = inst.config
        assert isinstance(lc, AlertLogConfig)
        records.extend(lc.log(cfg.data_dir).read())
    return sorted(records, key=lambda r: int(r.get("ts_ns", 0)))


def firing(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The alerts whose last logged state is raised, with the start of that episode."""
    current: dict[str, dict[str, Any]] = {}
    for r in records:
        key = str(r["key"])
        if r["state"] == "resolved":
            current.pop(key, None)
        elif key not in current:
            current[key] = {**r, "since_ns": r["ts_ns"]}
        else:
            current[key] = {**r, "since_ns": current[key]["since_ns"]}
    return sorted(current.values(), key=lambda r: (r["severity"] != "critical", r["since_ns"]))


def cmd_alerts(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.rules:
        return _print_rules(Path(args.config), args.json, ctx.registry)
    records = log_records(Path(args.config), ctx.registry)
    rows = records[-args.history:] if args.history else firing(records)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("no alerts firing" if not args.history else "the alert log is empty")
        return 0
    for r in rows:
        when = _when(int(r.get("since_ns", r["ts_ns"])))
        state = "" if not args.history else f"{r['state']:<8} "
        print(f"{when}  {state}{r['severity']:<8} {r['key']}\n    {r['summary']}")
    return 0


def _print_rules(config: Path, as_json: bool, registry: Registry) -> int:
    from agent.processors.alerts.config import AlertsConfig, load_rules
    from config.loader import load_config

    cfg = load_config(config, registry)
    inst = next((p for p in cfg.processors if p.spec.name == "alerts"), None)
    conf = inst.config if inst is not None else AlertsConfig()
    assert isinstance(conf, AlertsConfig)
    rules = load_rules(conf, cfg.config_dir)
    if as_json:
        print(json.dumps([r.model_dump(mode="json") for r in rules], ensure_ascii=False,
                         indent=2))
        return 0
    for r in rules:
        print(f"{r.name:<30} {r.severity.value:<8} for {r.for_secs:>5.0f}s  "
              f"{r.condition.type:<10} {r.topology.value}")
    return 0


def register(sub: Any, ctx: CliContext) -> None:
    sp = sub.add_parser("alerts", help="alerts firing now (from the local alert log), the "
                                       "history, or the effective rules")
    sp.add_argument("--config", "-c", required=True, help="agent config")
    sp.add_argument("--history", type=int, default=0, metavar="N",
                    help="the last N notifications instead of what is firing")
    sp.add_argument("--rules", action="store_true", help="list the effective rules")
    sp.add_argument("--json", action="store_true", help="JSON output")
    sp.set_defaults(func=functools.partial(cmd_alerts, ctx=ctx))


