"""The embedded local store: query filters, retention and the size bound."""

from __future__ import annotations

import random
import time
from pathlib import Path

from agent.core.model import Metric
from agent.framework.localstore import LocalStore


def test_query_by_measurement_tags_and_time(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s.db", retention_hours=1, max_bytes=50 * 2**20)
    now = time.time_ns()
    store.write([Metric("a", {"device": "d1"}, {"v": 1}, now - 3 * 10**9),
                 Metric("a", {"device": "d2"}, {"v": 2}, now - 2 * 10**9),
                 Metric("b", {"device": "d1"}, {"v": 2**64 - 1}, now - 10**9)])
    assert [m.fields["v"] for m in store.query("a")] == [1, 2]
    assert [m.tags["device"] for m in store.query("a", {"device": "d2"})] == ["d2"]
    assert store.query("b")[0].fields["v"] == 2**64 - 1  # exact, not a float
    assert len(store.query(None, None, now - int(2.5e9))) == 2
    assert dict(store.measurements()) == {"a": 2, "b": 1}
    store.close()


def test_retention_drops_old_points(tmp_path: Path) -> None:
    # raw retention alone (no roll-ups: rollup_days=0); roll-ups are tested below
    store = LocalStore(tmp_path / "s.db", retention_hours=1, max_bytes=50 * 2**20,
                       rollup_days=0)
    now = time.time_ns()
    store.write([Metric("a", {}, {"v": 1}, now - 2 * 3600 * 10**9),
                 Metric("a", {}, {"v": 2}, now)])
    store.prune()
    assert [m.fields["v"] for m in store.query("a")] == [2]
    store.close()


def test_size_bound_drops_oldest(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s.db", retention_hours=24, max_bytes=2 * 2**20)
    now = time.time_ns()
    # rows are compact (a series' tags are stored once, blocks are compressed): the bytes
    # are in the fields, so the padding is random (incompressible), ~6 MB in all
    rnd = random.Random(7)
    for batch in range(30):
        store.write([Metric("a", {"device": f"d{i}"}, {"v": batch, "pad": rnd.randbytes(200)
                                                       .hex()},
                            now - (30 - batch) * 10**9 + i) for i in range(500)])
    store.prune()
    kept = store.query("a")
    assert kept and len(kept) < 30 * 500
    assert max(int(m.fields["v"]) for m in kept) == 29  # the newest survive
    assert (tmp_path / "s.db").stat().st_size < 8 * 2**20
    store.close()
