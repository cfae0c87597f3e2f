import csv
import dataclasses
import json

import pytest

from agent.processors.audit.engine import run_audit
from agent.processors.audit.model import CampusAudit, CampusInfo
from agent.processors.audit.report import write_report
from tests.agent.processors.audit.crafted import audit_input
from tests.agent.processors.audit.reportcheck import (
    chromium_open,
    html_value,
    json_values,
    parse_html,
    targets_without_source,
)


def _two_campuses() -> tuple[CampusAudit, CampusAudit]:
    a = run_audit(audit_input())
    second = CampusInfo("c2", "第二学院 Second", "Hunan", 4000, 1000)
    b = run_audit(dataclasses.replace(audit_input(), campus=second))
    return a, b


def test_report_files_agree_and_cite_every_target(tmp_path):
    a, b = _two_campuses()
    page = write_report([b, a], tmp_path, "crafted")
    assert page == tmp_path / "report.html"
    cells = parse_html(page)
    js = json_values(tmp_path / "report.json")
    # every figure shown in HTML equals the JSON one, and the engine's own value
    for (campus, ind, scope), v in js.items():
        hv = html_value(cells, campus, ind, scope)
        assert (hv is None) == (v is None), (campus, ind, scope)
        if v is not None:
            assert hv == pytest.approx(v, rel=1e-6, abs=1e-6), (campus, ind, scope)
    assert html_value(cells, "c1", "ipv6_egress_traffic_share") == 25.0
    assert html_value(cells, "c2", "wifi_teaching_coverage", "building:ta") == 25.0
    # province: shares re-aggregated, capacities summed, peaks maximal
    assert js[("province", "ipv6_egress_traffic_share", "campus")] == 25.0
    assert js[("province", "egress_capacity", "campus")] == 2000
    assert js[("province", "egress_utilization_peak", "campus")] == 95.0
    # c1 has 10,000 people, c2 5,000: 2000 Mbps / 15 thousand
    assert js[("province", "egress_mbps_per_1000", "campus")] == pytest.approx(2000 / 15)
    assert targets_without_source(cells) == []
    n_targets = sum("data-target" in attrs for row in cells.rows for attrs, _ in row)
    assert n_targets > 10
    # self-contained: no scripts, nothing to fetch
    assert cells.scripts == 0 and cells.external == []
    rows = list(csv.DictReader((tmp_path / "report.csv").open(encoding="utf-8")))
    with_target = [r for r in rows if r["target"]]
    assert with_target and all(r["source_document"] and r["source_row"] for r in with_target)
    assert {r["campus"] for r in rows} == {"c1", "c2", "province"}
    ev = list(csv.DictReader((tmp_path / "evidence.csv").open(encoding="utf-8")))
    assert any(r["subject"] == "a-102" and r["status"] == "fail" for r in ev)
    doc = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert [c["code"] for c in doc["campuses"]] == ["c1", "c2"]


def test_single_campus_has_no_province_section(tmp_path):
    a, _ = _two_campuses()
    page = write_report([a], tmp_path, "crafted")
    text = page.read_text(encoding="utf-8")
    assert 'id="province"' not in text and 'id="campus-c1"' in text
    assert "no target: per-student bandwidth" in text  # a3: shown without a target


def test_empty_report_still_valid(tmp_path):
    page = write_report([], tmp_path, "nothing")
    assert "no campus data" in page.read_text(encoding="utf-8")


@pytest.mark.timeout(200)
def test_report_opens_in_chromium_without_console_errors(tmp_path):
    a, b = _two_campuses()
    page = write_report([a, b], tmp_path, "crafted")
    shot = tmp_path / "report.png"
    console, dom = chromium_open(page, shot)
    assert console == []
    assert shot.exists() and shot.stat().st_size > 10_000
    assert 'data-indicator="ipv6_egress_traffic_share"' in dom


@pytest.mark.timeout(200)
def test_console_detection_catches_errors(tmp_path):
    """Control: the same helper does see a page's console errors."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>console.error('boom')</script></body></html>")
    console, _ = chromium_open(bad, tmp_path / "bad.png")
    assert any("boom" in line for line in console)
