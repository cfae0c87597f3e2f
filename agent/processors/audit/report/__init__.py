"""Write the inspector report: report.html, report.csv, evidence.csv, report.json, and
standards.md (a copy of docs/standards.md, the entries every target cites)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from agent.processors.audit.model import CampusAudit
from agent.processors.audit.province import roll_up
from agent.processors.audit.report import html, tables

# the page every cited target links to (docs/standards.md of the source tree)
STANDARDS_PAGE = Path(__file__).resolve().parents[4] / "docs" / "standards.md"


def write_report(audits: Sequence[CampusAudit], out_dir: Path, source_desc: str,
                 generated_ns: int | None = None) -> Path:
    generated_ns = generated_ns or time.time_ns()
    audits = sorted(audits, key=lambda a: a.campus.code)
    province = roll_up(audits) if len(audits) > 1 else []
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / "report.html"
    page.write_text(html.render(audits, province, source_desc, generated_ns), encoding="utf-8")
    (out_dir / "report.csv").write_text(tables.indicators_csv(audits, province),
                                        encoding="utf-8")
    (out_dir / "evidence.csv").write_text(tables.evidence_csv(audits), encoding="utf-8")
    (out_dir / "report.json").write_text(tables.report_json(
        audits, province, {"source": source_desc, "generated_ns": generated_ns}),
        encoding="utf-8")
    if STANDARDS_PAGE.is_file():  # absent only in an install without the docs
        shutil.copyfile(STANDARDS_PAGE, out_dir / "standards.md")
    return page
