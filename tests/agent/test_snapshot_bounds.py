"""The last-value snapshot stays bounded: caps on series and fields, pruning without a scrape."""

from __future__ import annotations

from agent.core.model import Metric
from agent.framework.snapshot import Snapshot


def test_series_and_field_caps_count_what_they_refuse() -> None:
    dropped: list[tuple[str, str | None]] = []
    snap = Snapshot(300, max_series=3, max_fields=4,
                    on_drop=lambda r, d, detail: dropped.append((r, d)))
    snap.update([Metric("fdb", {"device": "sw", "mac": f"m{i}"}, {"port": i}, 1)
                 for i in range(5)])
    assert len(snap) == 3
    assert dropped == [("snapshot_series_cap", "sw")] * 2
    dropped.clear()
    key = {"device": "sw", "mac": "m0"}
    for n in range(6):  # a device that renames its fields every tick
        snap.update([Metric("fdb", key, {f"f{n}": n}, 10 + n)])
    (m,) = [m for m in snap.current() if m.tags == key]
    assert len(m.fields) <= 4 and m.fields["f5"] == 5  # the newest point is always kept
    assert dropped and all(r == "snapshot_fields_cap" for r, _ in dropped)


def test_prune_without_a_scrape() -> None:
    snap = Snapshot(0)
    snap.update([Metric("m", {"i": str(i)}, {"v": i}, 1) for i in range(10)])
    assert snap.prune() == 10 and len(snap) == 0


def test_a_backward_clock_step_does_not_freeze_a_series() -> None:
    snap = Snapshot(300)
    snap.update([Metric("m", {}, {"v": 1}, 2_000_000_000_000)])
    snap.update([Metric("m", {}, {"v": 2}, 1_000_000_000_000)])  # late point: ignored
    assert snap.current()[0].fields["v"] == 1
    snap.clock_epoch += 1  # the agent saw the wall clock step back
    snap.update([Metric("m", {}, {"v": 3}, 1_000_000_000_001)])
    assert snap.current()[0].fields["v"] == 3
