"""The pipeline gate's fast path (`metric_problem`) judges every point exactly as the plain
per-field checks do: same verdict, same reason, same detail."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.core.model import FieldValue, Metric
from agent.framework.pointcheck import (
    INT_MIN,
    MAX_NAME_CHARS,
    MAX_STRING_CHARS,
    MAX_TAG_CHARS,
    UINT_MAX,
    metric_problem,
)


def reference(m: Metric) -> tuple[str, str] | None:
    """The checks written plainly, one field at a time (the gate before its fast path)."""
    name = m.name
    if type(name) is not str or not name or len(name) > MAX_NAME_CHARS:
        return "bad_name", f"measurement name {str(name)[:60]!r}"
    if type(m.ts_ns) is not int or not INT_MIN <= m.ts_ns <= UINT_MAX:
        return "bad_timestamp", f"{name}: timestamp {str(m.ts_ns)[:40]}"
    if len(m.fields) > 1024 or len(m.tags) > 128:
        return "too_many_keys", f"{name}: {len(m.fields)} fields, {len(m.tags)} tags"
    for k, v in m.fields.items():
        t = type(v)
        if t is int:
            assert isinstance(v, int)
            if not INT_MIN <= v <= UINT_MAX:
                return "int_out_of_range", f"{name}.{k}: integer of {v.bit_length()} bits"
        elif t is float or t is bool:
            pass
        elif t is str:
            assert isinstance(v, str)
            if len(v) > MAX_STRING_CHARS:
                return "string_too_long", f"{name}.{k}: {len(v)} characters"
        else:
            return "bad_type", f"{name}.{k}: {t.__name__}"
        if type(k) is not str or not k or len(k) > MAX_NAME_CHARS:
            return "bad_name", f"{name}: field name {str(k)[:60]!r}"
    for k, tv in m.tags.items():
        if type(k) is not str or type(tv) is not str or len(k) > MAX_NAME_CHARS \
                or len(tv) > MAX_TAG_CHARS:
            return "bad_tag", f"{name}: tag {str(k)[:60]!r} too long or not text"
    return None


_keys = st.one_of(st.sampled_from(["v", "", "x" * (MAX_NAME_CHARS + 1), "x" * MAX_NAME_CHARS]),
                  st.text(max_size=4), st.integers(0, 3))
_values = st.one_of(
    st.integers(), st.sampled_from([INT_MIN, INT_MIN - 1, UINT_MAX, UINT_MAX + 1, 10**400]),
    st.floats(), st.booleans(), st.text(max_size=4),
    st.sampled_from(["s" * MAX_STRING_CHARS, "s" * (MAX_STRING_CHARS + 1)]),
    st.none(), st.lists(st.integers(), max_size=2), st.binary(max_size=2))
_tags = st.dictionaries(
    st.one_of(st.text(max_size=3), st.just("t" * (MAX_NAME_CHARS + 1)), st.integers(0, 2)),
    st.one_of(st.text(max_size=3), st.just("t" * (MAX_TAG_CHARS + 1)), st.none()), max_size=3)


@settings(max_examples=400, deadline=None)
@given(fields=st.dictionaries(_keys, _values, max_size=5), tags=_tags,
       name=st.sampled_from(["m", "", "n" * (MAX_NAME_CHARS + 1)]),
       ts=st.one_of(st.integers(), st.just(1.5)))
def test_fast_gate_matches_the_plain_checks(fields: dict[str, FieldValue],
                                            tags: dict[str, str], name: str,
                                            ts: int) -> None:
    m = Metric(name, tags, fields, ts)
    assert metric_problem(m) == reference(m)
