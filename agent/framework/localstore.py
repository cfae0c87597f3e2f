"""Points on local disk: the embedded default store, read by `campusmon query` and
`campusmon report --config` (offline, over months).

Layout (the third; older files are migrated when the agent opens them, and read as they are
by `query`/`report` before that):
- `series`: a series (measurement + tags) once, with its class (localstore_policy.py);
- `blocks`: the points, many rows of one measurement and class in one compressed columnar
  blob (localstore_codec.py), in three tiers: raw, 5-minute roll-ups, hourly roll-ups;
- `points`: events and audit results, a row each (few, and kept raw `history_days`).

What is kept (localstore_policy.py says why): every series raw for `retention_hours`; what the
reports and audits read also as 5-minute roll-ups (`rollup_secs`), turned hourly after
`hourly_after_days` except the egress/uplink counters (the report's 95th percentile is over
5-minute intervals), kept `rollup_days`; events and audit results `history_days`. A roll-up
row holds, per field: integers (counters, states) and text the last value of the bucket, so
counter deltas and rates still work; floats the average plus `<field>_max`. Its timestamp is
that of the bucket's last sample. `query` returns raw points where they exist and roll-ups
before them, so a reader sees one series reaching back months. Points that arrive for a
bucket already rolled up are kept raw only (the roll-up is not rewritten).

Over the size bound the oldest raw blocks go first, then the oldest roll-ups, then the oldest
history; every row dropped that way is counted (`stats()`, in `store_meta`).
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import os
import sqlite3
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from hashlib import blake2b as _blake2b
from pathlib import Path

from agent.core.model import FieldValue, Metric, MetricKind
from agent.framework import localstore_codec as codec
from agent.framework.localstore_policy import SeriesClass, classify, is_history

log = logging.getLogger(__name__)

__all__ = ["LocalStore", "is_history", "open_store_db"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    tags TEXT NOT NULL,
    history INTEGER NOT NULL,
    UNIQUE(name, tags)
);
CREATE TABLE IF NOT EXISTS points (
    series INTEGER NOT NULL,
    ts_ns INTEGER NOT NULL,
    fields TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS points_ts ON points(ts_ns);
CREATE INDEX IF NOT EXISTS points_series_ts ON points(series, ts_ns);
CREATE TABLE IF NOT EXISTS blocks (
    id INTEGER PRIMARY KEY,
    tier INTEGER NOT NULL,
    cls INTEGER NOT NULL,
    name TEXT NOT NULL,
    t0 INTEGER NOT NULL,
    t1 INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS blocks_tier_t1 ON blocks(tier, t1);
CREATE INDEX IF NOT EXISTS blocks_name_t1 ON blocks(name, t1);
CREATE INDEX IF NOT EXISTS blocks_tier_cls_t0 ON blocks(tier, cls, t0);
CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
LAYOUT = 3
_NS = 1_000_000_000
_HOUR_NS = 3600 * _NS
ROLLUP_NS = 300 * _NS  # the default roll-up bucket (`rollup_secs`)
ROLLUP_LAG_SECS = 120.0  # a bucket is rolled up this long after it ends (late flushes)
MAX_BUCKETS_PER_PASS = 288  # one day of 5-minute buckets per transaction: bounded work
MAX_BLOCK_ROWS = 100_000  # rows of one block: bounds the memory one decode takes
MIGRATE_CHUNK = 50_000
_ROLLED = (SeriesClass.REPORT, SeriesClass.EGRESS)
_MIN_TS, _MAX_TS = -(2**63), 2**63 - 1
# series ids cached: 1,000 switches poll ~155,000 series; ~110 B an entry, ~21 MiB at most.
# Above the working set on purpose: a miss costs an INSERT OR IGNORE and a SELECT (~10x a
# hit), and a bound below it would clear the cache every tick and make every lookup a miss.
SERIES_CACHE_MAX = 200_000
_CLS_BITS = 2  # a cached id carries its class in the low bits: one int, no tuple
_CLS_MASK = (1 << _CLS_BITS) - 1
if max(SeriesClass) > _CLS_MASK:  # a new class needs more bits: fail at import, not silently
    raise RuntimeError("SeriesClass outgrew localstore._CLS_BITS")
_SEP = "\x00"
_from_bytes = int.from_bytes


def _secret_hash_seed() -> bool:
    """Whether `hash()` of bytes is SipHash keyed with a secret drawn at start (the default:
    PYTHONHASHSEED unset or `random`), so that two of its outputs are 128 unpredictable
    bits; with a fixed seed, or another algorithm, the cache key falls back to BLAKE2b.
    Read at import, from the environment the process started with: a launcher that sets a
    fixed PYTHONHASHSEED and then removes it from `os.environ` is not seen (the digests stay
    as unlikely to collide by chance; only a deliberate collision becomes computable)."""
    info = sys.hash_info
    return (info.algorithm.startswith("siphash") and info.hash_bits == 64
            and info.cutoff == 0 and bool(sys.flags.hash_randomization)
            and os.environ.get("PYTHONHASHSEED", "random") in ("", "random"))


_SIPHASH = _secret_hash_seed()


def _series_key(name: str, tags: Mapping[str, str]) -> int | None:
    """The cache key of a series: a 128-bit digest of its name and tags (tag keys, then
    their values, in the order given) joined by NUL, as one int (48 B; the joined string
    was ~150 B).

    The joined text is exact: split on NUL it gives back the parts (their count says how
    many tags), so two series share it only if they are the same series. That holds while
    no part contains a NUL, checked by counting them (C speed); such a series (never seen
    in practice) is not cached, nor one whose text does not encode (a lone surrogate). The
    UTF-8 bytes are hashed (injective; `hash(str)` hashes the internal buffer, and
    hash("ab") == hash("\u6261")).

    The digest is then a collision risk only. Two outputs of the interpreter's SipHash-1-3
    (keyed by a 128-bit secret drawn at start, never shown outside this process), of the
    bytes and of the bytes plus a NUL: a keyed pseudo-random function, ~0.2 us a key where
    BLAKE2b takes ~1 us (CPython's reference BLAKE2) and would slow `write` by ~7 %. For
    n keys the odds of any two sharing 128 random bits are about n^2 / 2^129: ~6e-29 at
    the 200,000-entry bound (refilled every minute for a thousand years: ~3e-20); one
    64-bit hash would be ~1e-9 per fill, too close for "two series never share an id".
    Tag values come from devices (ifAlias, LLDP names), but without the secret nobody can
    aim two series at one digest. With a fixed PYTHONHASHSEED the secret is known, so the
    key is BLAKE2b's 128-bit digest (a chosen collision takes ~2^64 hash calls).
    The digest is only the cache: the `series` row stays keyed by name and tags, and a
    miss or a cleared cache reads the id from there.
    """
    key = _SEP.join((name, *tags, *tags.values()))
    if key.count(_SEP) != 2 * len(tags):
        return None
    try:
        raw = key.encode()
    except UnicodeEncodeError:
        return None
    if _SIPHASH:
        # injective on the pair: the low 64 bits give the second hash (and its sign)
        return hash(raw) << 64 ^ hash(raw + b"\x00")
    return _from_bytes(_blake2b(raw, digest_size=16).digest())


class Tier(enum.IntEnum):
    RAW = 0
    FIVE_MINUTE = 1
    HOURLY = 2


def open_store_db(path: Path, rollup_ns: int = ROLLUP_NS) -> sqlite3.Connection:
    """The one place a store file is opened for writing (schema created or upgraded;
    `rollup_ns`: the store's roll-up bucket, which migrated raw blocks do not span)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    _migrate_v1(db)
    db.executescript(_SCHEMA)
    _migrate_v2(db, rollup_ns)
    return db


def _tables(db: sqlite3.Connection) -> set[str]:
    return {str(r[0]) for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _migrate_v1(db: sqlite3.Connection) -> None:
    """Stores written before roll-ups kept tags on every row: move them to `series`."""
    cols = {str(r[1]) for r in db.execute("PRAGMA table_info(points)")}
    if "name" not in cols:
        return
    db.execute("ALTER TABLE points RENAME TO points_v1")
    db.execute("DROP INDEX IF EXISTS points_name_ts")
    db.execute("DROP INDEX IF EXISTS points_ts")
    db.executescript(_SCHEMA)
    db.execute("BEGIN")
    for name, tags in db.execute("SELECT DISTINCT name, tags FROM points_v1").fetchall():
        db.execute("INSERT OR IGNORE INTO series(name, tags, history) VALUES(?,?,?)",
                   (name, tags, int(is_history(str(name)))))
    db.execute("INSERT INTO points(series, ts_ns, fields) SELECT s.id, p.ts_ns, p.fields "
               "FROM points_v1 p JOIN series s ON s.name = p.name AND s.tags = p.tags")
    db.execute("DROP TABLE points_v1")
    db.execute("COMMIT")


def _insert_blocks(db: sqlite3.Connection, tier: Tier, name: str, cls: int,
                   rows: list[codec.Row]) -> None:
    for i in range(0, len(rows), MAX_BLOCK_ROWS):
        blob, n, t0, t1 = codec.encode(rows[i:i + MAX_BLOCK_ROWS])
        db.execute("INSERT INTO blocks(tier, cls, name, t0, t1, rows, data) "
                   "VALUES(?,?,?,?,?,?,?)", (int(tier), cls, name, t0, t1, n, blob))


def _migrate_v2(db: sqlite3.Connection, rollup_ns: int = ROLLUP_NS) -> None:
    """Second layout (a JSON row per raw point in `points`, a JSON row per roll-up in
    `rollup`): classify the series, move raw points and roll-ups into blocks, in chunks
    (each its own transaction: a crash leaves every row in one place or the other).

    Blocks are cut as the write paths cut them (a raw block within one `rollup_ns` bucket,
    a 5-minute one within one hour): ageing, eviction and the hourly tier go by a block's
    t1. The old layout rolled up every series but events; roll-ups of series the policy
    keeps raw only (OTHER) are dropped with the old table, as the new layout never has
    them."""
    row = db.execute("SELECT value FROM store_meta WHERE key='layout'").fetchone()
    if row is not None and int(row[0]) >= LAYOUT:
        return
    db.execute("BEGIN")
    for sid, name, tags in db.execute("SELECT id, name, tags FROM series").fetchall():
        db.execute("UPDATE series SET history=? WHERE id=?",
                   (int(classify(str(name), json.loads(tags))), sid))
    db.execute("COMMIT")
    # (select, delete, tier, bucket width of the tier's blocks)
    sources = [("SELECT p.rowid, p.series, p.ts_ns, p.fields, s.name, s.history FROM points p "
                "JOIN series s ON s.id = p.series WHERE s.history != 1 AND p.rowid > ? "
                "ORDER BY p.rowid LIMIT ?", "DELETE FROM points WHERE rowid = ?",
                Tier.RAW, rollup_ns)]
    if "rollup" in _tables(db):
        # the old roll-up table is WITHOUT ROWID: copy it into one with rowids to page it
        db.execute("BEGIN")
        db.execute("CREATE TABLE IF NOT EXISTS rollup_rowid AS "
                   "SELECT series, ts_ns, fields FROM rollup")
        db.execute("DROP TABLE rollup")
        db.execute("COMMIT")
    if "rollup_rowid" in _tables(db):  # also a migration interrupted after the copy
        sources.append(("SELECT r.rowid, r.series, r.ts_ns, r.fields, s.name, s.history FROM "
                        "rollup_rowid r JOIN series s ON s.id = r.series WHERE r.rowid > ? "
                        f"AND s.history IN ({','.join(str(int(c)) for c in _ROLLED)}) "
                        "ORDER BY r.rowid LIMIT ?",
                        "DELETE FROM rollup_rowid WHERE rowid = ?", Tier.FIVE_MINUTE,
                        _HOUR_NS))
    for select, delete, tier, width in sources:
        last = -1
        for _ in range(10**7):  # bounded: each chunk moves on by at least one row
            chunk = db.execute(select, (last, MIGRATE_CHUNK)).fetchall()
            if not chunk:
                break
            groups: dict[tuple[str, int, int], list[codec.Row]] = defaultdict(list)
            for _rowid, sid, ts, fields, name, cls in chunk:
                with contextlib.suppress(ValueError):  # a row that is not JSON: dropped
                    groups[(str(name), int(cls), int(ts) // width)].append(
                        (int(sid), int(ts), json.loads(fields)))
            db.execute("BEGIN")
            for (name, cls, _), rows in groups.items():
                _insert_blocks(db, tier, name, cls, rows)
            ids = [int(r[0]) for r in chunk]
            db.executemany(delete, [(i,) for i in ids])
            db.execute("COMMIT")
            last = ids[-1]
    if "rollup_rowid" in _tables(db):
        db.execute("DROP TABLE rollup_rowid")
    db.execute("INSERT INTO store_meta(key, value) VALUES('layout', ?) ON CONFLICT(key) "
               "DO UPDATE SET value = excluded.value", (LAYOUT,))


def _fields_json(fields: Mapping[str, FieldValue]) -> str:
    """Fields as compact JSON (no spaces: a tenth less per row)."""
    return json.dumps(dict(fields), ensure_ascii=False, separators=(",", ":"))


SeriesFilter = Callable[[str, Mapping[str, str]], bool]


class LocalStore:
    def __init__(self, path: Path, retention_hours: float, max_bytes: int, *,
                 history_days: float = 180.0, rollup_secs: float = 300.0,
                 rollup_days: float = 180.0, hourly_after_days: float = 7.0,
                 clock: Callable[[], int] = time.time_ns) -> None:
        self.path = path
        self._clock = clock  # wall clock in ns (benches replaying a day pass their own)
        self.retention_ns = int(retention_hours * 3600 * _NS)
        self.history_ns = int(history_days * 86400 * _NS)
        self.rollup_ns = int(rollup_secs * _NS)
        self.rollup_keep_ns = int(rollup_days * 86400 * _NS)
        self.hourly_after_ns = int(hourly_after_days * 86400 * _NS)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._db = open_store_db(path, self.rollup_ns)
        self._tables = _tables(self._db)
        self._writes_since_prune = 0
        # series key (`_series_key`: a 128-bit digest) → id << _CLS_BITS | class; bounded,
        # re-read from disk when cleared. Two ints an entry (~110 B with the dict's slot):
        # the joined string key cost 250 B, a tuple of tag 2-tuples and an (id, class)
        # tuple ~1.4 KB (docs/performance.md, local store).
        self._series: dict[int, int] = {}

    @staticmethod
    def open_readonly(path: Path) -> LocalStore:
        """For `query` and `report`: any layout, nothing migrated or written."""
        store = LocalStore.__new__(LocalStore)
        store.path = path
        store.retention_ns = store.history_ns = store.rollup_keep_ns = 0
        store.hourly_after_ns = 0
        store.rollup_ns = 300 * _NS
        store.max_bytes = 0
        store._lock = threading.Lock()
        store._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        store._tables = _tables(store._db)
        store._writes_since_prune = 0
        store._series = {}
        store._clock = time.time_ns
        return store

    # ------------------------------------------------------------------ writing
    def _series_id(self, name: str, tags: Mapping[str, str]) -> tuple[int, int]:
        key = _series_key(name, tags)
        hit = None if key is None else self._series.get(key)
        if hit is None:
            tag_s = json.dumps(dict(tags), sort_keys=True, ensure_ascii=False)
            self._db.execute("INSERT OR IGNORE INTO series(name, tags, history) VALUES(?,?,?)",
                             (name, tag_s, int(classify(name, tags))))
            sid, cls = self._db.execute("SELECT id, history FROM series WHERE name=? AND "
                                        "tags=?", (name, tag_s)).fetchone()
            hit = int(sid) << _CLS_BITS | int(cls)
            if key is not None:
                if len(self._series) >= SERIES_CACHE_MAX:  # bounded: re-read from disk
                    self._series.clear()
                self._series[key] = hit
        return hit >> _CLS_BITS, hit & _CLS_MASK

    def write(self, metrics: Iterable[Metric]) -> int:
        """Store one flush: events and audit results as rows, the rest as raw blocks."""
        metrics = list(metrics)
        if not metrics:
            return 0
        with self._lock:
            self._db.execute("BEGIN")
            try:
                history: list[tuple[int, int, str]] = []
                # a block never spans two roll-up buckets: it is rolled up, aged out and
                # evicted whole
                groups: dict[tuple[str, int, int], list[codec.Row]] = defaultdict(list)
                b = self.rollup_ns
                for m in metrics:
                    sid, cls = self._series_id(m.name, m.tags)
                    if cls == SeriesClass.HISTORY:
                        history.append((sid, m.ts_ns, _fields_json(m.fields)))
                    else:
                        groups[(m.name, cls, m.ts_ns // b)].append((sid, m.ts_ns, m.fields))
                if history:
                    self._db.executemany(
                        "INSERT INTO points(series, ts_ns, fields) VALUES(?,?,?)", history)
                for (name, cls, _), rows in groups.items():
                    _insert_blocks(self._db, Tier.RAW, name, cls, rows)
                self._db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                self._series.clear()  # ids inserted in the rolled-back transaction are gone
                raise
            self._writes_since_prune += len(metrics)
            if self._writes_since_prune > 20000:
                self._prune_locked()
        return len(metrics)

    def write_rollups(self, rows: Iterable[tuple[Metric, int]]) -> int:
        """Store ready-made 5-minute roll-up rows `(metric, bucket_ns)` (imports, tests)."""
        n = 0
        with self._lock:
            self._db.execute("BEGIN")
            # a block per hour: aged out, turned hourly and evicted in time order
            groups: dict[tuple[str, int, int], list[codec.Row]] = defaultdict(list)
            for m, bucket in rows:
                sid, cls = self._series_id(m.name, m.tags)
                groups[(m.name, cls, bucket // _HOUR_NS)].append((sid, m.ts_ns, m.fields))
                n += 1
            for (name, cls, _), grp in groups.items():
                _insert_blocks(self._db, Tier.FIVE_MINUTE, name, cls, grp)
            self._db.execute("COMMIT")
        return n

    # ------------------------------------------------------------------ roll-ups, bounds
    def prune(self, now_ns: int | None = None) -> None:
        with self._lock:
            self._prune_locked(now_ns)

    def _meta(self, key: str) -> int | None:
        row = self._db.execute("SELECT value FROM store_meta WHERE key=?", (key,)).fetchone()
        return None if row is None else int(row[0])

    def _set_meta(self, key: str, value: int) -> None:
        self._db.execute("INSERT INTO store_meta(key, value) VALUES(?, ?) ON CONFLICT(key) "
                         "DO UPDATE SET value = excluded.value", (key, value))

    def _count(self, key: str, n: int) -> None:
        if n:
            self._set_meta(key, (self._meta(key) or 0) + n)

    def _decode(self, blob: bytes) -> list[tuple[int, int, dict[str, FieldValue]]]:
        """A block's rows; a damaged block is set aside (skipped) and counted, never fatal."""
        try:
            return codec.decode(blob)
        except codec.BlockError as exc:
            log.warning("local store %s: %s (skipped)", self.path, exc)
            if self.max_bytes:  # writable: count it
                self._count("damaged_blocks", 1)
            return []

    def _roll_up_all_locked(self, now_ns: int) -> None:
        """Roll up every closed bucket before raw blocks may be deleted (gaps without data
        are skipped; one transaction per MAX_BUCKETS_PER_PASS buckets)."""
        if self.rollup_keep_ns <= 0:
            return
        for _ in range(100_000):  # bounded: each pass moves on by at least one bucket
            if not self._roll_up_locked(now_ns):
                return

    def _roll_up_locked(self, now_ns: int) -> bool:
        """Roll up the closed buckets after the last pass, oldest first, at most
        MAX_BUCKETS_PER_PASS of them. False when there was nothing left to do."""
        b = self.rollup_ns
        limit = (now_ns - int(ROLLUP_LAG_SECS * _NS)) // b * b  # end of the last closed
        done = self._meta("rolled_until")
        start = max(done if done is not None else _MIN_TS, now_ns - self.rollup_keep_ns)
        nxt = self._db.execute(
            "SELECT MIN(t0) FROM blocks WHERE tier = 0 AND cls IN (2, 3) AND t1 >= ?",
            (start,)).fetchone()[0]
        # nothing closed to roll up: skip the gap
        start = limit if nxt is None or int(nxt) >= limit else max(start, int(nxt) // b * b)
        end = min(limit, start + MAX_BUCKETS_PER_PASS * b)
        if start >= end:
            if start > (done if done is not None else _MIN_TS):
                self._set_meta("rolled_until", start)
            return False
        self._db.execute("BEGIN")
        try:
            for bucket in range(start, end, b):
                self._roll_bucket(bucket)
            self._set_meta("rolled_until", end)
            self._db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise
        return True

    def _roll_bucket(self, bucket: int) -> None:
        hi = bucket + self.rollup_ns
        samples: dict[tuple[str, int], dict[int, list[tuple[int, dict[str, FieldValue]]]]] = \
            defaultdict(lambda: defaultdict(list))
        for name, cls, blob in self._db.execute(
                "SELECT name, cls, data FROM blocks WHERE tier = 0 AND cls IN (2, 3) "
                "AND t1 >= ? AND t0 < ? ORDER BY t1", (bucket, hi)).fetchall():
            per_sid = samples[(str(name), int(cls))]
            for sid, ts, fields in self._decode(blob):
                if bucket <= ts < hi:
                    per_sid[sid].append((ts, fields))
        for (name, cls), per_sid in samples.items():
            out: list[codec.Row] = []
            for sid, pts in per_sid.items():
                pts.sort(key=lambda p: p[0])
                out.append((sid, pts[-1][0], codec.rollup(pts)))
            if out:
                _insert_blocks(self._db, Tier.FIVE_MINUTE, name, cls, out)

    def _hourly_locked(self, now_ns: int) -> None:
        """5-minute roll-ups of REPORT series older than `hourly_after_days` → hourly rows
        (a twelfth of the rows), a day of hours per transaction; at most a year and a half
        of hours per prune (an imported half-year is done at once): bounded work."""
        cutoff = (now_ns - self.hourly_after_ns) // _HOUR_NS * _HOUR_NS  # whole hours only
        for _ in range(550):
            self._db.execute("BEGIN")
            try:
                done = 0
                while done < 24 and self._hourly_one(cutoff):
                    done += 1
                self._db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise
            if done < 24:
                return

    def _hourly_one(self, cutoff: int) -> bool:
        """The oldest hour of 5-minute REPORT roll-ups before `cutoff` → hourly rows."""
        # walk (tier, cls, t0) from the oldest: the planner would scan every older block
        first = self._db.execute(
            "SELECT t0 FROM blocks INDEXED BY blocks_tier_cls_t0 WHERE tier = 1 AND cls = 2 "
            "AND t1 < ? ORDER BY t0 LIMIT 1", (cutoff,)).fetchone()
        if first is None:
            return False
        hour = int(first[0]) // _HOUR_NS * _HOUR_NS
        found = self._db.execute(
            "SELECT id, name, data FROM blocks WHERE tier = 1 AND cls = 2 AND t0 >= ? "
            "AND t0 < ? AND t1 < ?", (hour, hour + _HOUR_NS, cutoff)).fetchall()
        per: dict[str, dict[int, list[tuple[int, dict[str, FieldValue]]]]] = \
            defaultdict(lambda: defaultdict(list))
        for _id, name, blob in found:
            for sid, ts, fields in self._decode(blob):
                per[str(name)][sid].append((ts, fields))
        for name, per_sid in per.items():
            # rows of one series are rolled per hour of their own timestamps
            out: list[codec.Row] = []
            for sid, pts in per_sid.items():
                pts.sort(key=lambda p: p[0])
                by_hour: dict[int, list[tuple[int, dict[str, FieldValue]]]] = defaultdict(list)
                for p in pts:
                    by_hour[p[0] // _HOUR_NS].append(p)
                out += [(sid, grp[-1][0], codec.rollup_of_rollups(grp))
                        for grp in by_hour.values()]
            if out:
                _insert_blocks(self._db, Tier.HOURLY, name, SeriesClass.REPORT, out)
        ids = [int(r[0]) for r in found]
        self._db.execute(f"DELETE FROM blocks WHERE id IN ({','.join('?' * len(ids))})", ids)
        return True

    def _size(self) -> int:
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        free = self._db.execute("PRAGMA freelist_count").fetchone()[0]
        size = self._db.execute("PRAGMA page_size").fetchone()[0]
        return int((pages - free) * size)

    def _evict_blocks(self, where: str, counter: str) -> bool:
        """Delete the oldest twentieth (at least one) of the blocks matching `where`."""
        n = int(self._db.execute(f"SELECT COUNT(*) FROM blocks WHERE {where}").fetchone()[0])
        if n == 0:
            return False
        ids = self._db.execute(f"SELECT id, rows FROM blocks WHERE {where} ORDER BY t1 "
                               "LIMIT ?", (min(5000, max(1, n // 20)),)).fetchall()
        self._db.execute(f"DELETE FROM blocks WHERE id IN ({','.join('?' * len(ids))})",
                         [int(r[0]) for r in ids])
        self._count(counter, sum(int(r[1]) for r in ids))
        return True

    def _prune_locked(self, now_ns: int | None = None) -> None:
        self._writes_since_prune = 0
        now = self._clock() if now_ns is None else now_ns
        self._roll_up_all_locked(now)
        self._db.execute("DELETE FROM blocks WHERE tier = 0 AND t1 < ?",
                         (now - self.retention_ns,))
        self._db.execute("DELETE FROM points WHERE ts_ns < ? AND series IN "
                         "(SELECT id FROM series WHERE history = 1)", (now - self.history_ns,))
        self._db.execute("DELETE FROM blocks WHERE tier > 0 AND t1 < ?",
                         (now - self.rollup_keep_ns,))
        if self.rollup_keep_ns > self.hourly_after_ns:
            self._hourly_locked(now)
        # over the size bound: the oldest raw blocks, then roll-ups, then history, until it fits
        for where, counter in (("tier = 0", "evicted_raw_rows"),
                               ("tier > 0", "evicted_rollup_rows")):
            evicted = False
            for _ in range(10_000):
                if not (self.max_bytes and self._size() > self.max_bytes):
                    break
                if not self._evict_blocks(where, counter):
                    break
                evicted = True
            if evicted and where == "tier = 0":
                self._warn_window(now)
        for _ in range(10_000):
            if not (self.max_bytes and self._size() > self.max_bytes):
                break
            n = int(self._db.execute("SELECT COUNT(*) FROM points").fetchone()[0])
            if n == 0:
                break
            k = max(1, n // 10)
            self._db.execute("DELETE FROM points WHERE rowid IN "
                             "(SELECT rowid FROM points ORDER BY ts_ns LIMIT ?)", (k,))
            self._count("evicted_history_rows", k)

    def _warn_window(self, now: int) -> None:
        """The size bound, not `retention_hours`, now limits the raw window: say how much it
        holds and what bound would hold the configured one (once an hour)."""
        if now - getattr(self, "_warned_ns", _MIN_TS) < _HOUR_NS:
            return
        self._warned_ns = now
        oldest = self._db.execute("SELECT MIN(t0) FROM blocks WHERE tier = 0").fetchone()[0]
        raw = self._db.execute("SELECT SUM(LENGTH(data)) FROM blocks WHERE tier = 0"
                               ).fetchone()[0]
        if oldest is None or not raw or now <= int(oldest):
            return
        held = (now - int(oldest)) / _HOUR_NS
        if held * _HOUR_NS >= self.retention_ns:
            return
        need = self.max_bytes + int(raw) * (self.retention_ns / _HOUR_NS / held - 1)
        log.warning("local store %s: max_megabytes holds %.1f h of raw points, not the %.0f h "
                    "of retention_hours; ~%.0f MB would hold them (docs/performance.md, "
                    "'Local store')", self.path, held, self.retention_ns / _HOUR_NS,
                    need / 2**20)

    def stats(self) -> dict[str, int]:
        """Rows and bytes per tier, history rows, and the rows evicted by the size bound."""
        out: dict[str, int] = {}
        with self._lock:
            if "blocks" in self._tables:
                for tier, blocks, rows, size in self._db.execute(
                        "SELECT tier, COUNT(*), SUM(rows), SUM(LENGTH(data)) FROM blocks "
                        "GROUP BY tier"):
                    label = Tier(int(tier)).name.lower()
                    out[f"{label}_blocks"] = int(blocks)
                    out[f"{label}_rows"] = int(rows)
                    out[f"{label}_bytes"] = int(size)
            out["history_rows"] = int(
                self._db.execute("SELECT COUNT(*) FROM points").fetchone()[0])
            if "store_meta" in self._tables:
                for key, value in self._db.execute(
                        "SELECT key, value FROM store_meta WHERE key LIKE 'evicted_%' "
                        "OR key = 'damaged_blocks'"):
                    out[str(key)] = int(value)
        return out

    # ------------------------------------------------------------------ reading
    def query(
        self,
        measurement: str | None = None,
        tags: Mapping[str, str] | None = None,
        start_ns: int | None = None,
        end_ns: int | None = None,
        limit: int | None = None,
        series_filter: SeriesFilter | None = None,
    ) -> list[Metric]:
        """Points oldest first: raw where they exist, roll-ups of each series before its
        oldest raw point in the range (hourly ones before the oldest 5-minute one).
        `series_filter(name, tags)` narrows the series (and so the blocks read)."""
        where, args = "", []
        if measurement:
            where = " WHERE name = ?"
            args.append(measurement)
        lo = start_ns if start_ns is not None else _MIN_TS
        hi = end_ns if end_ns is not None else _MAX_TS
        with self._lock:
            series: dict[int, tuple[str, dict[str, str]]] = {}
            wanted: set[tuple[str, int]] = set()  # (measurement, class) of blocks to read
            for sid, name, tag_s, cls in self._db.execute(
                    f"SELECT id, name, tags, history FROM series{where}", args).fetchall():
                tag_d = json.loads(tag_s)
                if tags and any(tag_d.get(k) != v for k, v in tags.items()):
                    continue
                if series_filter is not None and not series_filter(str(name), tag_d):
                    continue
                series[int(sid)] = (str(name), tag_d)
                wanted.add((str(name), int(cls)))
            if not series:
                return []
            tiers: list[dict[int, list[tuple[int, str | dict[str, FieldValue]]]]] = [
                defaultdict(list) for _ in Tier]
            if "blocks" in self._tables:
                for name, cls in sorted(wanted):
                    for tier, blob in self._db.execute(
                            "SELECT tier, data FROM blocks WHERE name = ? AND cls = ? AND "
                            "t1 >= ? AND t0 <= ? ORDER BY t0, id", (name, cls, lo, hi)):
                        dest = tiers[int(tier)]
                        for sid, ts, fields in self._decode(blob):
                            if sid in series and lo <= ts <= hi:
                                dest[sid].append((ts, fields))
            raw = tiers[Tier.RAW]
            sids = list(series)
            for i in range(0, len(sids), 500):  # history rows (and a second layout's raw)
                part = sids[i:i + 500]
                for sid, ts, f in self._db.execute(
                        f"SELECT series, ts_ns, fields FROM points WHERE series IN "
                        f"({','.join('?' * len(part))}) AND ts_ns >= ? AND ts_ns <= ? "
                        "ORDER BY ts_ns, rowid", [*part, lo, hi]):
                    raw[int(sid)].append((int(ts), str(f)))
            if "rollup" in self._tables:  # a second-layout file read before its migration
                for sid in series:
                    tiers[Tier.FIVE_MINUTE][sid] += [(int(ts), str(f)) for ts, f in
                                                     self._db.execute(
                        "SELECT ts_ns, fields FROM rollup WHERE series = ? AND ts_ns >= ? "
                        "AND ts_ns <= ?", (sid, lo, hi))]
        rows: list[tuple[int, int, str | dict[str, FieldValue]]] = []
        for sid in series:
            floor = _MAX_TS
            for tier in (Tier.RAW, Tier.FIVE_MINUTE, Tier.HOURLY):
                pts = [p for p in tiers[tier].get(sid, ()) if p[0] < floor]
                if pts:
                    rows += [(ts, sid, f) for ts, f in pts]
                    floor = min(floor, min(p[0] for p in pts))
        rows.sort(key=lambda r: (r[0], r[1]))
        out: list[Metric] = []
        for ts, sid, fv in rows:
            name, tag_d = series[sid]
            out.append(Metric(name, tag_d, json.loads(fv) if isinstance(fv, str) else fv, ts,
                              MetricKind.GAUGE))
            if limit is not None and len(out) >= limit:
                break
        return out

    def measurements(self) -> list[tuple[str, int]]:
        """(measurement, points + roll-ups stored) for every measurement with data."""
        counts: dict[str, int] = {}
        sql = ["SELECT s.name, COUNT(*) FROM points t JOIN series s ON s.id = t.series "
               "GROUP BY s.name"]
        if "blocks" in self._tables:
            sql.append("SELECT name, SUM(rows) FROM blocks GROUP BY name")
        if "rollup" in self._tables:
            sql.append("SELECT s.name, COUNT(*) FROM rollup t JOIN series s ON s.id = "
                       "t.series GROUP BY s.name")
        with self._lock:
            for q in sql:
                for name, n in self._db.execute(q):
                    counts[str(name)] = counts.get(str(name), 0) + int(n)
        return sorted(counts.items())

    def close(self) -> None:
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.close()
