"""CSV and JSON forms of the audit: one row per indicator (report.csv), one per evidence item
(evidence.csv), and everything (report.json)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from agent.processors.audit.model import CampusAudit, Evidence, Indicator

PROVINCE = "province"

COLUMNS = ("campus", "indicator", "scope", "family", "title_zh", "title_en", "value", "unit",
           "target", "pass", "source_row", "source_document", "source_detail", "source_link",
           "numerator",
           "denominator", "unknown", "note")


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(value: str) -> str:
    """A CSV cell Excel/WPS will not run as a formula: device strings such as sysDescr or an
    LLDP name can be `=HYPERLINK(…)`; such a cell gets a leading apostrophe (OWASP's advice).
    Numbers (`-3.5`) stay numbers. Line breaks become spaces: an unquoted CR starts a new row
    in some readers, and that row's first cell would be read as a formula."""
    if "\r" in value or "\n" in value:
        value = value.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    if value and value.startswith(_FORMULA):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:.6g}"


def indicator_row(campus: str, ind: Indicator) -> dict[str, str]:
    src = ind.source
    return {
        "campus": campus, "indicator": ind.id, "scope": ind.scope, "family": ind.family,
        "title_zh": ind.title_zh, "title_en": ind.title_en, "value": _num(ind.value),
        "unit": ind.unit, "target": _num(ind.target.value if ind.target else None),
        "pass": "" if ind.passed is None else ("1" if ind.passed else "0"),
        "source_row": src.row if src else "", "source_document": src.document if src else "",
        "source_detail": src.detail if src else "", "source_link": src.link if src else "",
        "numerator": _num(ind.numerator),
        "denominator": _num(ind.denominator), "unknown": str(ind.unknown), "note": ind.note,
    }


def indicators_csv(audits: Sequence[CampusAudit], province: Sequence[Indicator]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for a in audits:
        for ind in a.indicators:
            w.writerow({k: cell(v) for k, v in indicator_row(a.campus.code, ind).items()})
    for ind in province:
        w.writerow({k: cell(v) for k, v in indicator_row(PROVINCE, ind).items()})
    return buf.getvalue()


def evidence_csv(audits: Sequence[CampusAudit]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(("campus", "indicator", "scope", "subject", "kind", "building", "status",
                "detail", "rule"))
    for a in audits:
        for ind in a.indicators:
            for e in ind.evidence:
                w.writerow([cell(str(x)) for x in (
                    a.campus.code, ind.id, ind.scope, e.subject, e.kind, e.building,
                    e.status.value, e.detail, e.rule)])
    return buf.getvalue()


def _evidence(e: Evidence) -> dict[str, str]:
    return {"subject": e.subject, "kind": e.kind, "building": e.building,
            "status": e.status.value, "detail": e.detail, "rule": e.rule}


def _indicator(campus: str, ind: Indicator) -> dict[str, object]:
    d: dict[str, object] = dict(indicator_row(campus, ind))
    d["value"] = ind.value
    d["target"] = ind.target.value if ind.target else None
    d["pass"] = ind.passed
    d["numerator"] = ind.numerator
    d["denominator"] = ind.denominator
    d["unknown"] = ind.unknown
    d["source_url"] = ind.source.url if ind.source else ""
    d["references"] = [{"label_zh": r.label_zh, "label_en": r.label_en, "value": r.value,
                        "source_row": r.source.row, "source_document": r.source.document,
                        "source_link": r.source.link}
                       for r in ind.references]
    d["evidence"] = [_evidence(e) for e in ind.evidence]
    return d


def report_json(audits: Sequence[CampusAudit], province: Sequence[Indicator],
                meta: dict[str, object]) -> str:
    doc = {
        "meta": meta,
        "campuses": [{
            "code": a.campus.code, "name": a.campus.name, "province": a.campus.province,
            "students": a.campus.students, "staff": a.campus.staff,
            "window_start_ns": a.window_start_ns, "window_end_ns": a.window_end_ns,
            "indicators": [_indicator(a.campus.code, i) for i in a.indicators],
            "tables": [{"id": t.id, "title_zh": t.title_zh, "title_en": t.title_en,
                        "headers": list(t.headers), "rows": [list(r) for r in t.rows]}
                       for t in a.tables],
        } for a in audits],
        "province": [_indicator(PROVINCE, i) for i in province],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1)
