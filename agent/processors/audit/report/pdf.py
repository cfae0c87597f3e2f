"""The inspector report as PDF: the HTML page with a cover (campus, period, data source) and
print page breaks, printed by headless Chromium (`--print-to-pdf`). Chromium is a Debian
package, not a Python library: without it the HTML stays and the PDF is reported as skipped."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from html import escape
from pathlib import Path

from agent.processors.audit.model import CampusAudit

PRINT_TIMEOUT_SECS = 180

# each campus section and the province roll-up starts a page; tables and cards never split a
# row; links print as plain text; the page's own title line gives way to the cover
_PRINT_CSS = """
@page{size:A4;margin:14mm 12mm}
@media print{body{margin:0;max-width:none}
.cover{page-break-after:always;break-after:page;height:250mm;display:flex;
flex-direction:column;justify-content:center}
section{page-break-before:always;break-before:page}
tr,.card,details{page-break-inside:avoid;break-inside:avoid}
details>*{display:block}a{color:inherit;text-decoration:none}
body>h1:first-of-type,body>p.meta{display:none}}
.cover h1{font-size:30px;margin-bottom:8px}.cover .sub{font-size:18px;color:#444}
.cover table{width:auto;font-size:15px;margin-top:28px}.cover td,.cover th{border:none;
padding:6px 18px 6px 0}
"""


class PdfError(RuntimeError):
    """Chromium is missing or could not print the page."""


def cover(audits: Sequence[CampusAudit], period: str, source_desc: str, generated: str) -> str:
    campuses = "<br>".join(f"{escape(a.campus.name)} ({escape(a.campus.code)})"
                           for a in audits) or "—"
    provinces = sorted({a.campus.province for a in audits if a.campus.province})
    rows = [("校区 Campus", campuses), ("省份 Province", escape(", ".join(provinces) or "—")),
            ("统计周期 Period", escape(period or "—")),
            ("数据来源 Data source", escape(source_desc)), ("生成 Generated", escape(generated))]
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return ('<div class="cover"><h1>校园网络审计报告</h1>'
            '<div class="sub">Campus network audit report</div>'
            f"<table>{body}</table></div>")


def print_html(page_html: str, cover_html: str) -> str:
    """The report page with the cover first and the print stylesheet added."""
    head_end = page_html.index("</head>")
    body_at = page_html.index("<body>", head_end) + len("<body>")
    return (page_html[:head_end] + f"<style>{_PRINT_CSS}</style>" + page_html[head_end:body_at]
            + cover_html + page_html[body_at:])


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def print_pdf(html_path: Path, pdf_path: Path) -> Path:
    """Print `html_path` to `pdf_path` with headless Chromium (bounded in time)."""
    binary = chromium()
    if binary is None:
        raise PdfError("chromium is not installed (Debian package 'chromium'): PDF skipped, "
                       "the HTML report is complete")
    flags = ["--headless", "--disable-gpu", "--no-first-run", "--disable-sync",
             "--disable-background-networking", "--disable-component-update",
             "--no-pdf-header-footer", "--print-to-pdf-no-header",
             "--run-all-compositor-stages-before-draw"]
    if os.geteuid() == 0:
        flags.append("--no-sandbox")  # Chromium refuses to run its sandbox as root
    tmp_pdf = pdf_path.with_name(pdf_path.name + ".tmp")
    with tempfile.TemporaryDirectory(prefix="campusmon-pdf-") as profile:
        try:
            r = subprocess.run(
                [binary, *flags, f"--user-data-dir={profile}", f"--print-to-pdf={tmp_pdf}",
                 html_path.resolve().as_uri()],
                capture_output=True, text=True, timeout=PRINT_TIMEOUT_SECS)
        except subprocess.TimeoutExpired:
            tmp_pdf.unlink(missing_ok=True)
            raise PdfError(f"chromium did not print {html_path} within "
                           f"{PRINT_TIMEOUT_SECS}s") from None
    if r.returncode != 0 or not tmp_pdf.exists() or tmp_pdf.stat().st_size == 0:
        tmp_pdf.unlink(missing_ok=True)
        last = (r.stderr.strip().splitlines() or ["no output"])[-1][:300]
        raise PdfError(f"chromium could not print {html_path}: {last}")
    tmp_pdf.replace(pdf_path)  # a reader never sees half a PDF
    return pdf_path


def write_pdf(page: Path, audits: Sequence[CampusAudit], source_desc: str, period: str,
              generated: str) -> Path:
    """report-print.html (cover + print CSS) beside report.html, printed to report.pdf."""
    printable = page.with_name("report-print.html")
    printable.write_text(print_html(page.read_text(encoding="utf-8"),
                                    cover(audits, period, source_desc, generated)),
                         encoding="utf-8")
    return print_pdf(printable, page.with_name("report.pdf"))
