"""Every consumer of our series checked against the catalogue: the dashboards' PromQL
(dashboards/catalog.py), the audit's inputs (agent/processors/audit/inputs.py), the alert
rules (built-in and the example site rules) and the central rules (config/central/*.yml).

A metric name `M_f` (VictoriaMetrics' Influx mapping; `M_f_total` / `M_info` / `M_f_value` as
the Prometheus exporter names them) must resolve to a declared measurement and field, every
label it is filtered or grouped by to a declared tag (or a place tag). A renamed field then
fails tests/agent/test_catalogue_lint.py naming the panel, rule or input that would break.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agent.core.catalogue import PLACE_TAG_NAMES, Catalogue

ROOT = Path(__file__).resolve().parent.parent.parent

# PromQL words that are never metric names
_KEYWORDS = frozenset({
    "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and",
    "or", "unless", "atan2", "inf", "nan", "start", "end",
})
_AGGREGATIONS = frozenset({
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile", "limitk", "limit_ratio",
})
_GROUPING = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
# labels every series has once stored (Prometheus' scrape adds `job`)
_ALWAYS = frozenset({"__name__", "job"})
_TOKEN = re.compile(r"""
    (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<range>\[[^\]]*\])
  | (?P<dur>\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*\b)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<num>\d+(?:\.\d+)?(?:e[+-]?\d+)?)
  | (?P<op>=~|!~|!=|==|>=|<=|[-+*/%^(){},=<>])
  | (?P<ws>\s+|\$\w+)
  """, re.X)


@dataclass(frozen=True, slots=True)
class Problem:
    where: str  # the consumer that breaks: dashboard panel, rule, audit input
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Selector:
    name: str | None  # None: `{__name__=~"…"}` without a name
    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Parsed:
    selectors: tuple[Selector, ...]
    grouping: tuple[str, ...]  # labels in by/without/on/ignoring/group_* lists
    made: tuple[str, ...]  # labels made by label_replace / label_join


def _tokens(expr: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None:
            raise ValueError(f"cannot read PromQL at {expr[pos:pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append((kind, m.group()))
    return out


def _unquote(s: str) -> str:
    return s[1:-1]


def parse_promql(expr: str) -> Parsed:
    """The metric selectors, grouping labels and made labels of one expression. A small
    reader, not a full parser: enough to find every name and label the expression relies on."""
    toks = _tokens(expr)
    selectors: list[Selector] = []
    grouping: list[str] = []
    made: list[str] = []
    i = 0
    while i < len(toks):
        kind, text = toks[i]
        nxt = toks[i + 1][1] if i + 1 < len(toks) else ""
        if kind == "ident" and text in _GROUPING and nxt == "(":
            j = i + 2
            while j < len(toks) and toks[j][1] != ")":
                if toks[j][0] == "ident":
                    grouping.append(toks[j][1])
                j += 1
            i = j + 1
            continue
        if kind == "ident" and text in ("label_replace", "label_join") and nxt == "(":
            # label_replace(v, "dst", …): the first string argument is the label it makes
            j = i + 2
            depth = 0
            while j < len(toks):
                k2, t2 = toks[j]
                if t2 in "({":
                    depth += 1
                elif t2 in ")}":
                    depth -= 1
                elif k2 == "str" and depth == 0:
                    made.append(_unquote(t2))
                    break
                j += 1
            i += 2
            continue
        if kind == "ident" and (nxt == "(" or (text in _AGGREGATIONS and nxt in _GROUPING)) \
                and text not in _KEYWORDS:
            i += 1  # a function, or an aggregation followed by its grouping
            continue
        if (kind == "ident" and text not in _KEYWORDS) or (kind == "op" and text == "{"):
            name = text if kind == "ident" else None
            labels: list[str] = []
            j = i + 1 if kind == "ident" else i
            if j < len(toks) and toks[j][1] == "{":
                j += 1
                while j < len(toks) and toks[j][1] != "}":
                    if toks[j][0] == "ident" and j + 1 < len(toks) and \
                            toks[j + 1][1] in ("=", "!=", "=~", "!~"):
                        labels.append(toks[j][1])
                        if toks[j][1] == "__name__" and name is None and j + 2 < len(toks):
                            names = _unquote(toks[j + 2][1])
                            for alt in names.split("|"):
                                selectors.append(Selector(alt, ()))
                    j += 1
                j += 1
            if name is not None or labels:
                selectors.append(Selector(name, tuple(labels)))
            i = j
            continue
        i += 1
    return Parsed(tuple(selectors), tuple(grouping), tuple(made))


def resolve(cat: Catalogue, name: str) -> list[tuple[str, str]]:
    """(measurement, field) pairs a stored series name can stand for."""
    out = []
    for meas in cat.names():
        if name == meas and meas.endswith("_info") and cat.field(meas, "info"):
            out.append((meas, "info"))  # Prometheus: an *_info measurement's info field
        if not name.startswith(meas + "_"):
            continue
        rest = name[len(meas) + 1:]
        for f in (rest, rest.removesuffix("_total"), rest.removesuffix("_value")):
            if f and cat.field(meas, f) is not None:
                out.append((meas, f))
                break
        else:
            if rest == "info" and cat.field(meas, "info") is not None:
                out.append((meas, "info"))
    return out


def check_promql(cat: Catalogue, expr: str, where: str) -> list[Problem]:
    try:
        parsed = parse_promql(expr)
    except ValueError as exc:
        return [Problem(where, str(exc))]
    problems: list[Problem] = []
    measurements: set[str] = set()
    for sel in parsed.selectors:
        if sel.name is None:
            continue
        found = resolve(cat, sel.name)
        if not found:
            problems.append(Problem(where, f"{sel.name}: no declared measurement and field "
                                           "has this name"))
            continue
        names = {m for m, _ in found}
        measurements |= names
        for label in sel.labels:
            if label not in _ALWAYS and not any(cat.has_tag(m, label) for m in names):
                problems.append(Problem(where, f"{sel.name}: label {label!r} is not a tag of "
                                               f"{', '.join(sorted(names))}"))
    for label in parsed.grouping:
        if label in _ALWAYS or label in parsed.made or label in PLACE_TAG_NAMES:
            continue
        if not any(cat.has_tag(m, label) for m in measurements):
            problems.append(Problem(where, f"grouped by {label!r}, a tag of none of "
                                           f"{', '.join(sorted(measurements)) or 'its series'}"))
    return problems


# ------------------------------------------------------------------ the consumers
def dashboards(cat: Catalogue) -> Iterator[Problem]:
    from dashboards.catalog import DASHBOARDS

    for d in DASHBOARDS:
        for p in d.panels:
            for n, q in enumerate(p.queries, 1):
                where = (f"dashboard {d.uid} panel {p.title_en!r} query {n} "
                         "(dashboards/catalog.py)")
                yield from check_promql(cat, q.expr, where)


def audit_inputs(cat: Catalogue) -> Iterator[Problem]:
    from agent.processors.audit.inputs import MEASUREMENTS

    for meas, fields in MEASUREMENTS.items():
        where = f"audit input {meas} (agent/processors/audit/inputs.py)"
        if not cat.has(meas):
            yield Problem(where, f"measurement {meas!r} is not declared")
            continue
        for f in fields:
            if cat.field(meas, f) is None:
                yield Problem(where, f"field {meas}.{f} is not declared")


def _rule_files() -> list[Path]:
    return [ROOT / "agent" / "processors" / "alerts" / "builtin_rules.yaml",
            *sorted((ROOT / "config" / "examples").glob("alerts*.d/*.yaml")),
            *sorted((ROOT / "config" / "examples").glob("alerts*.d/*.yml"))]


def _measurements_of(cat: Catalogue, metric: str) -> list[str]:
    if metric.endswith("*"):
        return [m for m in cat.names() if m.startswith(metric[:-1])]
    return [metric] if cat.has(metric) else []


def alert_rules(cat: Catalogue, files: Sequence[Path] | None = None) -> Iterator[Problem]:
    from agent.processors.alerts.rules import load_rule_file

    for path in _rule_files() if files is None else files:
        rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        for rule in load_rule_file(path):
            yield from _rule(cat, rule, f"alert rule {rule.name} ({rel})")


def _rule(cat: Catalogue, rule: Any, where: str) -> Iterator[Problem]:
    c = rule.condition
    metric = getattr(c, "metric", None)
    if metric is None:
        prefix = getattr(c, "metric_prefix", None)
        if prefix and not any(m.startswith(prefix) for m in cat.names()):
            yield Problem(where, f"no declared measurement starts with {prefix!r}")
        return  # event rules: events are not series
    names = _measurements_of(cat, metric)
    if not names:
        yield Problem(where, f"measurement {metric!r} is not declared")
        return
    fields = [*getattr(c, "fields", ()), *([c.field] if hasattr(c, "field") else []),
              *getattr(c, "require", {})]
    for f in fields:
        if not any(cat.field(m, f) is not None for m in names):
            yield Problem(where, f"field {metric}.{f} is not declared")
    labels = [*c.tags, *c.tags_regex, *c.by, *(t for t in c.ignore_tags if t != "error_type")]
    for label in labels:
        if not any(cat.has_tag(m, label) for m in names):
            yield Problem(where, f"tag {label!r} is not a tag of {metric}")


def _central_exprs(doc: Any) -> Iterator[tuple[str, str]]:
    for group in (doc or {}).get("groups", ()) or ():
        for r in group.get("rules", ()) or ():
            if "expr" in r:
                yield str(r.get("alert") or r.get("record")), str(r["expr"])
    for test in (doc or {}).get("tests", ()) or ():
        for s in test.get("input_series", ()) or ():
            yield "input series", str(s["series"])


def central_rules(cat: Catalogue, files: Iterable[Path] | None = None) -> Iterator[Problem]:
    paths = sorted((ROOT / "config" / "central").glob("*.yml")) if files is None else files
    for path in paths:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        for name, expr in _central_exprs(doc):
            yield from check_promql(cat, expr, f"central rule {name} ({rel})")


def lint(cat: Catalogue) -> list[Problem]:
    return [*dashboards(cat), *audit_inputs(cat), *alert_rules(cat), *central_rules(cat)]
