"""`campusmon queue stats|dump`: look into the disk queues without sqlite3 (rows are
compressed blocks). Read-only: safe beside a running agent."""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from agent.core.errors import ConfigError
from agent.framework.diskqueue import read_rows


def _queue_files(args: argparse.Namespace) -> list[Path]:
    if args.queue:
        if not Path(args.queue).is_file():
            raise ConfigError.one("", f"queue: no queue file at {args.queue}")
        return [Path(args.queue)]
    if not args.config:
        raise ConfigError.one("", "queue: give --config FILE or --queue PATH")
    from agent.app.cli import _load

    qdir = _load(args).data_dir / "queue"
    return sorted(qdir.glob("*.db")) if qdir.is_dir() else []


def _stats_row(path: Path, now_ns: int) -> tuple[str, ...]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        rows, items, size = db.execute(
            "SELECT COUNT(*), COALESCE(SUM(items),0), COALESCE(SUM(LENGTH(payload)),0) "
            "FROM queue").fetchone()
        head = db.execute("SELECT enqueued_ns FROM queue ORDER BY id LIMIT 1").fetchone()
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        rej = db.execute("SELECT COUNT(*), COALESCE(SUM(items),0) FROM rejected").fetchone()
    finally:
        db.close()
    age = f"{(now_ns - int(head[0])) / 1e9:.0f}s" if head else "-"
    per = f"{size / items:.1f}" if items else "-"
    return (path.stem, str(rows), str(items), str(size), per, age,
            str(meta.get("dropped_items", 0)), str(meta.get("rejected_items", 0)),
            f"{rej[0]} rows / {rej[1]} items")


def cmd_queue(args: argparse.Namespace) -> int:
    from agent.app.cli import _print_table

    files = _queue_files(args)
    if not files:
        print("campusmon: queue: no disk queue found (has the agent run with a push output?)",
              file=sys.stderr)
        return 2
    if args.action == "stats":
        now = time.time_ns()
        _print_table([("QUEUE", "ROWS", "ITEMS", "STORED_BYTES", "BYTES_PER_ITEM",
                       "OLDEST_AGE", "DROPPED_TOTAL", "REJECTED_TOTAL", "SET_ASIDE_KEPT"),
                      *(_stats_row(f, now) for f in files)])
        return 0
    for f in files:
        shown = 0
        for row in read_rows(f, limit=args.rows):
            if args.headers:
                print(f"# {f.stem} row {row.id}: {row.kind}, {row.items} items, "
                      f"{row.stored_bytes} bytes stored, enqueued {row.enqueued_ns}")
            for line in row.lines:
                print(line)
                shown += 1
                if args.limit is not None and shown >= args.limit:
                    break
            if args.limit is not None and shown >= args.limit:
                break
    return 0


def register(sub: Any) -> None:
    sp = sub.add_parser("queue", help="disk queues: stats, or dump the queued lines")
    sp.add_argument("action", choices=("stats", "dump"))
    sp.add_argument("--config", "-c", help="agent config: every queue of its data dir")
    sp.add_argument("--queue", "-q", help="one queue file (instead of --config)")
    sp.add_argument("--rows", type=int, help="dump: at most this many rows, oldest first")
    sp.add_argument("--limit", type=int, help="dump: at most this many lines per queue")
    sp.add_argument("--headers", action="store_true", help="dump: a comment line per row")
    sp.set_defaults(func=cmd_queue)
