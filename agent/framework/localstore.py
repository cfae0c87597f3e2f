"""Recent points on local disk: the embedded default store, read by `campusmon query`.

Bounded by retention (hours) and size (megabytes, oldest dropped first).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from agent.core.model import Metric, MetricKind

_SCHEMA = """
CREATE TABLE IF NOT EXISTS points (
    ts_ns INTEGER NOT NULL,
    name TEXT NOT NULL,
    tags TEXT NOT NULL,
    fields TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS points_name_ts ON points(name, ts_ns);
CREATE INDEX IF NOT EXISTS points_ts ON points(ts_ns);
"""


class LocalStore:
    def __init__(self, path: Path, retention_hours: float, max_bytes: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.retention_ns = int(retention_hours * 3600 * 1e9)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._writes_since_prune = 0

    @staticmethod
    def open_readonly(path: Path) -> LocalStore:
        store = LocalStore.__new__(LocalStore)
        store.path = path
        store.retention_ns = 0
        store.max_bytes = 0
        store._lock = threading.Lock()
        store._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        store._writes_since_prune = 0
        return store

    def write(self, metrics: Iterable[Metric]) -> int:
        rows = [
            (m.ts_ns, m.name, json.dumps(dict(m.tags), sort_keys=True, ensure_ascii=False),
             json.dumps(dict(m.fields), ensure_ascii=False))
            for m in metrics
        ]
        if not rows:
            return 0
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO points(ts_ns, name, tags, fields) VALUES(?,?,?,?)", rows)
            self._db.execute("COMMIT")
            self._writes_since_prune += len(rows)
            if self._writes_since_prune > 20000:
                self._prune_locked()
        return len(rows)

    def prune(self) -> None:
        with self._lock:
            self._prune_locked()

    def _size(self) -> int:
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        free = self._db.execute("PRAGMA freelist_count").fetchone()[0]
        size = self._db.execute("PRAGMA page_size").fetchone()[0]
        return int((pages - free) * size)

    def _prune_locked(self) -> None:
        self._writes_since_prune = 0
        cutoff = time.time_ns() - self.retention_ns
        self._db.execute("DELETE FROM points WHERE ts_ns < ?", (cutoff,))
        while self.max_bytes and self._size() > self.max_bytes:
            n = self._db.execute("SELECT COUNT(*) FROM points").fetchone()[0]
            if n == 0:
                break
            self._db.execute(
                "DELETE FROM points WHERE rowid IN "
                "(SELECT rowid FROM points ORDER BY ts_ns LIMIT ?)", (max(1, n // 10),))

    def query(
        self,
        measurement: str | None = None,
        tags: Mapping[str, str] | None = None,
        start_ns: int | None = None,
        end_ns: int | None = None,
        limit: int | None = None,
    ) -> list[Metric]:
        sql = "SELECT ts_ns, name, tags, fields FROM points WHERE 1=1"
        args: list[object] = []
        if measurement:
            sql += " AND name = ?"
            args.append(measurement)
        if start_ns is not None:
            sql += " AND ts_ns >= ?"
            args.append(start_ns)
        if end_ns is not None:
            sql += " AND ts_ns <= ?"
            args.append(end_ns)
        sql += " ORDER BY ts_ns, rowid"
        out: list[Metric] = []
        with self._lock:
            for ts, name, tag_s, field_s in self._db.execute(sql, args):
                tag_d = json.loads(tag_s)
                if tags and any(tag_d.get(k) != v for k, v in tags.items()):
                    continue
                out.append(Metric(name, tag_d, json.loads(field_s), ts, MetricKind.GAUGE))
                if limit is not None and len(out) >= limit:
                    break
        return out

    def measurements(self) -> list[tuple[str, int]]:
        with self._lock:
            return [(str(r[0]), int(r[1])) for r in self._db.execute(
                "SELECT name, COUNT(*) FROM points GROUP BY name ORDER BY name")]

    def close(self) -> None:
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.close()
