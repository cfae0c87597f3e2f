"""Read the figures back out of a written report (HTML data attributes, JSON), and open it in
headless Chromium collecting console messages."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

from tests.servers import require_binary


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str, str], str] = {}
        self.rows: list[list[tuple[dict[str, str], str]]] = []
        self._cell: tuple[dict[str, str], list[str]] | None = None
        self.external: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script":
            self.scripts += 1
        for k in ("src", "href"):
            if k in a and not a[k].startswith(("data:", "#")):
                self.external.append(a[k])
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = (a, [])
            if "data-indicator" in a:
                key = (a["data-campus"], a["data-indicator"], a["data-scope"])
                self.values[key] = a.get("data-value", "")

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self.rows:
            self.rows[-1].append((self._cell[0], "".join(self._cell[1])))
            self._cell = None


def parse_html(path: Path) -> _Cells:
    p = _Cells()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def html_value(cells: _Cells, campus: str, indicator: str, scope: str = "campus") -> float | None:
    v = cells.values[(campus, indicator, scope)]
    return float(v) if v else None


def targets_without_source(cells: _Cells) -> list[str]:
    """Every cell showing a target must be followed by a source cell naming a document."""
    bad = []
    for row in cells.rows:
        for k, (attrs, text) in enumerate(row):
            if "data-target" not in attrs:
                continue
            nxt = row[k + 1] if k + 1 < len(row) else ({}, "")
            if "source" not in nxt[0].get("class", "") or not re.search(r"《.+》", nxt[1]) \
                    or "standards.md" not in nxt[1]:
                bad.append(f"{text!r} → {nxt[1]!r}")
    return bad


def json_values(path: Path) -> dict[tuple[str, str, str], float | None]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for c in doc["campuses"]:
        for i in c["indicators"]:
            out[(c["code"], i["indicator"], i["scope"])] = i["value"]
    for i in doc["province"]:
        out[("province", i["indicator"], i["scope"])] = i["value"]
    return out


def chromium_open(page: Path, screenshot: Path) -> tuple[list[str], str]:
    """Screenshot the page; return the console messages Chromium logged and the DOM it built."""
    binary = require_binary("chromium")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--enable-logging=stderr", "--v=0"]
    with tempfile.TemporaryDirectory() as prof:
        shot = subprocess.run(
            [binary, *flags, f"--user-data-dir={prof}", f"--screenshot={screenshot}",
             "--window-size=1280,4000", page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120)
    with tempfile.TemporaryDirectory() as prof:
        dom = subprocess.run(
            [binary, *flags, f"--user-data-dir={prof}", "--dump-dom", page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120)
    console = [line for line in (shot.stderr + dom.stderr).splitlines() if ":CONSOLE" in line]
    return console, dom.stdout
