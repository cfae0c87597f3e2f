import itertools

from hypothesis import given
from hypothesis import strategies as st

from agent.processors.audit.counters import deltas, percentile, share


@given(st.lists(st.integers(min_value=0, max_value=2**64 - 1), min_size=0, max_size=50))
def test_deltas_never_negative_and_count_every_decrease(values: list[int]) -> None:
    samples = [(k * 10**9, float(v)) for k, v in enumerate(values)]
    d = deltas(samples)
    assert all(i.delta >= 0 for i in d.intervals)
    decreases = sum(b < a for a, b in itertools.pairwise(values))
    assert d.resets == decreases
    assert len(d.intervals) + d.resets == max(0, len(values) - 1)


def test_deltas_skip_equal_or_backwards_time() -> None:
    d = deltas([(10, 1.0), (10, 5.0), (5, 9.0), (20, 12.0)])
    assert [(i.start_ns, i.end_ns, i.delta) for i in d.intervals] == [(5, 20, 3.0)]


def test_percentile_nearest_rank() -> None:
    vals = [float(v) for v in range(1, 101)]
    assert percentile(vals, 95) == 95.0
    assert percentile([3.0], 95) == 3.0
    assert percentile([], 95) is None
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == 4.0


def test_share() -> None:
    assert share(1, 4) == 25.0
    assert share(0, 0) is None
