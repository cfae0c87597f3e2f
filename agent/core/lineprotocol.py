"""Influx line protocol: render Metrics (hot path: plain string work) and parse them back.

Integers render with `i` (or `u` past int64, for Counter64 values), so counters stay exact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from agent.core.model import FieldValue, Metric, MetricKind

_MEAS = str.maketrans({"\\": "\\\\", ",": r"\,", " ": r"\ ", "\n": r"\n"})
_KEY = str.maketrans({"\\": "\\\\", ",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n"})
_MEAS_SPECIAL = re.compile(r"[\\, \n]")
_KEY_SPECIAL = re.compile(r"[\\,= \n]")
_INT64_MAX = 2**63 - 1
_INF, _NINF = float("inf"), float("-inf")


def _field(v: FieldValue) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return f"{v}u" if v > _INT64_MAX else f"{v}i"
    if isinstance(v, float):
        return repr(v) if v == v and v not in (float("inf"), float("-inf")) else ""
    s = v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{s}"'


# The same series come back every tick, so their escaped head (measurement and sorted tags)
# and the escaped `key=` prefixes of their fields are cached: rendering a known series costs
# two dict lookups plus its field values (3x faster than escaping every time). A cached head
# costs about 1 kB, so the cache is small and cleared whole when full: at most ~16 MB, and a
# site with more series than that renders the slow way, correctly.
_CACHE_MAX = 16_384
_heads: dict[tuple[object, ...], str] = {}
_keys: dict[tuple[str, ...], tuple[str, ...]] = {}


def _escaped_head(name: str, tags: Mapping[str, str]) -> str:
    # one regex scan over all the text first: names and values that need no escaping (nearly
    # all) skip a translate() per key and value, 3x cheaper; a site with more series than the
    # cache holds pays this on every point
    if (_MEAS_SPECIAL.search(name) is None
            and _KEY_SPECIAL.search("".join(tags) + "".join(tags.values())) is None):
        parts = [name]
        parts += [f"{k}={tags[k]}" for k in sorted(tags) if tags[k] != ""]
        return ",".join(parts)
    parts = [name.translate(_MEAS)]
    for k in sorted(tags):
        v = tags[k]
        if v != "":
            parts.append(f"{k.translate(_KEY)}={v.translate(_KEY)}")
    return ",".join(parts)


def _head(m: Metric) -> str:
    key = (m.name, *m.tags.items())
    head = _heads.get(key)
    if head is None:
        head = _escaped_head(m.name, m.tags)
        if len(_heads) >= _CACHE_MAX:
            _heads.clear()
        _heads[key] = head
    return head


def _prefixes(keys: tuple[str, ...]) -> tuple[str, ...]:
    """Escaped `key=` prefixes for a set of field keys (one cache entry per field layout)."""
    pre = _keys.get(keys)
    if pre is None:
        pre = tuple(f"{k.translate(_KEY)}=" for k in keys)
        if len(_keys) >= _CACHE_MAX:
            _keys.clear()
        _keys[keys] = pre
    return pre


# For the disk queue's codec, which stores heads and `key=` prefixes apart from the values:
# the escaped series head of a Metric and the escaped prefixes of a field-key layout, exactly
# as `render` writes them (aliases, not wrappers: called once per point on the queue's path).
head = _head
field_prefixes = _prefixes


def render(m: Metric) -> str:
    f = m.fields
    fields = []
    for pre, v in zip(_prefixes(tuple(f)), f.values(), strict=True):
        t = type(v)
        if t is int:  # the common types first, by exact type (a bool is not taken for an int)
            big = v > _INT64_MAX  # type: ignore[operator]
            fields.append(f"{pre}{v}u" if big else f"{pre}{v}i")
        elif t is float:
            if v == v and v not in (_INF, _NINF):  # NaN/inf are not representable: dropped
                fields.append(pre + repr(v))
        else:
            rendered = _field(v)
            if rendered:
                fields.append(pre + rendered)
    if not fields:
        return ""
    return f"{_head(m)} {','.join(fields)} {m.ts_ns}"


def render_many(metrics: Iterable[Metric]) -> list[str]:
    out = []
    for m in metrics:
        line = render(m)
        if line:
            out.append(line)
    return out


def _read_token(s: str, i: int, stops: str) -> tuple[str, int]:
    """Read an escaped token up to an unescaped stop character; returns (text, index)."""
    out: list[str] = []
    n = len(s)
    while i < n:
        c = s[i]
        if c == "\\" and i + 1 < n:
            nxt = s[i + 1]
            out.append("\n" if nxt == "n" else nxt)
            i += 2
            continue
        if c in stops:
            break
        out.append(c)
        i += 1
    return "".join(out), i


def _read_string(s: str, i: int) -> tuple[str, int]:
    """Read a quoted field value starting at the opening quote."""
    text, end = _read_token(s, i + 1, '"')
    if end >= len(s):
        raise ValueError("unterminated string field")
    return text, end + 1


def _parse_value(raw: str) -> FieldValue:
    if raw in ("true", "t", "T", "True", "TRUE"):
        return True
    if raw in ("false", "f", "F", "False", "FALSE"):
        return False
    if raw.endswith(("i", "u")):
        return int(raw[:-1])
    return float(raw)


def parse(line: str) -> Metric:
    """Parse one line (as rendered here); raises ValueError on malformed input."""
    s = line.strip("\n")
    name, i = _read_token(s, 0, ", ")
    if not name or i >= len(s):
        raise ValueError(f"malformed line protocol: {line[:80]!r}")
    tags: dict[str, str] = {}
    while i < len(s) and s[i] == ",":
        key, i = _read_token(s, i + 1, "=, ")
        if i >= len(s) or s[i] != "=":
            raise ValueError(f"malformed tag in {line[:80]!r}")
        value, i = _read_token(s, i + 1, ", ")
        tags[key] = value
    if i >= len(s) or s[i] != " ":
        raise ValueError(f"malformed line protocol: {line[:80]!r}")
    fields: dict[str, FieldValue] = {}
    sep = " "
    while sep in (" ", ",") and i < len(s) and (sep == "," or not fields):
        key, i = _read_token(s, i + 1, "=")
        if i >= len(s):
            raise ValueError(f"malformed field in {line[:80]!r}")
        if s[i + 1 : i + 2] == '"':
            fields[key], i = _read_string(s, i + 1)
        else:
            raw, i = _read_token(s, i + 1, ", ")
            fields[key] = _parse_value(raw)
        sep = s[i] if i < len(s) else ""
    if not fields:
        raise ValueError(f"no fields in {line[:80]!r}")
    ts = int(s[i + 1 :]) if sep == " " and s[i + 1 :].strip() else 0
    return Metric(name, tags, fields, ts, MetricKind.GAUGE)
