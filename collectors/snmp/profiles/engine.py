"""Evaluate compiled profiles over what was read from a device: pure, no I/O.

`Readings` holds each column as {row index: varbind} and each scalar's varbind; `evaluate`
turns one metric into rows (measurement, tags, fields). A row is skipped when a tag or a
`where` condition has no usable value; a field without a usable value (absent, a sentinel,
unmapped, out of its valid range) is left out; a row left with no field is not a reading.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from agent.core.model import FieldValue
from collectors.snmp.mibs import MibObject
from collectors.snmp.profiles.load import CompiledMetric, Cond, Value
from collectors.snmp.profiles.model import Scalar
from collectors.snmp.session import Oid, SnmpType, VarBind, oid_to_str

_ABSENT = (SnmpType.NO_SUCH_OBJECT, SnmpType.NO_SUCH_INSTANCE, SnmpType.END_OF_MIB_VIEW,
           SnmpType.NULL)
_MAX_ROWS = 100_000  # a table this long is not a health table; stop there
# power readings → dBm: the factor to milliwatts of each unit vendors use
_MILLIWATTS = {"mw_to_dbm": 1.0, "uw_to_dbm": 1e-3, "tenth_uw_to_dbm": 1e-4}


@dataclass(slots=True)
class Readings:
    columns: dict[str, dict[Oid, VarBind]] = field(default_factory=dict)
    scalars: dict[str, VarBind] = field(default_factory=dict)

    def add_column(self, obj: MibObject, vbs: list[VarBind]) -> None:
        n = len(obj.oid)
        col = self.columns.setdefault(obj.qualified, {})
        for vb in vbs:
            if vb.type not in _ABSENT and vb.oid[:n] == obj.oid:
                col[vb.oid[n:]] = vb

    def get(self, obj: MibObject, key: Oid) -> VarBind | None:
        if obj.node == "scalar":
            return self.scalars.get(obj.qualified)
        return self.columns.get(obj.qualified, {}).get(key)


@dataclass(frozen=True, slots=True)
class Row:
    measurement: str
    tags: dict[str, str]
    fields: dict[str, FieldValue]


class _Skip(Exception):
    """This row is not a reading (a tag or condition has no usable value)."""


def raw_value(vb: VarBind | None) -> Scalar | None:
    """A varbind as a plain value: int, text, or a dotted OID string."""
    if vb is None or vb.type in _ABSENT:
        return None
    v = vb.value
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, bytes):
        if vb.type is SnmpType.IP_ADDRESS and len(v) == 4:
            return ".".join(str(b) for b in v)
        return v.decode("utf-8", errors="replace").replace("\x00", "").strip()
    if isinstance(v, tuple):
        return oid_to_str(v)
    return None


def _number(v: Scalar | None) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int | float):
        return float(v)
    try:
        f = float(v.strip())
    except ValueError:
        return None
    return f if math.isfinite(f) else None


class _Row:
    def __init__(self, r: Readings, index: Oid) -> None:
        self.r = r
        self.index = index

    def key(self, v: Value) -> Oid:
        if v.via is not None:
            k = raw_value(self.r.get(v.via, self.index))
            if not isinstance(k, int):
                raise _Skip
            return (k,)
        if v.spec.index:
            try:
                return tuple(self.index[p] for p in v.spec.index)
            except IndexError:
                raise _Skip from None
        return self.index

    def same_row(self, obj: MibObject | None) -> float | None:
        if obj is None:
            return None
        return _number(raw_value(self.r.get(obj, self.index)))

    def value(self, v: Value, as_tag: bool = False) -> Scalar | None:
        """The spec's value for this row; None = no usable value."""
        s = v.spec
        raw: Scalar | None
        if v.obj is None:
            if s.value is not None:
                return s.value
            if s.index:
                try:
                    return ".".join(str(self.index[p]) for p in s.index)
                except IndexError:
                    return None
            return None
        raw = raw_value(self.r.get(v.obj, self.key(v)))
        if raw is None or raw in v.skip:
            return None
        if v.map is not None:
            if raw not in v.map:
                return None
            raw = v.map[raw]
            if raw == "skip":
                raise _Skip
        if s.transform == "label" and isinstance(raw, int):
            return v.obj.enum.get(raw, str(raw))
        if as_tag and not (s.parse or s.scale != 1.0 or s.transform):
            return raw
        num = _number(raw) if (s.parse == "number" or not isinstance(raw, str)) else None
        if num is None:
            return raw if isinstance(raw, str) and as_tag else None
        return self._arith(v, num)

    def _arith(self, v: Value, num: float) -> float | None:
        s = v.spec
        if v.si_scale is not None:
            exp = self.same_row(v.si_scale)
            if exp is None:
                return None
            num *= 10.0 ** (3 * (int(exp) - 9))
        if v.precision is not None:
            p = self.same_row(v.precision)
            if p is not None:
                num /= 10.0 ** int(p)
        if v.times is not None:
            t = self.same_row(v.times)
            if t is None:
                return None
            num *= t
        for o in v.plus:
            t = self.same_row(o)
            if t is None:
                return None
            num += t
        if v.percent_of:
            parts = [self.same_row(o) for o in v.percent_of]
            known = [p for p in parts if p is not None]
            if len(known) != len(parts) or sum(known) <= 0:
                return None
            num = num * 100.0 / sum(known)
        if s.transform in _MILLIWATTS:
            if num <= 0:
                return None
            num = 10.0 * math.log10(num * _MILLIWATTS[s.transform])
        elif s.transform == "ticks_to_seconds":
            num /= 100.0
        num *= s.scale
        if s.valid is not None and not s.valid[0] <= num <= s.valid[1]:
            return None
        return num

    def holds(self, c: Cond) -> bool:
        v = self.value(c.value, as_tag=True)
        if v is None:
            return False
        if c.in_ is not None and v not in c.in_:
            return False
        if c.not_in is not None and v in c.not_in:
            return False
        if c.not_regex is not None and c.not_regex.search(str(v)):
            return False
        return not (c.regex is not None and not c.regex.search(str(v)))


