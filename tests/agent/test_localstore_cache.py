"""The local store's series-id cache: compact, exact (no two series share an id), bounded."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from agent.core.model import Metric
from agent.framework import localstore
from agent.framework.localstore import LocalStore
from agent.framework.localstore_policy import SeriesClass


def test_cache_key_is_one_digest_and_keeps_series_apart(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s.db", retention_hours=1, max_bytes=50 * 2**20)
    now = time.time_ns()
    # joined naively with NUL these two would be the same key: they must stay two series
    plain = {"device": "d1", "ifname": "x"}
    sneaky = {"device": "d1\x00ifname\x00x"}
    for t in range(2):  # the second write takes the cache path
        store.write([Metric("m", plain, {"v": 10 + t}, now + t),
                     Metric("m", sneaky, {"v": 20 + t}, now + t)])
    got = sorted((sorted(p.tags.items()), p.fields["v"]) for p in store.query("m"))
    assert got == sorted((sorted(tags.items()), v) for tags, v in
                         ((plain, 10), (plain, 11), (sneaky, 20), (sneaky, 21)))
    # one 128-bit digest and one int an entry (the key's text is not kept)
    assert all(isinstance(k, int) and -(2**127) <= k < 2**127 and isinstance(v, int)
               for k, v in store._series.items())
    assert len(store._series) == 1  # the series with a NUL in a tag is not cached
    store.close()


def test_cached_id_and_class_equal_the_stored_ones(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s.db", retention_hours=1, max_bytes=50 * 2**20)
    store._db.execute("BEGIN")
    first = {n: store._series_id(n, {"device": "d1"}) for n in ("event", "snmp_interface", "x")}
    store._db.execute("COMMIT")
    store._series.clear()
    store._db.execute("BEGIN")
    again = {n: store._series_id(n, {"device": "d1"}) for n in first}  # read from disk
    cached = {n: store._series_id(n, {"device": "d1"}) for n in first}  # from the cache
    store._db.execute("COMMIT")
    assert first == again == cached
    assert first["event"][1] == SeriesClass.HISTORY
    assert first["x"][1] == SeriesClass.OTHER
    assert len({sid for sid, _ in first.values()}) == 3
    store.close()


def test_cache_is_bounded_and_ids_survive_a_clear(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(localstore, "SERIES_CACHE_MAX", 10)
    store = LocalStore(tmp_path / "s.db", retention_hours=1, max_bytes=50 * 2**20)
    now = time.time_ns()
    for t in range(3):
        store.write([Metric("m", {"device": f"d{i}"}, {"v": t}, now + t) for i in range(25)])
        assert len(store._series) <= 10
    assert store._db.execute("SELECT count(*) FROM series").fetchone()[0] == 25
    per_device: dict[str, list[int]] = {}
    for p in store.query("m"):
        per_device.setdefault(p.tags["device"], []).append(int(p.fields["v"]))
    assert per_device == {f"d{i}": [0, 1, 2] for i in range(25)}
    store.close()
