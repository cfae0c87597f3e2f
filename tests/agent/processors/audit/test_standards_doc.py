"""docs/standards.md is the one place targets are cited from: every anchor the code, the
dashboards and the docs cite exists there, every audit `Source` has its entry, each entry says
what the document is and what the agent uses it for, and the inspector report links to it."""

from __future__ import annotations

import re
from pathlib import Path

from agent.processors.audit import standards as S
from agent.processors.audit.engine import run_audit
from agent.processors.audit.model import STANDARDS_DOC, Source
from agent.processors.audit.report import write_report
from tests.agent.processors.audit.crafted import audit_input

ROOT = Path(__file__).resolve().parents[4]
DOC = ROOT / STANDARDS_DOC
CITE = re.compile(r"docs/standards\.md#([A-Za-z0-9-]+)")
ANCHOR = re.compile(r'<a id="([^"]+)"></a>')
# where citations live: code, dashboards (catalogue and generated JSON), docs, README
SCANNED = ("agent", "collectors", "probes", "exporters", "config", "inventory", "dashboards",
           "docs", "README.md")
SUFFIXES = {".py", ".json", ".md", ".yml", ".yaml"}


def _anchors() -> set[str]:
    return set(ANCHOR.findall(DOC.read_text(encoding="utf-8")))


def _files() -> list[Path]:
    out: list[Path] = []
    for name in SCANNED:
        p = ROOT / name
        out += [p] if p.is_file() else [f for f in p.rglob("*") if f.suffix in SUFFIXES]
    return out


def test_every_cited_anchor_exists() -> None:
    anchors = _anchors()
    cited: dict[str, list[str]] = {}
    for f in _files():
        for a in CITE.findall(f.read_text(encoding="utf-8", errors="replace")):
            cited.setdefault(a, []).append(str(f.relative_to(ROOT)))
    assert len(cited) >= 15  # the code really cites the page (a3, b2, b8, c3p, d-1, e-1 …)
    missing = {a: files for a, files in cited.items() if a not in anchors}
    assert missing == {}


def test_every_audit_source_has_an_entry() -> None:
    anchors = _anchors()
    sources = [v for v in vars(S).values() if isinstance(v, Source)]
    assert len(sources) >= 10
    assert [s.row for s in sources if s.anchor not in anchors] == []
    assert S.B8.link == "docs/standards.md#b8" and S.C3.anchor == "c3p"


def test_every_entry_names_its_document_and_use() -> None:
    text = DOC.read_text(encoding="utf-8")
    parts = ANCHOR.split(text)[1:]  # anchor, body, anchor, body …
    for anchor, body in zip(parts[::2], parts[1::2], strict=True):
        assert ("**Document**" in body or "**Sources**" in body
                or "**MIB" in body or anchor == "b7"), anchor
        assert "**Used for**" in body, anchor


def test_no_old_style_citations_left() -> None:
    # `standards.md b8` / `../shared/reference/standards.md`: a file the user does not have
    old = re.compile(r"(?<!docs/)(?<![\w/])standards\.md[ ]+[a-e][0-9.]|reference/standards\.md")
    bad = []
    for f in _files():
        for n, line in enumerate(f.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            # the audit's message for an unlisted vendor keeps its wording and adds the link
            if old.search(line) and "docs/standards.md#" not in line:
                bad.append(f"{f.relative_to(ROOT)}:{n}: {line.strip()}")
    assert bad == []


def test_report_cites_docs_standards_and_carries_the_page(tmp_path: Path) -> None:
    page = write_report([run_audit(audit_input())], tmp_path, "crafted")
    html = page.read_text(encoding="utf-8")
    assert "docs/standards.md#b8" in html and 'href="#src-b8"' in html and 'id="src-b8"' in html
    assert (tmp_path / "standards.md").read_text(encoding="utf-8") == DOC.read_text(
        encoding="utf-8")
    linked = set(re.findall(r'href="#src-([^"]+)"', html))
    assert linked and linked <= _anchors()
    assert "docs/standards.md#" in (tmp_path / "report.csv").read_text(encoding="utf-8")
