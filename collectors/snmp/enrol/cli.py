"""`campusmon enrol SUBNET… --config CFG`: scan, then propose an inventory diff (or apply it).

The proposal is the inventory YAML with the scan merged in and the evidence as comments
(`--out`, else standard output); the summary goes to standard error. `--apply` writes the merge
(without the evidence comments) into the inventory file itself, comments and order kept.
`campusmon inventory-csv export|import` (csvio.py) moves devices between the inventory and a
CSV asset register.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from agent.core.errors import ConfigError
from agent.core.plugin import CliContext
from collectors.snmp.enrol.config import EnrolConfig
from collectors.snmp.enrol.proposal import Proposal
from collectors.snmp.enrol.scan import ScanError, ScanResult

_BAR = 30


def register(subparsers: Any, ctx: CliContext) -> None:
    p = subparsers.add_parser(
        "enrol", help="find devices (SNMP sweep + LLDP/CDP crawl) and propose an inventory "
                      "diff; --apply merges it")
    p.add_argument("subnets", nargs="+", metavar="SUBNET",
                   help="IPv4/IPv6 prefixes (or addresses) to sweep")
    p.add_argument("--config", "-c", required=True,
                   help="agent config: credential sets, inventory, the `enrolment` input's "
                        "settings (allow/exclude, location patterns, pace)")
    p.add_argument("--port", type=int, help="SNMP port (default: the config's, else 161)")
    p.add_argument("--seed", action="append", default=[], metavar="DEVICE",
                   help="inventory id or address to crawl LLDP/CDP from (repeatable)")
    p.add_argument("--out", help="write the proposed inventory YAML here (default: stdout)")
    p.add_argument("--json", dest="json_out", help="also write the proposal as JSON here")
    p.add_argument("--apply", action="store_true",
                   help="merge the proposal into the inventory file (comments kept)")
    p.set_defaults(func=lambda a: _enrol(a, ctx))
    from collectors.snmp.enrol.csvio import register as register_csv

    register_csv(subparsers, ctx)


def _settings(loaded: Any, port: int | None) -> EnrolConfig:
    cfg = next((i.config for i in loaded.inputs if i.spec.name == "enrolment"), None)
    base = cfg if isinstance(cfg, EnrolConfig) else EnrolConfig()
    return base.model_copy(update={"port": port}) if port else base


class _Bar:
    """A one-line progress bar on a terminal; silent otherwise (logs, CI)."""

    def __init__(self) -> None:
        self.on = sys.stderr.isatty()

    def __call__(self, done: int, total: int, found: int) -> None:
        if not self.on:
            return
        k = _BAR * done // max(total, 1)
        sys.stderr.write(f"\r[{'#' * k}{'.' * (_BAR - k)}] {done}/{total} addresses, "
                         f"{found} devices")
        sys.stderr.flush()

    def end(self) -> None:
        if self.on:
            sys.stderr.write("\n")


def _enrol(args: argparse.Namespace, ctx: CliContext) -> int:
    from collectors.snmp.enrol.client import merge, write_atomic
    from collectors.snmp.enrol.run import enrol
    from config.loader import load_config
    from inventory.loader import load_inventory

    loaded = load_config(Path(args.config), ctx.registry)
    inv = loaded.inventory
    if not inv.source:
        raise ConfigError.one(args.config, "enrol: the config names no inventory "
                              "(agent.inventory) to propose against")
    inv_path = Path(inv.source)
    settings = _settings(loaded, args.port)
    bar = _Bar()
    try:
        scan, proposal = asyncio.run(enrol(settings, loaded.credentials, inv, args.subnets,
                                           args.seed, bar))
    except ScanError as exc:
        raise ConfigError.one("enrol", str(exc)) from None
    finally:
        bar.end()
    original = inv_path.read_text(encoding="utf-8")
    applied = merge(original, proposal, annotate=False)
    # the merge must load as an inventory before anyone sees it: checked next to the
    # inventory, so relative CSV imports resolve
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=inv_path.parent,
                                     encoding="utf-8", delete=True) as tmp:
        tmp.write(applied.text)
        tmp.flush()
        load_inventory(Path(tmp.name))
    _summary(scan, proposal, applied.skipped)
    if args.json_out:
        write_atomic(Path(args.json_out), json.dumps(
            {**proposal.to_json(), "scan": _scan_json(scan)}, indent=1, ensure_ascii=False)
            + "\n")
    proposed = merge(original, proposal, annotate=True).text
    if args.out:
        write_atomic(Path(args.out), proposed)
    elif not args.apply:
        sys.stdout.write(proposed)
    if args.apply and (proposal.new or proposal.changes):
        write_atomic(inv_path, applied.text)
        print(f"campusmon: enrol: {inv_path} updated ({len(proposal.new)} new, "
              f"{len(proposal.changes)} changed facts)", file=sys.stderr)
    return 0


def _scan_json(scan: ScanResult) -> dict[str, Any]:
    return {"swept": [str(n) for n in scan.swept], "silent": scan.silent,
            "refused": {a: [f"{x.credential}: {x.outcome}" for x in at]
                        for a, at in scan.refused.items()},
            "not_scanned": scan.not_scanned, "notes": scan.notes,
            "contacted": sorted(scan.contacted, key=lambda a: ipaddress.ip_address(a).packed),
            "requests": scan.requests, "duration_seconds": round(scan.duration_s, 3)}


def _summary(scan: ScanResult, p: Proposal, skipped: list[str]) -> None:
    def say(line: str) -> None:
        print(line, file=sys.stderr)

    say(f"enrol: {len(scan.found)} devices answered, {len(scan.silent)} silent, "
        f"{len(scan.refused)} refused every credential set, {scan.requests} SNMP probes in "
        f"{scan.duration_s:.1f}s")
    for note in scan.notes:
        say(f"  note: {note}")
    if p.empty:
        say(f"nothing to propose: {len(p.unchanged)} devices unchanged")
        return
    for e in p.new:
        f = e.found
        say(f"  NEW {e.id} {e.kind.value} {f.vendor} {f.model or '-'} serial "
            f"{f.serial or '-'} at {f.address} credential {f.credential} parent "
            f"{e.parent or '-'}{' ' + e.parent_port if e.parent_port else ''}")
    for c in p.changes:
        say(f"  CHANGED {c.device} {c.field}: {c.old or '(unset)'} → {c.new}")
    for n in p.not_seen:
        say(f"  NOT SEEN {n.device}: {n.evidence}")
    for k in p.conflicts:
        say(f"  CONFLICT {k.subject}: {k.evidence}")
    for s in skipped:
        say(f"  NOT WRITTEN {s}")
    say(p.summary())
