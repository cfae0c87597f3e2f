"""Points on local disk: the embedded default store, read by `campusmon query` and
`campusmon report --config` (offline, over months).

Three kinds of row, each with its own retention, all under one size bound:
- raw points, kept `retention_hours`;
- history: events and audit results (`event`, `audit_*`), kept raw `history_days` (180 by
  default: the period inspection reports cover);
- roll-ups: every other series downsampled to `rollup_secs` buckets (5 minutes), kept
  `rollup_days`. A roll-up row holds, per field: integers (counters, states) the last value
  of the bucket, so counter deltas and rates still work at 5-minute resolution; floats
  (rates, utilisation, temperatures) the bucket average, plus `<field>_max`; text the last
  value. Its timestamp is that of the bucket's last sample.
`query` returns raw points where they exist and roll-ups before them, so a reader sees one
series reaching back months. Points that arrive for a bucket already rolled up are kept raw
only (the roll-up is not rewritten).

Compact rows: a series (measurement + tags) is stored once in `series`; point rows hold its
id, the timestamp and the fields. Over the size bound, the oldest raw points go first, then
the oldest roll-ups, then the oldest history.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from agent.core.model import FieldValue, Metric, MetricKind

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
CREATE TABLE IF NOT EXISTS rollup (
    series INTEGER NOT NULL,
    bucket_ns INTEGER NOT NULL,
    ts_ns INTEGER NOT NULL,
    fields TEXT NOT NULL,
    PRIMARY KEY(series, bucket_ns)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rollup_bucket ON rollup(bucket_ns);
CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
_NS = 1_000_000_000
ROLLUP_LAG_SECS = 120.0  # a bucket is rolled up this long after it ends (late flushes)
MAX_BUCKETS_PER_PASS = 288  # one day of 5-minute buckets per prune: bounded work


def is_history(name: str) -> bool:
    """Kept raw for the reports' period: events and audit results."""
    return name == "event" or name.startswith("audit_")


def open_store_db(path: Path) -> sqlite3.Connection:
    """The one place a store file is opened for writing (schema created or upgraded)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    _migrate_v1(db)
    db.executescript(_SCHEMA)
    return db


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


def _fields_json(fields: Mapping[str, FieldValue]) -> str:
    """Fields as compact JSON (no spaces: a tenth less per row)."""
    return json.dumps(dict(fields), ensure_ascii=False, separators=(",", ":"))


def _rollup(samples: list[tuple[int, dict[str, FieldValue]]]) -> dict[str, FieldValue]:
    """One bucket of one series (samples oldest first) → the roll-up's fields."""
    out: dict[str, FieldValue] = {}
    floats: dict[str, list[float]] = {}
    for _, fields in samples:
        for k, v in fields.items():
            if isinstance(v, float):
                floats.setdefault(k, []).append(v)
            else:
                out[k] = v  # integers, booleans, text: the last value
    for k, vals in floats.items():
        out[k] = sum(vals) / len(vals)
        out[f"{k}_max"] = max(vals)
    return out


