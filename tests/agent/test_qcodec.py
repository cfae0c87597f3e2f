"""The disk queue's block codec is lossless for any text and dense for campus data."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.core.lineprotocol import render_many
from agent.core.model import Metric, MetricKind
from agent.core.plugin import BatchKind
from agent.framework.diskqueue import DiskQueue, read_lines
from agent.framework.qcodec import COLUMNAR_ZSTD, PLAIN, Codec, CodecError

TRICKY = [
    'm,a=1 v=1i 10', 'm,a=2 v=2 11', 'm,a=3 v=3u 12', 'm,a=4 v=-0.0 13', 'm,a=5 v=1e-05 14',
    'm,a=6 v=01i 15', 'm,a=7 v=t 16', 'm,a=8 s="x y",v=1i 17', 'm,a=9 v=1i', 'm v=1i 18',
    r'm,a=x\ y v=1i 19', 'm,a=1 v=1i,w=2i 20', 'm,a=1 w=1i,v=2i 21', '', 'm,a=1 v=5 22',
    'm,a=1 v=5i 23', 'm,a=1 v=9223372036854775807i 24', 'm,a=1 v=-9223372036854775808i 25',
    'm,a=1 v=1.0,x=true 26', 'm,a=1 v=nan 27', 'm,a=1 v=1.5E3 28', 'm,a=1 =1i 29',
    'event {"key": "a b"}', 'm,a=1 v=1i,v=2i 30', 'm,a=1 v==1i 31',
]


def test_tricky_lines_round_trip() -> None:
    c = Codec()
    codec, payload = c.encode(TRICKY)
    assert codec == COLUMNAR_ZSTD
    assert c.decode(codec, payload) == TRICKY
    for line in TRICKY:  # alone, too (one-line groups, one-value columns)
        assert c.decode(*c.encode([line])) == [line]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from('m,a=1 2i.u"\\\te-'), max_size=30),
                max_size=40))
def test_any_text_round_trips(lines: list[str]) -> None:
    lines = [x.replace("\n", "") for x in lines]
    c = Codec()
    assert c.decode(*c.encode(lines)) == lines


def test_mixed_column_types_stay_exact() -> None:
    lines = ["m v=5 1", "m v=3i 2", "m v=2.5 3", "m v=7i 4"]
    c = Codec()
    assert c.decode(*c.encode(lines)) == lines
    lines = ["m v=5i 1", "m v=3 2"]
    assert c.decode(*c.encode(lines)) == lines


def test_campus_interface_rows_are_dense() -> None:
    now = 1_800_000_000_000_000_000
    metrics = [Metric("snmp_interface", {"campus": "c", "device": f"sw-{d}", "ifindex": str(p)},
                      {"in_octets": 10**12 + d * 7919 + p * 104729, "out_octets": 10**11 + p,
                       "in_errors": p % 3, "oper_status": 1, "in_bps": 1234.5 * p + d / 7},
                      now, MetricKind.COUNTER)
               for d in range(20) for p in range(48)]
    lines = render_many(metrics)
    c = Codec()
    codec, payload = c.encode(lines)
    assert c.decode(codec, payload) == lines
    values = 5 * len(lines)
    assert len(payload) / values < 0.5 * len("\n".join(lines)) / values


def test_plain_rows_of_older_queues_still_read() -> None:
    assert Codec().decode(PLAIN, b"a v=1i 1\nb v=2i 2") == ["a v=1i 1", "b v=2i 2"]


def test_damaged_payload_is_a_typed_error() -> None:
    c = Codec()
    codec, payload = c.encode(["m v=1i 1"] * 50)
    with pytest.raises(CodecError):
        c.decode(codec, payload[:-5])
    with pytest.raises(CodecError):
        c.decode(codec, b"\x00" * 40)
    with pytest.raises(CodecError):
        c.decode(9, payload)


# ---------------------------------------------------------------- straight from Metric objects
_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=8)
_values = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),  # typed int64 columns
    st.integers(min_value=-(2**70), max_value=2**70),  # `u` and past-int64: the text way
    st.floats(),  # NaN and inf included: render drops those fields (or the whole point)
    st.booleans(),
    _text,
)
_metric = st.builds(
    Metric,
    st.sampled_from(["snmp_interface", "m", "a b,c", "x\\y", "%s"]),
    st.dictionaries(st.sampled_from(["device", "if,name", "b=c", "room", "%d"]), _text,
                    max_size=3),
    st.one_of(  # shared layouts (columnar groups) and odd ones
        st.fixed_dictionaries({"in_octets": st.integers(0, 2**63 - 1),
                               "in_bps": st.floats(0, 1e12)}),
        st.dictionaries(st.sampled_from(["v", "w x", "y,z", "q=r", "p%"]), _values,
                        max_size=3),
    ),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_metric, max_size=30))
def test_metrics_block_decodes_to_exactly_render_many(metrics: list[Metric]) -> None:
    c = Codec()
    n, codec, payload = c.encode_metrics(metrics)
    want = render_many(metrics)
    assert n == len(want)
    assert c.decode(codec, payload) == want


@settings(max_examples=60, deadline=None)
@given(st.lists(_metric, max_size=40), st.integers(1, 7))
def test_metric_to_queue_to_line_protocol_is_render_many(metrics: list[Metric],
                                                         block: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        q = DiskQueue(Path(tmp) / "q.db", max_bytes=10**8, block_items=block)
        queued, dropped = q.put_metrics(BatchKind.METRICS, metrics)
        want = render_many(metrics)
        assert (queued, dropped) == (len(want), 0)
        assert q.stats().items == len(want)
        got = [line for row in q.peek(10**6) for line in row.lines]
        q.close()
        assert got == want
        assert read_lines(Path(tmp) / "q.db") == want  # `campusmon queue dump` reads the same


def test_campus_rows_from_metrics_are_as_dense_as_from_text() -> None:
    now = 1_800_000_000_000_000_000
    metrics = [Metric("snmp_interface", {"campus": "c", "device": f"sw-{d}", "ifindex": str(p)},
                      {"in_octets": 10**12 + d * 7919 + p * 104729, "out_octets": 10**11 + p,
                       "in_errors": p % 3, "oper_status": 1, "in_bps": 1234.5 * p + d / 7},
                      now, MetricKind.COUNTER)
               for d in range(20) for p in range(48)]
    c = Codec()
    _, text_payload = c.encode(render_many(metrics))
    n, codec, payload = c.encode_metrics(metrics)
    assert n == len(metrics) and codec == COLUMNAR_ZSTD
    assert len(payload) <= len(text_payload) * 1.01


def test_old_text_rows_and_metric_rows_read_back_in_order(tmp_path: Path) -> None:
    q = DiskQueue(tmp_path / "q.db", max_bytes=10**8)
    first = ["old,a=1 v=1i 1", "old,a=2 s=\"x\" 2"]
    q.put(BatchKind.METRICS, first)
    ms = [Metric("new", {"a": str(i)}, {"v": i, "f": i / 3}, 10 + i) for i in range(5)]
    q.put_metrics(BatchKind.METRICS, ms)
    q.close()
    assert read_lines(tmp_path / "q.db") == first + render_many(ms)


def test_quota_drops_oldest_metric_rows_counted(tmp_path: Path) -> None:
    rng = random.Random(5)  # values that do not compress away, so the quota is reached
    q = DiskQueue(tmp_path / "q.db", max_bytes=20_000, block_items=100)
    put = dropped = 0
    for t in range(40):
        ms = [Metric("m", {"d": str(i)}, {"v": rng.getrandbits(62), "f": rng.random()},
                     t * 1000 + i) for i in range(100)]
        queued, d = q.put_metrics(BatchKind.METRICS, ms)
        put += queued
        dropped += d
    st = q.stats()
    assert dropped > 0 and st.bytes <= 20_000
    assert st.items + dropped == put and st.dropped_items == dropped
    q.close()