def _tag(v: Scalar) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _field(v: float | int, integer: bool) -> FieldValue:
    """Counters and states are integers; gauges always floats (one type per field, or a
    store such as InfluxDB refuses the second type)."""
    if integer:
        return int(v) if abs(v) < 2**63 else float(v)
    return float(v)


def evaluate(m: CompiledMetric, r: Readings) -> list[Row]:
    if m.scalar:
        indexes: list[Oid] = [()]
    else:
        seen: set[Oid] = set()
        for _, v in m.fields:
            if v.obj is not None and v.obj.node == "column" and not v.spec.index \
                    and v.via is None:
                seen.update(r.columns.get(v.obj.qualified, {}))
        indexes = sorted(seen)[:_MAX_ROWS]
    out: list[Row] = []
    seen_tags: dict[tuple[tuple[str, str], ...], int] = {}
    for index in indexes:
        row = _Row(r, index)
        try:
            if not all(row.holds(c) for c in m.where):
                continue
            tags: dict[str, str] = {}
            for name, v in m.tags:
                t = row.value(v, as_tag=True)
                if t is None or t == "":
                    t = v.spec.default
                if t is None:
                    raise _Skip
                tags[name] = _tag(t)
            fields: dict[str, FieldValue] = {}
            for i, (name, v) in enumerate(m.fields):
                f = row.value(v)
                if f is None or isinstance(f, str):
                    if i == 0:  # the first field is the reading; without it, no row
                        raise _Skip
                    continue
                fields[name] = _field(f, name in m.integer_fields)
        except _Skip:
            continue
        key = tuple(sorted(tags.items()))
        if key in seen_tags and tags:
            # Two components with one name (identical CPUs, unnamed boards): the row index
            # keeps their series apart.
            first = m.tags[0][0]
            tags[first] = f"{tags[first]} [{'.'.join(map(str, index))}]"
        seen_tags[key] = seen_tags.get(key, 0) + 1
        out.append(Row(m.measurement, tags, fields))
    return out


def evaluate_all(metrics: Mapping[str, list[CompiledMetric]], r: Readings) -> list[Row]:
    return [row for ms in metrics.values() for m in ms for row in evaluate(m, r)]
