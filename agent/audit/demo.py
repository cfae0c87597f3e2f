"""The audit's share of `campusmon demo`: `demo_part` adds the audit processor to the run,
`demo_finish` writes the report from the run's local store and prints its path (the lead lists
both in agent/demo_parts.py PARTS / FINISHERS)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from agent.audit.cli import local_audit
from agent.audit.report import write_report

if TYPE_CHECKING:
    from agent.demo import DemoRun


def demo_part(run: DemoRun, args: argparse.Namespace) -> None:
    interval = float(getattr(args, "interval_secs", 5.0))
    run.processors.append({"type": "audit", "emit_every_secs": interval,
                           "window_secs": 3600})


def demo_finish(run: DemoRun, args: argparse.Namespace, config: Path) -> None:
    end = time.time_ns()
    audit = local_audit(config, end - 3600 * 10**9, end, 90.0)
    page = write_report([audit], run.workdir / "report", f"local store of {config}")
    print(f"\nAudit report (HTML zh/en, CSV, JSON): {page.resolve()}")
