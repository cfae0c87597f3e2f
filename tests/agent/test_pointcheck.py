"""The pipeline gate's fast path (`metric_problem`) judges every point exactly as the plain
per-field checks do: same verdict, same reason, same detail — and so does the pipeline's
path for a shape it has already passed (`values_ok`)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.core.catalogue import CatalogueError, Measurement, gauge
from agent.core.model import FieldValue, Metric
from agent.framework.contract import DeclarationCheck
from agent.framework.pipeline import Pipeline
from agent.framework.pointcheck import (
    INT_MIN,
    MAX_NAME_CHARS,
    MAX_STRING_CHARS,
    MAX_TAG_CHARS,
    UINT_MAX,
    metric_problem,
)
from agent.framework.rejects import Rejections


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


class _Recorded(Rejections):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str]] = []

    def reject(self, plugin: str, instance: str, reason: str, device: str | None,
               detail: str, n: int = 1) -> None:
        self.seen.append((reason, detail))
        super().reject(plugin, instance, reason, device, detail, n)


def _judged_after_a_twin(m: Metric) -> tuple[list[tuple[str, str]], int]:
    """What the pipeline sets aside of `m` once a point of the same shape (name, tag keys,
    field keys) with plain values has been through it: the path that looks at values only."""
    rej = _Recorded()
    pipeline = Pipeline(base_tags={"campus": "c"}, rejections=rej)
    twin = Metric(m.name, dict.fromkeys(m.tags, "x"), dict.fromkeys(m.fields, 1), 1)
    pipeline.submit([twin], source=("p", "p/1"))
    rej.seen.clear()
    before = len(pipeline._metrics)
    pipeline.submit([m], source=("p", "p/1"))
    got = rej.seen[:], len(pipeline._metrics) - before
    # and right behind its twin in one batch (the previous point's shape)
    rej.seen.clear()
    fresh = Pipeline(base_tags={"campus": "c"}, rejections=rej)
    fresh.submit([twin, m], source=("p", "p/1"))
    twin_problem = metric_problem(twin)
    assert rej.seen == [p for p in (twin_problem,) if p] + got[0]
    assert len(fresh._metrics) - (twin_problem is None) == got[1]
    return got


@settings(max_examples=400, deadline=None)
@given(fields=st.dictionaries(_keys, _values, max_size=5), tags=_tags,
       name=st.sampled_from(["m", "", "n" * (MAX_NAME_CHARS + 1)]),
       ts=st.one_of(st.integers(), st.just(1.5)))
def test_a_known_shape_is_judged_as_the_plain_checks_judge_it(
        fields: dict[str, FieldValue], tags: dict[str, str], name: str, ts: int) -> None:
    want = reference(m := Metric(name, tags, fields, ts))
    assert _judged_after_a_twin(m) == (([want], 0) if want else ([], 1))


class _Str(str):
    """Equal to its plain twin (the same shape), but not a plain `str`."""


def test_a_key_equal_to_a_known_one_but_not_a_plain_str_is_still_set_aside() -> None:
    for m in (Metric("m", {}, {_Str("v"): 1}, 1), Metric("m", {_Str("t"): "x"}, {"v": 1}, 1),
              Metric(_Str("m"), {}, {"v": 1}, 1),
              Metric("m", {}, {"w": 1, _Str("v"): 1}, 1),
              Metric(["m"], {}, {"v": 1}, 1)):  # type: ignore[arg-type]
        want = reference(m)
        assert want is not None and _judged_after_a_twin(m) == ([want], 0)


def test_a_known_shape_still_meets_the_catalogue_check_and_strict_mode() -> None:
    """The catalogue's verdict is per shape: a shape it refused is never cached as good, so
    strict mode raises on every such point, not only the first."""
    check = DeclarationCheck("p", (Measurement("m", "d", fields=(gauge("v", "x", "d"),)),),
                             strict=True)
    pipeline = Pipeline(base_tags={}, checks={"p": check})
    pipeline.submit([Metric("m", {}, {"v": 1}, 1)], source=("p", "p/1"))
    for _ in range(2):
        with pytest.raises(CatalogueError):
            pipeline.submit([Metric("m", {}, {"w": 1}, 1)], source=("p", "p/1"))
    assert len(pipeline._metrics) == 1
