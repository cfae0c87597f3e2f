"""The inspector report as one self-contained HTML page (zh + en): inline CSS and SVG, no
scripts, nothing fetched. Every figure sits in an element carrying `data-campus`,
`data-indicator`, `data-scope` and `data-value`, so tests (and scripts) read the exact numbers
the page shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from agent.processors.audit.model import CampusAudit, Indicator, Source, Table
from agent.processors.audit.report import svg
from agent.processors.audit.report.tables import PROVINCE

FAMILIES = (("ipv6", "IPv6规模部署", "IPv6 rollout"),
            ("wireless", "无线覆盖", "Wi-Fi coverage"),
            ("5g", "5G信号", "5G"),
            ("bandwidth", "出口带宽", "Outbound bandwidth"),
            ("localization", "国产化", "Localization"))

_CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",
"Microsoft YaHei","PingFang SC",sans-serif;
margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:19px;border-bottom:2px solid #1f77b4;padding-bottom:4px;
margin-top:36px}h3{font-size:16px;margin-top:22px}
table{border-collapse:collapse;margin:8px 0;font-size:13px;width:100%}
th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f3f6fa}td.num{text-align:right;white-space:nowrap}
.pass{color:#1a7f1a;font-weight:bold}.fail{color:#c62828;font-weight:bold}
.na{color:#888}.en{color:#555;font-size:12px;display:block}
.note{color:#666;font-size:12px}details{margin:4px 0}summary{cursor:pointer}
.status-ok{color:#1a7f1a}.status-fail{color:#c62828}.status-unknown{color:#8a6d00}
.meta{color:#555;font-size:13px}
"""


def fmt_value(v: float | None, unit: str) -> str:
    if v is None:
        return "无数据 / no data"
    if unit == "%":
        return f"{v:.2f}%"
    if unit == "count":
        return f"{v:g}"
    if unit == "GB":
        return f"{v:.3f} GB"
    return f"{v:.1f} {unit}"


def _ts(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _bi(zh: str, en: str) -> str:
    return f"{escape(zh)}<span class=\"en\">{escape(en)}</span>"


def _pass_cell(ind: Indicator) -> str:
    if ind.passed is None:
        return '<td class="na">—</td>'
    if ind.passed:
        return '<td class="pass">达标 ✓<span class="en">pass</span></td>'
    return '<td class="fail">未达标 ✗<span class="en">fail</span></td>'


def _cite(s: Source) -> str:
    """A citation of the source's entry in docs/standards.md; the link stays in the page (the
    report is self-contained) and goes to the entry's line under "Sources cited"."""
    return f'<a class="cite" href="#src-{escape(s.anchor)}">{escape(s.link)}</a>'


def _target_cells(ind: Indicator) -> str:
    if ind.target is None:
        note = escape(ind.note or "no cited target")
        return f'<td class="na">无 / none</td><td class="note">{note}</td>'
    t, s = ind.target, ind.target.source
    refs = "".join(
        f'<br><span class="note">参考 ref: {escape(r.label_zh)} {r.value:g}{escape(ind.unit)} '
        f'— {escape(r.source.document)} ({_cite(r.source)})</span>'
        for r in ind.references)
    return (f'<td class="num" data-target="{t.value:.6f}">{t.op.value} '
            f'{escape(fmt_value(t.value, ind.unit))}</td>'
            f'<td class="source" data-source-row="{escape(s.row)}">{escape(s.document)} '
            f'<span class="en">{_cite(s)}: {escape(s.detail)}</span>{refs}'
            + (f'<br><span class="note">{escape(ind.note)}</span>' if ind.note else "")
            + "</td>")


def _value_cell(campus: str, ind: Indicator) -> str:
    dv = "" if ind.value is None else f"{ind.value:.6f}"
    extra = ""
    if ind.counted and ind.numerator is not None and ind.denominator is not None:
        extra = (f'<span class="en">{ind.numerator:g} / {ind.denominator:g} '
                 f"{escape(ind.counted)}</span>")
    if ind.unknown:
        extra += f'<span class="en">未知 unknown: {ind.unknown}</span>'
    return (f'<td class="num value" data-campus="{escape(campus)}" '
            f'data-indicator="{escape(ind.id)}" data-scope="{escape(ind.scope)}" '
            f'data-value="{dv}">{escape(fmt_value(ind.value, ind.unit))}{extra}</td>')


def scorecard(campus: str, indicators: Sequence[Indicator]) -> str:
    rows = ['<table class="scorecard"><tr><th>指标 Indicator</th><th>范围 Scope</th>'
            '<th>测量值 Value</th><th>目标 Target</th><th>依据 Source</th>'
            '<th>结论 Result</th></tr>']
    for ind in indicators:
        rows.append(f"<tr><td>{_bi(ind.title_zh, ind.title_en)}</td>"
                    f"<td>{escape(ind.scope)}</td>{_value_cell(campus, ind)}"
                    f"{_target_cells(ind)}{_pass_cell(ind)}</tr>")
    rows.append("</table>")
    return "".join(rows)


def evidence_block(ind: Indicator) -> str:
    if not ind.evidence:
        return ""
    rows = "".join(
        f'<tr><td>{escape(e.subject)}</td><td>{escape(e.kind)}</td><td>{escape(e.building)}</td>'
        f'<td class="status-{e.status.value}">{escape(e.status.value)}</td>'
        f"<td>{escape(e.detail)}</td><td>{escape(e.rule)}</td></tr>" for e in ind.evidence)
    return (f"<details><summary>{escape(ind.title_zh)} / {escape(ind.title_en)} "
            f"[{escape(ind.scope)}] — {len(ind.evidence)} 项 items</summary>"
            "<table><tr><th>对象 Subject</th><th>类型 Kind</th><th>楼宇 Building</th>"
            "<th>状态 Status</th><th>详情 Detail</th><th>规则 Rule</th></tr>"
            f"{rows}</table></details>")


def table_block(t: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in t.headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row) + "</tr>"
                   for row in t.rows)
    return (f'<h3 id="table-{escape(t.id)}">{escape(t.title_zh)} / {escape(t.title_en)}</h3>'
            f"<table><tr>{head}</tr>{body}</table>" if t.rows else "")


