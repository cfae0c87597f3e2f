"""Cheap checks that a point can be rendered, stored and exported: the pipeline's gate.

A point that fails here would fail later where one bad point takes its whole batch with it
(line protocol rendering, a Prometheus scrape, an SQLite write), so it is set aside at submit.
"""

from __future__ import annotations

from agent.core.model import Event, FieldValue, Metric

INT_MIN = -(2**63)  # line protocol: int64 ("i") …
UINT_MAX = 2**64 - 1  # … or uint64 ("u") for Counter64 values
MAX_NAME_CHARS = 256
MAX_TAG_CHARS = 4096
MAX_STRING_CHARS = 65_536
MAX_FIELDS = 1024
MAX_TAGS = 128


def metric_problem(m: Metric) -> tuple[str, str] | None:
    """(reason, detail) when `m` cannot go on, None when it can. O(fields + tags).

    Runs once per point (every MQTT message): each field is first tried against the common
    good cases in one condition; only a field that fails it goes through `_field_problem`,
    which judges it exactly as the checks always have (the same reason and detail)."""
    name = m.name
    if type(name) is not str or not name or len(name) > MAX_NAME_CHARS:
        return "bad_name", f"measurement name {str(name)[:60]!r}"
    if type(m.ts_ns) is not int or not INT_MIN <= m.ts_ns <= UINT_MAX:
        return "bad_timestamp", f"{name}: timestamp {str(m.ts_ns)[:40]}"
    fields, tags = m.fields, m.tags
    if len(fields) > MAX_FIELDS or len(tags) > MAX_TAGS:
        return "too_many_keys", f"{name}: {len(fields)} fields, {len(tags)} tags"
    for k, v in fields.items():
        t = type(v)
        if ((t is float or t is bool or (t is int and INT_MIN <= v <= UINT_MAX)  # type: ignore[operator]
                or (t is str and len(v) <= MAX_STRING_CHARS))  # type: ignore[arg-type]
                and type(k) is str and k and len(k) <= MAX_NAME_CHARS):
            continue
        problem = _field_problem(name, k, v)
        if problem is not None:
            return problem
    for k, tv in tags.items():
        if type(k) is not str or type(tv) is not str or len(k) > MAX_NAME_CHARS \
                or len(tv) > MAX_TAG_CHARS:
            return "bad_tag", f"{name}: tag {str(k)[:60]!r} too long or not text"
    return None


def values_ok(m: Metric) -> bool:
    """True only if `metric_problem(m)` is None, given that a metric of the same name, tag
    keys and field keys (equal strings: the same lengths) passed it before: what is left to
    look at is the timestamp, each value, and that each key is a plain `str` (a subclass
    could compare equal). False means "not sure": the caller runs `metric_problem` for the
    exact reason and detail. The pipeline's per-point path for a shape it has seen."""
    ts = m.ts_ns
    if type(ts) is not int or not INT_MIN <= ts <= UINT_MAX:
        return False
    for k, v in m.fields.items():
        t = type(v)
        if not ((t is float or t is bool or (t is int and INT_MIN <= v <= UINT_MAX)  # type: ignore[operator]
                 or (t is str and len(v) <= MAX_STRING_CHARS))  # type: ignore[arg-type]
                and type(k) is str):
            return False
    for k, tv in m.tags.items():
        if type(k) is not str or type(tv) is not str or len(tv) > MAX_TAG_CHARS:
            return False
    return type(m.name) is str


def _field_problem(name: str, k: str, v: FieldValue) -> tuple[str, str] | None:
    """One field, value first, then its name."""
    t = type(v)
    if t is int:
        if not INT_MIN <= v <= UINT_MAX:  # type: ignore[operator]
            # never format v: str() of a 4,300-digit int raises ValueError
            bits = v.bit_length()  # type: ignore[union-attr]
            return "int_out_of_range", f"{name}.{k}: integer of {bits} bits"
    elif t is float or t is bool:
        pass
    elif t is str:
        if len(v) > MAX_STRING_CHARS:  # type: ignore[arg-type]
            return "string_too_long", f"{name}.{k}: {len(v)} characters"  # type: ignore[arg-type]
    else:
        return "bad_type", f"{name}.{k}: {t.__name__}"
    if type(k) is not str or not k or len(k) > MAX_NAME_CHARS:
        return "bad_name", f"{name}: field name {str(k)[:60]!r}"
    return None


def event_problem(e: Event) -> tuple[str, str] | None:
    if len(e.summary) > MAX_STRING_CHARS or len(e.key) > MAX_TAG_CHARS:
        return "string_too_long", f"event {e.kind}: {len(e.summary)} characters"
    for k, v in e.labels.items():
        if len(k) > MAX_NAME_CHARS or len(v) > MAX_TAG_CHARS:
            return "bad_tag", f"event {e.kind}: label {k[:60]!r}"
    return None
