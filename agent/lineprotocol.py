"""Influx line protocol: render Metrics (hot path: plain string work) and parse them back.

Integers render with `i` (or `u` past int64, for Counter64 values), so counters stay exact.
"""

from __future__ import annotations

from collections.abc import Iterable

from agent.model import FieldValue, Metric, MetricKind

_MEAS = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n"})
_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n"})
_INT64_MAX = 2**63 - 1


def _field(v: FieldValue) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return f"{v}u" if v > _INT64_MAX else f"{v}i"
    if isinstance(v, float):
        return repr(v) if v == v and v not in (float("inf"), float("-inf")) else ""
    s = v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{s}"'


def render(m: Metric) -> str:
    parts = [m.name.translate(_MEAS)]
    for k in sorted(m.tags):
        v = m.tags[k]
        if v != "":
            parts.append(f"{k.translate(_KEY)}={v.translate(_KEY)}")
    head = ",".join(parts)
    fields = []
    for k, fv in m.fields.items():
        rendered = _field(fv)
        if rendered:  # NaN/inf are not representable: drop the field, keep the rest
            fields.append(f"{k.translate(_KEY)}={rendered}")
    if not fields:
        return ""
    return f"{head} {','.join(fields)} {m.ts_ns}"


def render_many(metrics: Iterable[Metric]) -> list[str]:
    out = []
    for m in metrics:
        line = render(m)
        if line:
            out.append(line)
    return out


def _split_unescaped(s: str, sep: str, limit: int = -1) -> list[str]:
    out: list[str] = []
    cur: list[str] = []
    i, quoted = 0, False
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            cur.append(s[i : i + 2])
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        if c == sep and not quoted and (limit < 0 or len(out) < limit):
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    out.append("".join(cur))
    return out


def _unescape(s: str) -> str:
    return (s.replace(r"\,", ",").replace(r"\=", "=").replace(r"\ ", " ")
            .replace(r"\n", "\n"))


def _parse_value(raw: str) -> FieldValue:
    if raw.startswith('"'):
        return raw[1:-1].replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
    if raw in ("true", "t", "T", "True", "TRUE"):
        return True
    if raw in ("false", "f", "F", "False", "FALSE"):
        return False
    if raw.endswith(("i", "u")):
        return int(raw[:-1])
    return float(raw)


def parse(line: str) -> Metric:
    """Parse one line (as rendered here); raises ValueError on malformed input."""
    parts = _split_unescaped(line.strip(), " ", limit=2)
    if len(parts) < 2:
        raise ValueError(f"malformed line protocol: {line[:80]!r}")
    head = _split_unescaped(parts[0], ",")
    name = _unescape(head[0])
    tags = {}
    for t in head[1:]:
        k, _, v = t.partition("=")
        tags[_unescape(k)] = _unescape(v)
    fields: dict[str, FieldValue] = {}
    for f in _split_unescaped(parts[1], ","):
        k, _, v = f.partition("=")
        fields[_unescape(k)] = _parse_value(v)
    ts = int(parts[2]) if len(parts) > 2 and parts[2] else 0
    return Metric(name, tags, fields, ts, MetricKind.GAUGE)