def _charts(a: CampusAudit) -> str:
    out = []
    shares = [i for i in a.indicators if i.unit == "%" and i.scope == "campus"
              and i.family in ("ipv6", "wireless", "5g")]
    out.append(svg.bar_chart(
        "IPv6 / 无线 / 5G 比例 shares (黑线 = 目标 target, 灰虚线 = 参考 cited reference)", [
            svg.Bar(i.title_en, i.value, i.target.value if i.target else None, i.passed,
                    tuple(r.value for r in i.references)) for i in shares]))
    g5 = [i for i in a.indicators if i.family == "5g" and i.unit == "Mbps"]
    if g5:
        out.append(svg.bar_chart("5G 平均速率 mean rate (Mbps)", [
            svg.Bar(i.title_en, i.value, i.target.value if i.target else None, i.passed)
            for i in g5], unit=" Mbps", max_value=250))
    loc = [i for i in a.indicators if i.family == "localization"]
    out.append(svg.stacked_chart("国产化 Localization (domestic / foreign / unknown)", [
        (i.title_en.removeprefix("Domestic share: "), int(i.numerator or 0),
         int((i.denominator or 0) - (i.numerator or 0)), i.unknown) for i in loc]))
    for c in a.charts:
        out.append(svg.line_chart(f"{c.title_zh} {c.title_en} (虚线 dashed = "
                                  f"{c.threshold:g}{c.unit} saturation threshold, config)"
                                  if c.threshold is not None else f"{c.title_zh} {c.title_en}",
                                  c.series, c.unit, c.threshold))
    return "".join(f'<div class="chart">{s}</div>' for s in out)


