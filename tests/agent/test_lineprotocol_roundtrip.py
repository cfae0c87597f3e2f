"""Line protocol rendering: escaping, exact integers (Counter64), round trip."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agent.core.lineprotocol import parse, render
from agent.core.model import Metric

names = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)
tagvals = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)
fieldvals = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=20),
)


@given(name=names, tags=st.dictionaries(names, tagvals, max_size=4),
       fields=st.dictionaries(names, fieldvals, min_size=1, max_size=4),
       ts=st.integers(min_value=0, max_value=2**62))
def test_round_trip(name: str, tags: dict[str, str], fields: dict[str, object],
                    ts: int) -> None:
    m = Metric(name, tags, fields, ts)  # type: ignore[arg-type]
    back = parse(render(m))
    assert back.name == name and dict(back.tags) == tags and back.ts_ns == ts
    assert dict(back.fields) == fields
    for k, v in fields.items():
        assert type(back.fields[k]) is type(v)


def test_counter64_stays_exact() -> None:
    line = render(Metric("snmp_interface", {"ifindex": "1"},
                         {"in_octets": 2**64 - 1, "small": 5}, 1))
    assert "in_octets=18446744073709551615u" in line and "small=5i" in line


def test_nan_fields_are_dropped_not_rendered() -> None:
    assert render(Metric("m", {}, {"a": float("nan"), "b": 1.5}, 1)) == "m b=1.5 1"
    assert render(Metric("m", {}, {"a": float("inf")}, 1)) == ""
