"""The series-id cache keyed by a 128-bit digest (keyed SipHash pair, or BLAKE2b with a
fixed PYTHONHASHSEED): series whose names and tags join to look-alike text keep apart (no
two series share an id), the bound holds, and an entry costs at most half of what the
joined-string key did (250 B; tracemalloc, Python objects only)."""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from agent.core.model import Metric
from agent.framework import localstore
from agent.framework.localstore import LocalStore, _series_key

# (name, tags): every one a different series, many of them the same text once joined
# without separators, or with NUL separators and NULs inside the parts
LOOK_ALIKES: list[tuple[str, dict[str, str]]] = [
    ("m", {"a": "bc"}),
    ("m", {"ab": "c"}),
    ("ma", {"b": "c"}),
    ("m", {"a": "b", "c": "d"}),
    ("m", {"a": "b\x00c\x00d"}),  # NUL-joined: the text of the one above
    ("m", {"a\x00b\x00c": "d"}),
    ("m\x00a", {"b": "c"}),  # a NUL in the name
    ("m", {"a": "c", "b": "d"}),
    ("m", {}),
    ("m", {"": ""}),
    ("m", {"a": ""}),
    ("m", {"": "a"}),
    ("m", {"dev": "caf\u00e9"}),  # composed é
    ("m", {"dev": "cafe\u0301"}),  # e + combining acute: same glyphs, another series
    ("m", {"dev": "stra\u00dfe"}),
    ("m", {"dev": "strasse"}),
    ("m", {"dev": "\U0001f4e1 \u4ea4\u6362\u673a"}),
    ("m", {"dev": "\u0430"}),  # Cyrillic a
    ("m", {"dev": "a"}),
]


def _store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "s.db", retention_hours=1, max_bytes=50 * 2**20)


@pytest.fixture(params=["siphash", "blake2b"])
def digest(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of keying: the interpreter's secret-keyed SipHash, and BLAKE2b (the one
    taken when PYTHONHASHSEED is fixed)."""
    monkeypatch.setattr(localstore, "_SIPHASH", request.param == "siphash")
    return str(request.param)


def test_a_fixed_hash_seed_means_blake2b(monkeypatch: pytest.MonkeyPatch) -> None:
    for seed in ("0", "12345"):
        monkeypatch.setenv("PYTHONHASHSEED", seed)
        assert not localstore._secret_hash_seed()
    monkeypatch.setenv("PYTHONHASHSEED", "random")
    assert localstore._secret_hash_seed() == bool(sys.flags.hash_randomization)


def test_look_alike_series_get_distinct_ids_cached_or_not(tmp_path: Path, digest: str) -> None:
    store = _store(tmp_path)
    store._db.execute("BEGIN")
    first = [store._series_id(n, t) for n, t in LOOK_ALIKES]
    cached = [store._series_id(n, t) for n, t in LOOK_ALIKES]  # the cache path
    store._db.execute("COMMIT")
    store._series.clear()
    store._db.execute("BEGIN")
    from_disk = [store._series_id(n, t) for n, t in LOOK_ALIKES]
    store._db.execute("COMMIT")
    assert first == cached == from_disk
    assert len({sid for sid, _ in first}) == len(LOOK_ALIKES)
    keys = [_series_key(n, t) for n, t in LOOK_ALIKES]
    # the three series with a NUL inside a part are never cached: their key is None
    assert sum(k is None for k in keys) == 3
    assert len({k for k in keys if k is not None}) == len(LOOK_ALIKES) - 3
    store.close()


def test_look_alike_series_keep_their_own_points(tmp_path: Path, digest: str) -> None:
    store = _store(tmp_path)
    now = time.time_ns()
    for t in range(3):  # the first write fills the cache, the next two read it
        store.write([Metric(n, tags, {"v": i * 10 + t}, now + t)
                     for i, (n, tags) in enumerate(LOOK_ALIKES)])
    got = sorted((p.name, sorted(p.tags.items()), int(p.fields["v"]))
                 for name in sorted({n for n, _ in LOOK_ALIKES}) for p in store.query(name))
    want = sorted((n, sorted(tags.items()), i * 10 + t)
                  for i, (n, tags) in enumerate(LOOK_ALIKES) for t in range(3))
    assert got == want
    count = store._db.execute("SELECT count(*) FROM series").fetchone()[0]
    assert count == len(LOOK_ALIKES)
    store.close()


def test_tag_order_is_one_series_and_text_that_does_not_encode_is_not_cached(
        tmp_path: Path, digest: str) -> None:
    store = _store(tmp_path)
    store._db.execute("BEGIN")
    ab = store._series_id("m", {"a": "1", "b": "2"})
    ba = store._series_id("m", {"b": "2", "a": "1"})
    store._db.execute("COMMIT")
    assert ab == ba  # one `series` row (tags stored sorted); two cache keys, one id
    assert _series_key("m", {"a": "\ud800"}) is None  # a lone surrogate: no UTF-8 text
    store.close()


def test_bound_holds_and_ids_stay_distinct_across_clears(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, digest: str) -> None:
    monkeypatch.setattr(localstore, "SERIES_CACHE_MAX", 7)
    store = _store(tmp_path)
    seen: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[int, int]] = {}
    store._db.execute("BEGIN")
    for rnd in range(3):  # every round overflows the bound several times
        for i in range(40):
            n, tags = LOOK_ALIKES[i % len(LOOK_ALIKES)]
            tags = {**tags, "i": str(i)}
            got = store._series_id(n, tags)
            assert len(store._series) <= 7
            assert seen.setdefault((n, tuple(tags.items())), got) == got, rnd
    store._db.execute("COMMIT")
    assert len({sid for sid, _ in seen.values()}) == len(seen) == 40
    store.close()


def test_an_entry_costs_at_most_half_the_joined_string_key(tmp_path: Path,
                                                            digest: str) -> None:
    """tracemalloc over 20,000 interface-like series (the nine tags the agent writes):
    the joined-string key measured 250 B an entry; the digest key must stay <= 125 B."""
    store = _store(tmp_path)
    n = 20_000
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        store._db.execute("BEGIN")
        for i in range(n):
            s, p = divmod(i, 48)
            # fresh strings, as parsed off the wire; dropped after the call
            tags = {"building": f"b{s % 24:02d}", "campus": "".join(("main", "")),
                    "device": f"sw-{s:05d}", "kind": "".join(("switch", "")),
                    "roles": "".join(("access", "")), "room": f"r{s % 24:02d}-{s % 9}",
                    "vendor": "".join(("cisco", "")), "ifindex": str(p + 1),
                    "ifname": f"GigabitEthernet0/0/{p + 1}"}
            store._series_id("".join(("snmp_", "interface")), tags)
        store._db.execute("COMMIT")
        gc.collect()
        per_entry = (tracemalloc.get_traced_memory()[0] - before) / len(store._series)
    finally:
        tracemalloc.stop()
    assert len(store._series) == n
    assert per_entry <= 125, per_entry
    store.close()