def _campus_section(a: CampusAudit) -> str:
    c = a.campus
    people = f"{c.students} 学生 students, {c.staff} 教职工 staff"
    with_target = [i for i in a.indicators if i.target is not None]
    passed = sum(i.passed is True for i in with_target)
    failed = sum(i.passed is False for i in with_target)
    summary = (f'<p class="summary">对照引用目标 Against cited targets: '
               f'<span class="pass">达标 pass {passed}</span> · '
               f'<span class="fail">未达标 fail {failed}</span> · '
               f'<span class="na">无数据 no data {len(with_target) - passed - failed}</span> · '
               f"无引用目标的测量值 measured without a cited target "
               f"{len(a.indicators) - len(with_target)}</p>")
    parts = [f'<section id="campus-{escape(c.code)}"><h2>{escape(c.name)} ({escape(c.code)})</h2>',
             f'<p class="meta">{escape(c.province or "")} · {escape(people)} · '
             f"{_ts(a.window_start_ns)} – {_ts(a.window_end_ns)}</p>", summary, _charts(a)]
    for fam, zh, en in FAMILIES:
        inds = [i for i in a.indicators if i.family == fam]
        if not inds:
            continue
        parts.append(f"<h3>{escape(zh)} / {escape(en)}</h3>")
        parts.append(scorecard(c.code, inds))
        parts.append("".join(evidence_block(i) for i in inds))
        if fam == "5g":
            parts.extend(table_block(t) for t in a.tables)
    parts.append("</section>")
    return "".join(parts)


def _province_section(audits: Sequence[CampusAudit], province: Sequence[Indicator]) -> str:
    codes = [a.campus.code for a in audits]
    head = "".join(f"<th>{escape(c)}</th>" for c in codes)
    rows = [f'<table class="province"><tr><th>指标 Indicator</th><th>范围 Scope</th>{head}'
            "<th>全省 Province</th><th>目标 Target</th><th>依据 Source</th>"
            "<th>结论 Result</th></tr>"]
    for p in province:
        cells = []
        for a in audits:
            ind = a.get(p.id, p.scope)
            cells.append(_value_cell(a.campus.code, ind) if ind else '<td class="na">—</td>')
        rows.append(f"<tr><td>{_bi(p.title_zh, p.title_en)}</td><td>{escape(p.scope)}</td>"
                    f"{''.join(cells)}{_value_cell(PROVINCE, p)}{_target_cells(p)}"
                    f"{_pass_cell(p)}</tr>")
    rows.append("</table>")
    return "<section id=\"province\"><h2>全省汇总 / Province roll-up</h2>" + "".join(rows) + \
        "</section>"


def _sources(audits: Sequence[CampusAudit]) -> str:
    seen: dict[str, Source] = {}
    for a in audits:
        for i in a.indicators:
            for s in [i.source, *(r.source for r in i.references)]:
                if s is not None:
                    seen.setdefault(s.row, s)
    items = "".join(f'<li id="src-{escape(s.anchor)}"><b>{escape(s.link)}</b> — '
                    f"{escape(s.document)}: "
                    f"{escape(s.detail)}" + (f" <span class=\"note\">{escape(s.url)}</span>"
                                             if s.url else "") + "</li>"
                    for s in sorted(seen.values(), key=lambda s: s.row))
    return ("<section id=\"sources\"><h2>引用依据 / Sources cited</h2>"
            "<p class=\"note\">Targets come only from docs/standards.md (copied next to this "
            "report as standards.md: each entry names the document, its issuer, date and "
            "clause); figures it marks as not found are shown without a target.</p>"
            f"<ul>{items}</ul></section>")


def render(audits: Sequence[CampusAudit], province: Sequence[Indicator], source_desc: str,
           generated_ns: int) -> str:
    title = "校园网络审计报告 / Campus network audit report"
    body = [f"<h1>{title}</h1>",
            f'<p class="meta">数据来源 Data: {escape(source_desc)} · 生成 Generated '
            f"{_ts(generated_ns)} · {len(audits)} 个校区 campus(es)</p>"]
    if len(audits) > 1:
        body.append(_province_section(audits, province))
    body.extend(_campus_section(a) for a in audits)
    if not audits:
        body.append("<p>没有找到校区数据 / no campus data found in the window.</p>")
    body.append(_sources(audits))
    return ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="icon" href="data:,">'
            f"<title>{title}</title><style>{_CSS}</style></head><body>"
            + "".join(body) + "</body></html>\n")
