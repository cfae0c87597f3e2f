"""A durable FIFO per push exporter: SQLite in WAL mode, rows deleted only on acknowledgement.

At-least-once across kill -9: a batch leaves the queue only after the exporter's `write`
returned. Bounded by `max_bytes`: when full, the oldest rows are dropped and counted (the
count is persisted, so a restart does not forget it). Thread-safe; callers run it off the
event loop.

Memory stays flat whatever the backlog: rows are read a batch at a time through a cursor,
and the running totals (rows, items, bytes) live in three integers, not in a list of rows.
`peek` serves the oldest rows (backfill), `peek_fresh` the oldest of the rows enqueued after a
cutoff (live data while a backlog drains), `settle` resolves a batch the server took in part.

Dense: a row is a block of at most `block_items` lines stored by `qcodec` (columns, zstd):
about 3 bytes per value on campus interface data instead of ~31 as text, so the quota holds
ten times the outage. The quota counts these stored bytes. Rows written before the codec
existed (`codec` 0) stay readable as text. Set-aside rows are kept as text, for inspection.
`read_lines` and `campusmon queue dump|stats` read a queue without sqlite3.

Deleted rows leave free pages that SQLite keeps for the next backlog; `shrink` gives a
drained backlog's disk back (the output loop calls it when caught up).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from agent.core.model import Metric
from agent.core.plugin import BatchKind
from agent.framework.clock import wall_ns
from agent.framework.qcodec import Codec, CodecError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    enqueued_ns INTEGER NOT NULL,
    kind TEXT NOT NULL,
    items INTEGER NOT NULL,
    payload BLOB NOT NULL,
    codec INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS rejected (
    id INTEGER PRIMARY KEY,
    rejected_ns INTEGER NOT NULL,
    kind TEXT NOT NULL,
    items INTEGER NOT NULL,
    reason TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
log = logging.getLogger("campusmon.diskqueue")
T = TypeVar("T")
_REJECTED_KEEP = 1000  # set-aside batches kept for inspection
# Free pages a drained backlog leaves in the file before `shrink` gives them back: SQLite
# reuses them for the next backlog, so small amounts are not worth a rewrite.
SHRINK_MIN_FREE_BYTES = 64 * 2**20
BLOCK_ITEMS = 5000  # lines per stored block (= the default batch: a resend is one batch)


class QueueError(Exception):
    """The queue's disk refused a write (full or failing)."""


@dataclass(frozen=True, slots=True)
class QueueRow:
    id: int
    enqueued_ns: int
    kind: BatchKind
    items: int
    lines: list[str]


@dataclass(frozen=True, slots=True)
class QueueStats:
    rows: int
    items: int
    bytes: int
    oldest_ns: int | None
    dropped_items: int
    rejected_items: int


