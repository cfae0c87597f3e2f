"""`campusmon report`: the inspector report from the local store (--config) or from a central
VictoriaMetrics / Prometheus (--from URL, one section per campus plus the province roll-up)."""

from __future__ import annotations

import argparse
import functools
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from agent.core.errors import ConfigError
from agent.core.model import Metric
from agent.core.plugin import CliContext, Registry
from agent.processors.audit.bandwidth import DEFAULT_SATURATION_PERCENT
from agent.processors.audit.engine import run_audit
from agent.processors.audit.inputs import AuditInput, RebuiltInventory, inventories_from_points
from agent.processors.audit.model import CampusAudit, CampusInfo
from agent.shared.timeargs import parse_time

_DUR = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")


def parse_window(text: str) -> int:
    m = _DUR.match(text.strip())
    if not m:
        raise ConfigError.one("", f"--window takes a duration like 30m, 24h or 7d, got '{text}'")
    return int(float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)] * 1e9)


def central_audits(url: str, start_ns: int, end_ns: int, campuses: list[str],
                   saturation: float) -> list[CampusAudit]:
    # the report's sources (urllib.request, the local store with zstandard) and its HTML load
    # when `campusmon audit report` runs, not with the SPEC that every start imports
    from agent.processors.audit.sources import PromClient

    points = PromClient(url).points(start_ns, end_ns, campuses)
    inventories = inventories_from_points(points)
    by_campus: dict[str, list[Metric]] = defaultdict(list)
    for p in points:
        code = p.tags.get("campus")
        if code:
            by_campus[code].append(p)
    codes = sorted(set(by_campus) | set(inventories))
    if campuses:
        codes = [c for c in codes if c in campuses]
    audits = []
    for code in codes:
        inv = inventories.get(code) or RebuiltInventory(CampusInfo(code, code), (), (), ())
        inp = AuditInput.build(inv.campus, inv.buildings, inv.rooms, inv.devices,
                               by_campus.get(code, ()), start_ns, end_ns)
        audits.append(run_audit(inp, saturation))
    return audits


def local_audit(config: Path, start_ns: int, end_ns: int, saturation: float,
                registry: Registry) -> CampusAudit:
    from config.loader import load_config

    cfg = load_config(config, registry)
    from agent.processors.audit.sources import local_points

    points = local_points(cfg.data_dir / "store.db", start_ns, end_ns)
    return run_audit(AuditInput.from_inventory(cfg.inventory, points, start_ns, end_ns),
                     saturation)


def cmd_report(args: argparse.Namespace, ctx: CliContext) -> int:
    now = time.time_ns()
    end = parse_time(args.end, now) if args.end else now
    start = end - parse_window(args.window)
    if args.from_url:
        audits = central_audits(args.from_url, start, end, args.campus or [],
                                args.saturation_percent)
        desc = f"{args.from_url} (central store, window {args.window})"
    elif args.config:
        audit = local_audit(Path(args.config), start, end, args.saturation_percent,
                            ctx.registry)
        audits = [audit] if not args.campus or audit.campus.code in args.campus else []
        desc = f"local store of {args.config} (window {args.window})"
    else:
        raise ConfigError.one("", "report: give --config FILE (local store) or --from URL "
                              "(VictoriaMetrics / Prometheus)")
    if not audits:
        print("campusmon: report: no campus data found (wrong --campus, or nothing stored "
              "in the window?)", file=sys.stderr)
    from agent.processors.audit.report import write_report

    page = write_report(audits, Path(args.out), desc)
    print(page.resolve())
    if args.pdf:
        from agent.processors.audit.report.html import _ts
        from agent.processors.audit.report.pdf import PdfError, write_pdf

        try:
            pdf = write_pdf(page, audits, desc, f"{_ts(start)} — {_ts(end)}", _ts(now))
        except PdfError as exc:
            print(f"campusmon: report: {exc}", file=sys.stderr)
            return 1
        print(pdf.resolve())
    return 0


def register(sub: Any, ctx: CliContext) -> None:
    sp = sub.add_parser("report", help="write the audit report (HTML zh/en, CSV, JSON)")
    src = sp.add_mutually_exclusive_group()
    src.add_argument("--config", "-c", help="agent config: read its local store and inventory")
    src.add_argument("--from", dest="from_url", metavar="URL",
                     help="VictoriaMetrics / Prometheus base URL (province-wide report)")
    sp.add_argument("--campus", action="append", help="only this campus code (repeatable)")
    sp.add_argument("--out", "-o", required=True, help="output directory")
    sp.add_argument("--pdf", action="store_true",
                    help="also report.pdf (cover page, page breaks; headless Chromium)")
    sp.add_argument("--window", default="24h", help="audit window, e.g. 1h, 24h, 7d")
    sp.add_argument("--end", help="end of the window (default now): 2h (ago), epoch seconds "
                                  "or ISO-8601, for a report on an earlier period")
    sp.add_argument("--saturation-percent", type=float, default=DEFAULT_SATURATION_PERCENT,
                    help="utilisation counted as saturation (configuration, not a target)")
    sp.set_defaults(func=functools.partial(cmd_report, ctx=ctx))
