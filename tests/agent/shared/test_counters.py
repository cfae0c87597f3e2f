"""The one counter-delta helper: wraps, resets, reboots and discontinuities, the same for the
SNMP collector's rates and the audits' window deltas."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agent.processors.audit.counters import deltas
from agent.shared.counters import Point, counter_delta, infer_bits, point_delta, series_deltas
from collectors.snmp.rates import Sample, counter_rate

C32, C64 = 1 << 32, 1 << 64


def test_wraps_on_known_width_and_resets_otherwise() -> None:
    assert counter_delta(C32 - 1_000, 4_000, 32) == 5_000
    assert counter_delta(C64 - 10, 90, 64) == 100
    assert counter_delta((1 << 31) - 5, 3, 32) is None  # implausible wrap: a reset
    assert counter_delta(C32 - 1_000, 4_000, None) is None  # width unknown: a reset


def test_reboot_or_discontinuity_means_no_delta_even_when_the_value_grew() -> None:
    before = Point(0, 1_000, epoch=7, uptime=500)
    assert point_delta(before, Point(60, 9_000, epoch=7, uptime=560), 64) == 8_000
    assert point_delta(before, Point(60, 9_000, epoch=7, uptime=20), 64) is None  # rebooted
    assert point_delta(before, Point(60, 9_000, epoch=8, uptime=560), 64) is None  # discont.
    assert point_delta(before, Point(0, 9_000, epoch=7), 64) is None  # time did not move


def test_collector_rates_and_audit_deltas_agree_on_a_wrap() -> None:
    # a Counter64 wrapped between two 10 s samples (values exact as floats, as stores give them)
    prev, cur = C64 - 2**20, 2**20
    assert counter_rate(Sample(prev, 0.0), Sample(cur, 10.0), 64) == 2**21 / 10
    d = deltas([(0, float(prev)), (10 * 10**9, float(cur))], 64)
    assert (d.total, d.resets) == (float(2**21), 0)  # before: read as a reset, volume lost
    assert deltas([(0, float(prev)), (10 * 10**9, float(cur))]).resets == 1  # width unknown


def test_width_is_inferred_only_beyond_counter32() -> None:
    assert infer_bits([5, C32 + 1]) == 64
    assert infer_bits([5, C32 - 1]) is None


@given(st.lists(st.integers(min_value=0, max_value=C64 - 1), max_size=40),
       st.sampled_from([32, 64, None]))
def test_deltas_are_never_negative_and_every_interval_is_accounted(
        values: list[int], bits: int | None) -> None:
    if bits == 32:
        values = [v % C32 for v in values]
    s = series_deltas([Point(k, v) for k, v in enumerate(values)], bits)
    assert all(i.delta >= 0 for i in s.intervals)
    if bits is not None:
        assert all(i.delta < 1 << (bits - 1) for i in s.intervals if i.delta > 0
                   and values[int(i.start)] > values[int(i.end)])
    assert len(s.intervals) + s.resets == max(0, len(values) - 1)