def open_queue_db(path: Path) -> sqlite3.Connection:
    """The one place a queue file is opened (and its schema created or upgraded)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")  # survive reboots, not only kill -9
    db.executescript(_SCHEMA)
    cols = {str(r[1]) for r in db.execute("PRAGMA table_info(queue)")}
    if "codec" not in cols:  # a queue written before blocks were compressed
        db.execute("ALTER TABLE queue ADD COLUMN codec INTEGER NOT NULL DEFAULT 0")
    return db


class DiskQueue:
    def __init__(self, path: Path, max_bytes: int, block_items: int = BLOCK_ITEMS) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.block_items = max(1, min(block_items, 65535))
        self._lock = threading.Lock()
        self._put_lock = threading.Lock()  # encoding runs outside the main lock
        self._encoder = Codec()
        self._decoder = Codec()
        self._db = open_queue_db(path)
        self._unsaved_drops = 0  # items the disk refused to take (full or failing)
        self._bytes = self._items = self._rows = 0
        self._oldest_ns: int | None = None
        self._recount()

    def _recount(self) -> None:
        row = self._db.execute(
            "SELECT COALESCE(SUM(LENGTH(payload)),0), COALESCE(SUM(items),0), COUNT(*) "
            "FROM queue").fetchone()
        self._bytes, self._items, self._rows = int(row[0]), int(row[1]), int(row[2])
        self._oldest_ns = self._head_ns()

    def _rollback_and_recount(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self._recount()  # _make_room may have changed the counters before the failure

    def _head_ns(self) -> int | None:
        # the head row is the oldest (FIFO by id; settle keeps the head's age): an index
        # lookup, where MIN(enqueued_ns) would scan a backlog of any size
        row = self._db.execute("SELECT enqueued_ns FROM queue ORDER BY id LIMIT 1").fetchone()
        return int(row[0]) if row else None

    def _trim_rejected(self) -> None:
        """Set-aside batches are for inspection: keep the newest (at least one), bounded in
        count and to a twentieth of the quota (at least 1 MiB), outside the queue's quota."""
        self._db.execute(
            "DELETE FROM rejected WHERE id IN (SELECT id FROM (SELECT id, "
            "COUNT(*) OVER w AS n, SUM(LENGTH(payload)) OVER w AS b FROM rejected "
            "WINDOW w AS (ORDER BY id DESC)) WHERE n > 1 AND (n > ? OR b > ?))",
            (_REJECTED_KEEP, max(2**20, self.max_bytes // 20)))

    def _meta_add(self, key: str, n: int) -> None:
        self._db.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = value + excluded.value", (key, n))

    def _meta(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def _txn(self, body: Callable[[], T]) -> T:
        """Run `body` in a write transaction (caller holds the lock).

        On a full or failing disk: roll back, fold the WAL into the database (it may hold the
        only free space) and try once more; then raise QueueError. The counters are recounted
        from the file after a rollback.
        """
        for attempt in (1, 2):
            try:
                self._db.execute("BEGIN IMMEDIATE")
                result = body()
                self._db.execute("COMMIT")
                return result
            except sqlite3.OperationalError as exc:
                self._rollback_and_recount()
                if attempt == 2:
                    raise QueueError(f"{self.path}: {exc}") from exc
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except BaseException:
                self._rollback_and_recount()
                raise
        raise AssertionError("unreachable")

    def put(self, kind: BatchKind, lines: list[str]) -> int:
        """Append one row; returns how many items had to be dropped to make room.

        A disk that is full (below the quota) or failing does not stop the agent: these items
        are dropped and counted (in memory: the disk cannot take the count either).
        """
        if not lines:
            return 0
        # CPU-heavy encoding happens before the queue lock: peeks and acks go on meanwhile
        with self._put_lock:
            blocks = [(len(chunk), *self._encoder.encode(chunk))
                      for chunk in (lines[k:k + self.block_items]
                                    for k in range(0, len(lines), self.block_items))]
        return self._insert(kind, blocks, len(lines))

    def put_metrics(self, kind: BatchKind, metrics: Sequence[Metric]) -> tuple[int, int]:
        """Append the lines `render_many(metrics)` gives, encoded straight from the objects
        (no render-then-split: `qcodec.encode_metrics`); returns (items queued, dropped).
        Same guarantees as `put`; a block decodes to exactly those lines."""
        if not metrics:
            return 0, 0
        step = self.block_items
        with self._put_lock:
            blocks = [b for b in (self._encoder.encode_metrics(metrics[k:k + step])
                                  for k in range(0, len(metrics), step)) if b[0]]
        items = sum(n for n, _, _ in blocks)
        return items, (self._insert(kind, blocks, items) if items else 0)

    def _insert(self, kind: BatchKind, blocks: list[tuple[int, int, bytes]], items: int) -> int:
        """Store encoded blocks as rows in one transaction, making room first (oldest rows
        dropped and counted); returns the items dropped."""
        size = sum(len(p) for _, _, p in blocks)
        now = wall_ns()  # the framework clock: a backward step never makes backlog "fresh"

        def body() -> int:
            dropped = self._make_room(size)
            self._db.executemany(
                "INSERT INTO queue(enqueued_ns, kind, items, payload, codec) VALUES(?,?,?,?,?)",
                [(now, kind.value, n, p, c) for n, c, p in blocks])
            return dropped

        with self._lock:
            try:
                dropped = self._txn(body)
            except QueueError as exc:
                self._unsaved_drops += items
                log.error("cannot queue %d items: %s", items, exc)
                return items
            self._bytes += size
            self._items += items
            self._rows += len(blocks)
            if self._oldest_ns is None:
                self._oldest_ns = now
            return dropped

    def _make_room(self, incoming: int) -> int:
        dropped = 0
        while self._rows and self._bytes + incoming > self.max_bytes:
            # drop the oldest 1% of rows (at least one) per round, counted
            n = max(1, self._rows // 100)
            rows = self._db.execute(
                "SELECT id, items, LENGTH(payload) FROM queue ORDER BY id LIMIT ?", (n,)
            ).fetchall()
            ids = [r[0] for r in rows]
            self._db.execute(
                f"DELETE FROM queue WHERE id IN ({','.join('?' * len(ids))})", ids)
            for _, items, size in rows:
                dropped += items
                self._items -= items
                self._bytes -= size
                self._rows -= 1
        if dropped:
            self._meta_add("dropped_items", dropped)
            self._oldest_ns = self._head_ns()
        return dropped

    def peek(self, max_items: int) -> list[QueueRow]:
        """Oldest rows of one kind, up to `max_items` items (at least one row)."""
        with self._lock:
            return self._collect(0, max_items)

    def peek_fresh(self, since_ns: int, max_items: int) -> list[QueueRow]:
        """Oldest rows among those enqueued at or after `since_ns` (the live tail).

        Walks back from the newest row and stops at the first older one, so the cost depends
        on the size of the tail, not of the backlog in front of it.
        """
        with self._lock:
            first: int | None = None
            for rid, ts in self._db.execute(
                    "SELECT id, enqueued_ns FROM queue ORDER BY id DESC"):
                if ts < since_ns:
                    break
                first = rid
            return [] if first is None else self._collect(first, max_items)

    def _collect(self, from_id: int, max_items: int) -> list[QueueRow]:
        # Choose the rows from their small columns first, then read only their payloads:
        # a payload spans overflow pages, and reading one row too many to find the limit
        # would double the cost of a peek.
        chosen: list[tuple[int, int, str, int]] = []
        total = 0
        for rid, ts, kind, items in self._db.execute(
                "SELECT id, enqueued_ns, kind, items FROM queue WHERE id >= ? "
                "ORDER BY id LIMIT 1000", (from_id,)):
            if chosen and (kind != chosen[0][2] or total + items > max_items):
                break
            chosen.append((rid, ts, kind, items))
            total += items
        if not chosen:
            return []
        payloads = {int(r[0]): (int(r[1]), bytes(r[2])) for r in self._db.execute(
            "SELECT id, codec, payload FROM queue WHERE id BETWEEN ? AND ?",
            (chosen[0][0], chosen[-1][0]))}
        out: list[QueueRow] = []
        for rid, ts, kind, items in chosen:
            codec, payload = payloads[rid]
            try:
                lines = self._decoder.decode(codec, payload)
            except (CodecError, UnicodeDecodeError) as exc:
                # a damaged block must not stop delivery: keep its bytes aside, go on
                self._set_aside_corrupt(rid, kind, items, payload, f"unreadable block: {exc}")
                continue
            out.append(QueueRow(rid, ts, BatchKind(kind), items, lines))
        return out

    def _set_aside_corrupt(self, rid: int, kind: str, items: int, payload: bytes,
                           reason: str) -> None:
        log.error("%s: row %d (%d items) set aside: %s", self.path, rid, items, reason)

        def body() -> None:
            self._db.execute(
                "INSERT INTO rejected(rejected_ns, kind, items, reason, payload) "
                "VALUES(?,?,?,?,?)", (time.time_ns(), kind, items, reason[:2000], payload))
            self._db.execute("DELETE FROM queue WHERE id = ?", (rid,))
            self._meta_add("rejected_items", items)

        self._txn(body)
        self._items -= items
        self._bytes -= len(payload)
        self._rows -= 1
        self._oldest_ns = self._head_ns()

    def ack(self, ids: list[int]) -> None:
        """Delete delivered rows. Raises QueueError when the disk refuses (sent again later)."""
        if not ids:
            return
        marks = ",".join("?" * len(ids))

        def body() -> tuple[int, int, int]:
            row = self._db.execute(
                f"SELECT COALESCE(SUM(items),0), COALESCE(SUM(LENGTH(payload)),0), "
                f"COUNT(*) FROM queue WHERE id IN ({marks})", ids).fetchone()
            self._db.execute(f"DELETE FROM queue WHERE id IN ({marks})", ids)
            return int(row[0]), int(row[1]), int(row[2])

        with self._lock:
            # An ack need not reach the platter before we go on: if power fails first, the
            # batch is sent once more (at-least-once allows it); a put must (FULL), or data is
            # lost. This saves one fsync per delivered batch: backlog drains faster.
            # (kill -9 loses nothing either way: the WAL is in the OS page cache)
            self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                items, size, rows = self._txn(body)
            finally:
                self._db.execute("PRAGMA synchronous=FULL")
            self._items -= items
            self._bytes -= size
            self._rows -= rows
            self._oldest_ns = self._head_ns()

    def set_aside(self, ids: list[int], reason: str) -> int:
        """Move rows the server refused for good into `rejected`; returns items moved."""
        if not ids:
            return 0
        marks = ",".join("?" * len(ids))
        now = time.time_ns()

        def body() -> tuple[int, int, int]:
            items, size, rows = self._db.execute(
                f"SELECT COALESCE(SUM(items),0), COALESCE(SUM(LENGTH(payload)),0), COUNT(*) "
                f"FROM queue WHERE id IN ({marks})", ids).fetchone()
            moved = [(now, kind, n, reason[:2000], self._as_text(codec, bytes(payload)))
                     for kind, n, codec, payload in self._db.execute(
                         f"SELECT kind, items, codec, payload FROM queue "
                         f"WHERE id IN ({marks}) ORDER BY id", ids)]
            self._db.executemany(
                "INSERT INTO rejected(rejected_ns, kind, items, reason, payload) "
                "VALUES(?,?,?,?,?)", moved)
            self._db.execute(f"DELETE FROM queue WHERE id IN ({marks})", ids)
            self._trim_rejected()
            self._meta_add("rejected_items", int(items))
            return int(items), int(size), int(rows)

        with self._lock:
            moved, size, rows = self._txn(body)
            self._items -= moved
            self._bytes -= size
            self._rows -= rows
            self._oldest_ns = self._head_ns()
            return moved

    def settle(self, ids: list[int], *, keep: list[str], rejected: list[str],
               reason: str) -> None:
        """Resolve a batch the server took in part, in one transaction (kill -9 safe).

        The rows `ids` leave the queue; `rejected` lines go to `rejected` with the server's
        reason; `keep` lines (not yet delivered) stay at the head of the queue, in the place
        and with the age of the first row, so they are retried before anything newer.
        """
        if not ids:
            return
        marks = ",".join("?" * len(ids))
        now = time.time_ns()
        with self._put_lock:
            kept_codec, kept_payload = self._encoder.encode(keep) if keep else (0, b"")

        def body() -> tuple[int, int, int] | None:
            head = self._db.execute(
                f"SELECT MIN(id), MIN(enqueued_ns), kind, COALESCE(SUM(items),0), "
                f"COALESCE(SUM(LENGTH(payload)),0), COUNT(*) FROM queue "
                f"WHERE id IN ({marks})", ids).fetchone()
            if head[0] is None:
                return None  # already gone (dropped by the quota meanwhile)
            first_id, first_ns, kind = int(head[0]), int(head[1]), str(head[2])
            self._db.execute(f"DELETE FROM queue WHERE id IN ({marks})", ids)
            if keep:
                self._db.execute(
                    "INSERT INTO queue(id, enqueued_ns, kind, items, payload, codec) "
                    "VALUES(?,?,?,?,?,?)",
                    (first_id, first_ns, kind, len(keep), kept_payload, kept_codec))
            if rejected:
                self._db.execute(
                    "INSERT INTO rejected(rejected_ns, kind, items, reason, payload) "
                    "VALUES(?,?,?,?,?)",
                    (now, kind, len(rejected), reason[:2000], "\n".join(rejected).encode()))
                self._trim_rejected()
                self._meta_add("rejected_items", len(rejected))
            return int(head[3]), int(head[4]), int(head[5])

        with self._lock:
            gone = self._txn(body)
            if gone is None:
                return
            self._items += len(keep) - gone[0]
            self._bytes += (len(kept_payload) if keep else 0) - gone[1]
            self._rows += (1 if keep else 0) - gone[2]
            self._oldest_ns = self._head_ns()

    def _as_text(self, codec: int, payload: bytes) -> bytes:
        """Set-aside rows are kept as text lines, readable with any tool."""
        try:
            return "\n".join(self._decoder.decode(codec, payload)).encode()
        except (CodecError, UnicodeDecodeError):
            return payload  # unreadable anyway: keep the bytes as they were

    def rejected_reasons(self, limit: int = 20) -> list[tuple[int, str]]:
        with self._lock:
            return [(int(r[0]), str(r[1])) for r in self._db.execute(
                "SELECT items, reason FROM rejected ORDER BY id DESC LIMIT ?", (limit,))]

    def stats(self) -> QueueStats:
        with self._lock:
            return QueueStats(self._rows, self._items, self._bytes, self._oldest_ns,
                              self._meta("dropped_items") + self._unsaved_drops,
                              self._meta("rejected_items"))

    def disk_bytes(self) -> int:
        """What the queue takes on disk: its file and its write-ahead log."""
        wal = self.path.with_name(self.path.name + "-wal")
        return self.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)

    def shrink(self, min_free_bytes: int | None = None) -> int:
        """Give the disk a drained backlog took back to the file system; returns the bytes
        given back (0: not worth it, or busy). Deleted rows leave free pages that the file
        keeps (72 h of a 1,000-switch campus: 9.7 GiB, empty). Rewrites the file (VACUUM,
        atomic like any transaction) only when the free pages are at least `min_free_bytes`
        and four times what is still stored, so the copy stays small next to the gain
        (None: `SHRINK_MIN_FREE_BYTES`)."""
        if min_free_bytes is None:
            min_free_bytes = SHRINK_MIN_FREE_BYTES
        with self._lock:
            try:
                page = int(self._db.execute("PRAGMA page_size").fetchone()[0])
                pages = int(self._db.execute("PRAGMA page_count").fetchone()[0])
                free = int(self._db.execute("PRAGMA freelist_count").fetchone()[0]) * page
                if free < max(min_free_bytes, 4 * (pages * page - free)):
                    return 0
                before = self.disk_bytes()
                self._db.execute("VACUUM")
                # the rewritten file is in the WAL until a checkpoint moves it back
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                gained = max(0, before - self.disk_bytes())
            except (sqlite3.Error, OSError) as exc:  # a reader holds it, or the disk is full
                log.info("%s: not shrunk now (%s); tried again later", self.path, exc)
                return 0
            log.info("%s: gave back %.1f MiB a drained backlog left", self.path, gained / 2**20)
            return gained

    def close(self) -> None:
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.close()


@dataclass(frozen=True, slots=True)
class DumpedRow:
    id: int
    enqueued_ns: int
    kind: str
    items: int
    stored_bytes: int
    lines: list[str]


def read_rows(path: Path, limit: int | None = None) -> Iterator[DumpedRow]:
    """Queued rows decoded, oldest first, one at a time, from a read-only connection (safe
    beside a running agent: WAL readers never block the writer). For tests and
    `campusmon queue dump`."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    codec = Codec()
    try:
        cols = {str(r[1]) for r in db.execute("PRAGMA table_info(queue)")}
        sel = "codec" if "codec" in cols else "0"
        sql = f"SELECT id, enqueued_ns, kind, items, {sel}, payload FROM queue ORDER BY id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        for rid, ts, kind, items, c, payload in db.execute(sql):
            try:
                lines = codec.decode(int(c), bytes(payload))
            except (CodecError, UnicodeDecodeError) as exc:
                lines = [f"# unreadable block: {exc}"]
            yield DumpedRow(int(rid), int(ts), str(kind), int(items), len(payload), lines)
    finally:
        db.close()


def read_lines(path: Path) -> list[str]:
    """Every queued line, oldest first (read-only)."""
    return [line for row in read_rows(path) for line in row.lines]