class LocalStore:
    def __init__(self, path: Path, retention_hours: float, max_bytes: int, *,
                 history_days: float = 180.0, rollup_secs: float = 300.0,
                 rollup_days: float = 180.0) -> None:
        self.path = path
        self.retention_ns = int(retention_hours * 3600 * _NS)
        self.history_ns = int(history_days * 86400 * _NS)
        self.rollup_ns = int(rollup_secs * _NS)
        self.rollup_keep_ns = int(rollup_days * 86400 * _NS)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._db = open_store_db(path)
        self._writes_since_prune = 0
        self._series: dict[tuple[str, str], int] = {}  # bounded cache of series ids

    @staticmethod
    def open_readonly(path: Path) -> LocalStore:
        store = LocalStore.__new__(LocalStore)
        store.path = path
        store.retention_ns = store.history_ns = store.rollup_keep_ns = 0
        store.rollup_ns = 300 * _NS
        store.max_bytes = 0
        store._lock = threading.Lock()
        store._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        store._writes_since_prune = 0
        store._series = {}
        return store

    # ------------------------------------------------------------------ writing
    def _series_id(self, name: str, tags: str) -> int:
        key = (name, tags)
        sid = self._series.get(key)
        if sid is None:
            self._db.execute("INSERT OR IGNORE INTO series(name, tags, history) VALUES(?,?,?)",
                             (name, tags, int(is_history(name))))
            sid = int(self._db.execute("SELECT id FROM series WHERE name=? AND tags=?",
                                       key).fetchone()[0])
            if len(self._series) >= 100_000:  # bounded: a huge site re-reads ids from disk
                self._series.clear()
            self._series[key] = sid
        return sid

    def write(self, metrics: Iterable[Metric]) -> int:
        rows = [(m.name, json.dumps(dict(m.tags), sort_keys=True, ensure_ascii=False),
                 m.ts_ns, _fields_json(m.fields)) for m in metrics]
        if not rows:
            return 0
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT INTO points(series, ts_ns, fields) VALUES(?,?,?)",
                    [(self._series_id(n, t), ts, f) for n, t, ts, f in rows])
                self._db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                self._series.clear()  # ids inserted in the rolled-back transaction are gone
                raise
            self._writes_since_prune += len(rows)
            if self._writes_since_prune > 20000:
                self._prune_locked()
        return len(rows)

    def write_rollups(self, rows: Iterable[tuple[Metric, int]]) -> int:
        """Store ready-made roll-up rows `(metric, bucket_ns)` (imports, tests)."""
        n = 0
        with self._lock:
            self._db.execute("BEGIN")
            for m, bucket in rows:
                sid = self._series_id(m.name, json.dumps(dict(m.tags), sort_keys=True,
                                                         ensure_ascii=False))
                self._db.execute("INSERT OR REPLACE INTO rollup(series, bucket_ns, ts_ns, "
                                 "fields) VALUES(?,?,?,?)",
                                 (sid, bucket, m.ts_ns, _fields_json(m.fields)))
                n += 1
            self._db.execute("COMMIT")
        return n

    # ------------------------------------------------------------------ roll-ups, bounds
    def prune(self, now_ns: int | None = None) -> None:
        with self._lock:
            self._prune_locked(now_ns)

    def _meta(self, key: str) -> int | None:
        row = self._db.execute("SELECT value FROM store_meta WHERE key=?", (key,)).fetchone()
        return None if row is None else int(row[0])

    def _roll_up_all_locked(self, now_ns: int) -> None:
        """Roll up every closed bucket before raw points may be deleted (gaps without data
        are skipped; one transaction per MAX_BUCKETS_PER_PASS buckets)."""
        for _ in range(100_000):  # bounded: each pass moves on by at least one bucket
            if not self._roll_up_locked(now_ns):
                return

    def _roll_up_locked(self, now_ns: int) -> bool:
        """Roll up the closed buckets after the last pass, oldest first, at most
        MAX_BUCKETS_PER_PASS of them. False when there was nothing left to do."""
        b = self.rollup_ns
        limit = (now_ns - int(ROLLUP_LAG_SECS * _NS)) // b * b  # end of the last closed
        start = max(self._meta("rolled_until") or -(2**62), now_ns - self.rollup_keep_ns)
        nxt = self._db.execute("SELECT MIN(ts_ns) FROM points WHERE ts_ns >= ?",
                               (start,)).fetchone()[0]
        # nothing closed to roll up: skip the gap
        start = limit if nxt is None or int(nxt) >= limit else max(start, int(nxt) // b * b)
        end = min(limit, start + MAX_BUCKETS_PER_PASS * b)
        if start >= end:
            if start > (self._meta("rolled_until") or -(2**62)):
                self._db.execute(
                    "INSERT INTO store_meta(key, value) VALUES('rolled_until', ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (start,))
            return False
        limit = end
        self._db.execute("BEGIN")
        try:
            self._roll_buckets(start, limit)
            self._db.execute(
                "INSERT INTO store_meta(key, value) VALUES('rolled_until', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (limit,))
            self._db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise
        return True

    def _roll_buckets(self, start: int, limit: int) -> None:
        b = self.rollup_ns
        for bucket in range(start, limit, b):
            rows = self._db.execute(
                "SELECT p.series, p.ts_ns, p.fields FROM points p JOIN series s "
                "ON s.id = p.series WHERE p.ts_ns >= ? AND p.ts_ns < ? AND s.history = 0 "
                "ORDER BY p.series, p.ts_ns", (bucket, bucket + b))
            out = []
            for sid, group in itertools.groupby(rows, key=lambda r: int(r[0])):
                samples = [(int(ts), json.loads(f)) for _, ts, f in group]
                out.append((sid, bucket, samples[-1][0], _fields_json(_rollup(samples))))
            self._db.executemany("INSERT OR REPLACE INTO rollup(series, bucket_ns, ts_ns, "
                                 "fields) VALUES(?,?,?,?)", out)

    def _size(self) -> int:
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        free = self._db.execute("PRAGMA freelist_count").fetchone()[0]
        size = self._db.execute("PRAGMA page_size").fetchone()[0]
        return int((pages - free) * size)

    def _prune_locked(self, now_ns: int | None = None) -> None:
        self._writes_since_prune = 0
        now = time.time_ns() if now_ns is None else now_ns
        self._roll_up_all_locked(now)
        self._db.execute(
            "DELETE FROM points WHERE ts_ns < ? AND series IN "
            "(SELECT id FROM series WHERE history = 0)", (now - self.retention_ns,))
        self._db.execute(
            "DELETE FROM points WHERE ts_ns < ? AND series IN "
            "(SELECT id FROM series WHERE history = 1)", (now - self.history_ns,))
        self._db.execute("DELETE FROM rollup WHERE bucket_ns < ?", (now - self.rollup_keep_ns,))
        # over the size bound: a tenth of the oldest raw points, then of the roll-ups, then
        # of the history, until it fits
        steps = (
            ("SELECT COUNT(*) FROM points WHERE series IN "
             "(SELECT id FROM series WHERE history = 0)",
             "DELETE FROM points WHERE rowid IN (SELECT p.rowid FROM points p JOIN series s "
             "ON s.id = p.series WHERE s.history = 0 ORDER BY p.ts_ns LIMIT ?)"),
            ("SELECT COUNT(*) FROM rollup",
             "DELETE FROM rollup WHERE (series, bucket_ns) IN (SELECT series, bucket_ns "
             "FROM rollup ORDER BY bucket_ns LIMIT ?)"),
            ("SELECT COUNT(*) FROM points",
             "DELETE FROM points WHERE rowid IN "
             "(SELECT rowid FROM points ORDER BY ts_ns LIMIT ?)"),
        )
        for count_sql, delete_sql in steps:
            while self.max_bytes and self._size() > self.max_bytes:
                n = int(self._db.execute(count_sql).fetchone()[0])
                if n == 0:
                    break
                self._db.execute(delete_sql, (max(1, n // 10),))

    # ------------------------------------------------------------------ reading
    def query(
        self,
        measurement: str | None = None,
        tags: Mapping[str, str] | None = None,
        start_ns: int | None = None,
        end_ns: int | None = None,
        limit: int | None = None,
    ) -> list[Metric]:
        """Points oldest first: raw where they exist, roll-ups of each series before its
        oldest raw point in the range."""
        where, args = "", []
        if measurement:
            where = " WHERE name = ?"
            args.append(measurement)
        out: list[Metric] = []
        with self._lock:
            series = {}
            for sid, name, tag_s in self._db.execute(
                    f"SELECT id, name, tags FROM series{where}", args).fetchall():
                tag_d = json.loads(tag_s)
                if tags and any(tag_d.get(k) != v for k, v in tags.items()):
                    continue
                series[int(sid)] = (str(name), tag_d)
            if not series:
                return []
            lo = start_ns if start_ns is not None else -(2**63)
            hi = end_ns if end_ns is not None else 2**63 - 1
            raw_first: dict[int, int] = {}
            for sid in series:
                first = self._db.execute(
                    "SELECT MIN(ts_ns) FROM points WHERE series = ? AND ts_ns >= ? "
                    "AND ts_ns <= ?", (sid, lo, hi)).fetchone()[0]
                if first is not None:
                    raw_first[sid] = int(first)
            rows: list[tuple[int, int, str]] = []
            for sid in series:
                rows += [(int(ts), sid, f) for ts, f in self._db.execute(
                    "SELECT ts_ns, fields FROM rollup WHERE series = ? AND ts_ns >= ? "
                    "AND ts_ns <= ? AND ts_ns < ?",
                    (sid, lo, hi, raw_first.get(sid, 2**63 - 1)))]
                if sid in raw_first:
                    rows += [(int(ts), sid, f) for ts, f in self._db.execute(
                        "SELECT ts_ns, fields FROM points WHERE series = ? AND ts_ns >= ? "
                        "AND ts_ns <= ? ORDER BY ts_ns, rowid", (sid, lo, hi))]
        rows.sort(key=lambda r: (r[0], r[1]))
        for ts, sid, fields in rows:
            name, tag_d = series[sid]
            out.append(Metric(name, tag_d, json.loads(fields), ts, MetricKind.GAUGE))
            if limit is not None and len(out) >= limit:
                break
        return out

    def measurements(self) -> list[tuple[str, int]]:
        """(measurement, points + roll-ups stored) for every measurement with data."""
        counts: dict[str, int] = {}
        with self._lock:
            for table in ("points", "rollup"):
                for name, n in self._db.execute(
                        f"SELECT s.name, COUNT(*) FROM {table} t JOIN series s "
                        f"ON s.id = t.series GROUP BY s.name"):
                    counts[str(name)] = counts.get(str(name), 0) + int(n)
        return sorted(counts.items())

    def close(self) -> None:
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.close()
