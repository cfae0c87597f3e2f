"""The report as PDF: headless Chromium prints report-print.html (cover + page breaks) beside
report.html; poppler (pdfinfo, pdftoppm, pdftotext) opens, renders and reads it back."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from agent.processors.audit.engine import run_audit
from agent.processors.audit.model import CampusAudit, CampusInfo
from agent.processors.audit.report import write_report
from agent.processors.audit.report.pdf import PdfError, print_pdf, write_pdf
from tests.agent.processors.audit.crafted import audit_input
from tests.servers import require_binary

pytestmark = pytest.mark.timeout(300)
PERIOD = "2026-11-23 00:00:00 UTC — 2026-11-30 00:00:00 UTC"


def _two_campuses() -> list[CampusAudit]:
    a = run_audit(audit_input())
    second = CampusInfo("c2", "第二学院 Second", "Hunan", 4000, 1000)
    b = run_audit(dataclasses.replace(audit_input(), campus=second))
    return [a, b]


def _pages_text(pdf: Path) -> list[str]:
    text = subprocess.run([require_binary("pdftotext"), "-layout", str(pdf), "-"],
                          capture_output=True, text=True, check=True, timeout=60).stdout
    return text.split("\f")


def test_pdf_has_cover_page_breaks_and_renders(tmp_path: Path) -> None:
    require_binary("chromium")
    audits = _two_campuses()
    page = write_report(audits, tmp_path, "crafted store")
    pdf = write_pdf(page, audits, "crafted store", PERIOD, "2026-11-30 01:00:00 UTC")
    assert pdf == tmp_path / "report.pdf" and page.exists()  # beside the HTML
    info = subprocess.run([require_binary("pdfinfo"), str(pdf)], capture_output=True,
                          text=True, check=True, timeout=60).stdout
    pages = int(next(ln.split()[-1] for ln in info.splitlines() if ln.startswith("Pages:")))
    # cover, province roll-up, one section per campus, sources: each starts a page
    assert pages >= 5, info
    out = tmp_path / "png"
    out.mkdir()
    subprocess.run([require_binary("pdftoppm"), "-r", "40", "-png", str(pdf), str(out / "p")],
                   check=True, timeout=240, capture_output=True)
    pngs = sorted(out.glob("p-*.png"))
    assert len(pngs) == pages and all(p.stat().st_size > 1000 for p in pngs)
    text = _pages_text(pdf)
    cover = text[0]
    for expected in ("校园网络审计报告", "Campus network audit report", "Second", "(c2)",
                     PERIOD.split(" — ")[0], "crafted store", "Hunan"):
        assert expected in cover, (expected, cover)
    assert "Province roll-up" not in cover  # the cover is a page of its own
    assert "Province roll-up" in text[1].split("\n", 3)[0] + text[1][:400]
    starts = [i for i, t in enumerate(text) if "Sources cited" in t]
    assert starts and "Sources cited" in text[starts[0]][:300]


def test_missing_page_is_a_typed_error(tmp_path: Path) -> None:
    require_binary("chromium")
    with pytest.raises(PdfError):
        print_pdf(tmp_path / "nothing.html", tmp_path / "nothing.pdf")
    assert not (tmp_path / "nothing.pdf").exists()
