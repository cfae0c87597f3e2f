"""The local store's third layout: columnar blocks, what is rolled up for how long, the
hourly tier, counted eviction, damaged blocks, and files of the previous layout."""

from __future__ import annotations

import json
import math
import random
import sqlite3
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.core.model import Metric
from agent.framework import localstore_codec as codec
from agent.framework.localstore import LocalStore
from agent.framework.localstore_policy import REPORT_MEASUREMENTS, SeriesClass, classify
from agent.processors.audit.inputs import MEASUREMENTS
from agent.processors.audit.plugin import EGRESS_ONLY

REPO = Path(__file__).resolve().parents[2]
MIN = 60 * 10**9
HOUR = 60 * MIN
DAY = 24 * HOUR


def test_block_round_trip_is_exact() -> None:
    rows: list[codec.Row] = [
        (7, 30, {"c": 2**64 - 1, "i": -(2**63), "f": 0.1, "b": True, "s": "机房 a=b,c"}),
        (3, 10, {"c": 5, "i": 2**63 - 1, "f": math.inf, "n": -0.0}),
        (3, 20, {"i": 0, "f": 1e-300, "b": False}),
        (9, 5, {"mixed": 1}), (9, 6, {"mixed": 1.5}), (9, 7, {"mixed": "x"}),
    ]
    blob, n, t0, t1 = codec.encode(rows)
    assert (n, t0, t1) == (6, 5, 30)
    got = codec.decode(blob)
    want = sorted(((s, t, dict(f)) for s, t, f in rows), key=lambda r: (r[0], r[1]))
    assert got == want
    # types survive: an int stays an int (counters), a bool a bool, -0.0 its sign
    by = {(s, t): f for s, t, f in got}
    assert type(by[(7, 30)]["c"]) is int and by[(7, 30)]["b"] is True
    assert math.copysign(1, by[(3, 10)]["n"]) == -1  # type: ignore[arg-type]
    assert [type(by[(9, t)]["mixed"]) for t in (5, 6, 7)] == [int, float, str]


def _claims_too_much() -> bytes:
    """A zstd frame header (RFC 8878: magic, single segment, 8-byte content size) claiming
    1 TiB: python-zstandard's max_output_size does not bound a frame that states its size."""
    return struct.pack("<IB", 0xFD2FB528, 0xE0) + struct.pack("<Q", 2**40)


@pytest.mark.parametrize("blob", [b"", b"garbage", codec.encode([(1, 1, {"v": 1})])[0][:-3],
                                  _claims_too_much()])
def test_a_damaged_block_is_a_typed_error(blob: bytes) -> None:
    with pytest.raises(codec.BlockError):
        codec.decode(blob)


def test_report_measurements_are_what_the_audits_read() -> None:
    assert set(MEASUREMENTS) == REPORT_MEASUREMENTS
    assert classify("snmp_interface", {"roles": "core,egress"}) is SeriesClass.EGRESS
    assert classify("snmp_interface", {"roles": "access"}) is SeriesClass.OTHER
    assert {classify(m, {}) for m in EGRESS_ONLY} == {SeriesClass.OTHER}
    assert classify("snmp_cpu", {}) is SeriesClass.REPORT
    assert classify("audit_device_info", {}) is SeriesClass.REPORT  # inventory: rolled up
    assert classify("audit_indicator", {}) is SeriesClass.HISTORY
    assert classify("event", {}) is SeriesClass.HISTORY
    assert classify("agent_poll", {}) is SeriesClass.OTHER


def _campus_tick(ts: int, tick: int) -> list[Metric]:
    out = []
    for d, roles in (("rt-1", "egress"), ("sw-1", "access")):
        for p in range(4):
            out.append(Metric("snmp_interface", {"device": d, "roles": roles, "ifname": f"g{p}"},
                              {"in_octets": tick * 1000 + p, "in_bps": float(tick % 7)}, ts))
        out.append(Metric("snmp_cpu", {"device": d, "roles": roles},
                          {"usage_percent": float(tick % 10)}, ts))
        out.append(Metric("agent_poll", {"device": d}, {"up": 1}, ts))
    return out


def test_only_what_reports_read_outlives_the_raw_window(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s.db", retention_hours=1, max_bytes=50 * 2**20)
    now = time.time_ns() // HOUR * HOUR
    start = now - 3 * HOUR
    for t in range(180):
        store.write(_campus_tick(start + t * MIN, t))
    store.prune(now_ns=now)
    old = [m for m in store.query() if m.ts_ns < now - HOUR - 5 * MIN]
    kinds = {(m.name, m.tags["device"]) for m in old}
    # egress interfaces and device health as 5-minute roll-ups; access ports and the
    # agent's own poll records are gone with the raw window
    assert kinds == {("snmp_interface", "rt-1"), ("snmp_cpu", "rt-1"), ("snmp_cpu", "sw-1")}
    assert all(m.ts_ns % (5 * MIN) == 4 * MIN for m in old)
    recent = store.query("snmp_interface", {"device": "sw-1"}, start_ns=now - 50 * MIN)
    assert len(recent) == 4 * 50  # raw, every minute, every port
    store.close()


def test_report_series_turn_hourly_egress_counters_stay_five_minute(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s.db", retention_hours=1, max_bytes=50 * 2**20,
                       hourly_after_days=1)
    now = time.time_ns() // HOUR * HOUR
    start = now - 3 * DAY
    for t in range(3 * 24 * 60):
        store.write(_campus_tick(start + t * MIN, t))
        if t % 60 == 59:  # the store's clock moves with the data: rolled up hour by hour
            store.prune(now_ns=start + t * MIN)
    store.prune(now_ns=now)
    stats = store.stats()
    assert stats.get("hourly_rows") and stats.get("five_minute_rows")
    cpu = store.query("snmp_cpu", {"device": "rt-1"})
    first_day = [m for m in cpu if m.ts_ns < now - 2 * DAY]
    assert len(first_day) == 24  # hourly
    h = first_day[0]
    assert h.ts_ns == start + 59 * MIN  # the hour's last sample
    assert h.fields["usage_percent"] == pytest.approx(sum(t % 10 for t in range(60)) / 60)
    assert h.fields["usage_percent_max"] == 9.0
    yesterday = [m for m in cpu if now - DAY <= m.ts_ns < now - HOUR]
    assert len(yesterday) == 23 * 12  # still 5-minute rows within hourly_after_days
    egress = store.query("snmp_interface", {"device": "rt-1", "ifname": "g0"})
    assert len([m for m in egress if m.ts_ns < now - 2 * DAY]) == 24 * 12
    # counters keep their last value: deltas over the 3 days add up exactly
    assert egress[-1].fields["in_octets"] - egress[0].fields["in_octets"] == (  # type: ignore[operator]
        (3 * 24 * 60 - 1 - 4) * 1000)
    store.close()


def test_eviction_is_oldest_first_and_counted(tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    store = LocalStore(tmp_path / "s.db", retention_hours=48, max_bytes=2**20)
    now = time.time_ns() // MIN * MIN
    rnd = random.Random(3)
    for t in range(400):
        # random text: incompressible, so the bound is reached (~4 MB written)
        store.write([Metric("agent_x", {"device": f"d{i}"}, {"v": t * 1000 + i,
                                                             "s": rnd.randbytes(32).hex()},
                            now - (400 - t) * MIN) for i in range(300)])
    store.prune(now_ns=now)
    assert store._size() <= 2**20
    st = store.stats()
    kept = store.query("agent_x", {"device": "d0"})
    assert st["evicted_raw_rows"] == 400 * 300 - st["raw_rows"] > 0
    assert kept[-1].fields["v"] == 399 * 1000  # the newest survive
    assert len(kept) == st["raw_rows"] // 300
    # the operator is told the bound, not retention_hours, limits the raw window
    warned = [r.getMessage() for r in caplog.records if "holds" in r.getMessage()]
    assert warned and "not the 48 h of retention_hours" in warned[0]
    store.close()
    # and `campusmon query --stats` shows the count
    r = subprocess.run([sys.executable, "-m", "agent.app.cli", "query", "--store",
                        str(tmp_path / "s.db"), "--stats"], cwd=REPO, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert ["evicted_raw_rows", str(st["evicted_raw_rows"])] in [
        ln.split() for ln in r.stdout.splitlines()]


def test_a_damaged_block_is_skipped_and_counted(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s.db", retention_hours=24, max_bytes=50 * 2**20)
    now = time.time_ns()
    store.write([Metric("a", {"d": "1"}, {"v": 1}, now - 10 * MIN)])
    store.write([Metric("a", {"d": "1"}, {"v": 2}, now)])
    store._db.execute("UPDATE blocks SET data = x'00ff' WHERE t0 = ?", (now - 10 * MIN,))
    assert [m.fields["v"] for m in store.query("a")] == [2]
    assert store.stats()["damaged_blocks"] == 1
    store.close()


def _second_layout(path: Path, now: int) -> None:
    """A store file as the previous layout wrote it: a JSON row per raw point, a JSON row per
    roll-up, no `blocks`, series flagged history 0/1."""
    db = sqlite3.connect(path)
    db.executescript("""
CREATE TABLE series (id INTEGER PRIMARY KEY, name TEXT NOT NULL, tags TEXT NOT NULL,
    history INTEGER NOT NULL, UNIQUE(name, tags));
CREATE TABLE points (series INTEGER NOT NULL, ts_ns INTEGER NOT NULL, fields TEXT NOT NULL);
CREATE INDEX points_ts ON points(ts_ns);
CREATE INDEX points_series_ts ON points(series, ts_ns);
CREATE TABLE rollup (series INTEGER NOT NULL, bucket_ns INTEGER NOT NULL, ts_ns INTEGER NOT NULL,
    fields TEXT NOT NULL, PRIMARY KEY(series, bucket_ns)) WITHOUT ROWID;
CREATE TABLE store_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
""")
    tags = json.dumps({"device": "rt-1", "roles": "egress"}, sort_keys=True)
    db.execute("INSERT INTO series VALUES(1, 'snmp_interface', ?, 0)", (tags,))
    db.execute("INSERT INTO series VALUES(2, 'event', '{\"key\":\"k\"}', 1)")
    db.execute("INSERT INTO series VALUES(3, 'agent_poll', '{\"device\":\"rt-1\"}', 0)")
    for i in range(60):  # the last hour raw
        ts = now - (60 - i) * MIN
        db.execute("INSERT INTO points VALUES(1, ?, ?)", (ts, json.dumps({"in_octets": i})))
        db.execute("INSERT INTO points VALUES(3, ?, ?)", (ts, json.dumps({"up": 1})))
    for b in range(12 * 24):  # the day before as 5-minute roll-ups
        bucket = now - HOUR - (12 * 24 - b) * 5 * MIN
        db.execute("INSERT INTO rollup VALUES(1, ?, ?, ?)", (bucket, bucket + 4 * MIN,
                                                            json.dumps({"in_octets": -b})))
        # the old layout rolled up the agent's own poll records too (OTHER now: raw only)
        db.execute("INSERT INTO rollup VALUES(3, ?, ?, ?)", (bucket, bucket + 4 * MIN,
                                                            json.dumps({"up": 1})))
    db.execute("INSERT INTO points VALUES(2, ?, '{\"summary\":\"down\"}')", (now - 100 * DAY,))
    db.execute("INSERT INTO store_meta VALUES('rolled_until', ?)", (now - HOUR,))
    db.commit()
    db.close()


def test_a_previous_layout_file_is_read_then_migrated(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    now = time.time_ns() // HOUR * HOUR
    _second_layout(path, now)

    def snapshot(store: LocalStore) -> list[tuple[str, int, object]]:
        return [(m.name, m.ts_ns, sorted(m.fields.items())) for m in store.query()]

    ro = LocalStore.open_readonly(path)  # `query`/`report` before the agent upgraded it
    before = snapshot(ro)
    counts = dict(ro.measurements())
    ro.close()
    assert counts == {"snmp_interface": 60 + 288, "agent_poll": 60 + 288, "event": 1}
    assert len(before) == 60 + 288 + 60 + 288 + 1

    store = LocalStore(path, retention_hours=24, max_bytes=50 * 2**20)  # the agent: migrates
    # everything but the OTHER series' old roll-ups (before its raw hour): the new layout
    # keeps agent_poll raw only, so they are not carried over
    kept = [p for p in before if not (p[0] == "agent_poll" and p[1] < now - HOUR)]
    assert len(kept) == len(before) - 288
    assert snapshot(store) == kept
    # blocks cut as the write paths cut them: a raw block within one 5-minute bucket, a
    # 5-minute roll-up block within one hour (ageing, eviction, hourly go by t1)
    width = {0: 5 * MIN, 1: HOUR}
    blocks = store._db.execute("SELECT tier, cls, name, t0, t1 FROM blocks").fetchall()
    assert {(tier, name) for tier, _, name, _, _ in blocks} == {
        (0, "snmp_interface"), (0, "agent_poll"), (1, "snmp_interface")}
    assert all(t0 // width[tier] == t1 // width[tier] for tier, _, _, t0, t1 in blocks)
    assert sum(1 for b in blocks if b[0] == 1) == 24  # a day of roll-ups: a block an hour
    assert {cls for tier, cls, _, _, _ in blocks if tier == 1} == {int(SeriesClass.EGRESS)}
    tables = {r[0] for r in store._db.execute("SELECT name FROM sqlite_master")}
    assert "rollup" not in tables and "rollup_rowid" not in tables
    assert store._db.execute("SELECT COUNT(*) FROM points").fetchone()[0] == 1  # the event
    store.prune(now_ns=now + 10 * MIN)  # the migrated store rolls up and ages out as usual
    assert dict(store.measurements())["event"] == 1
    store.close()
    again = LocalStore(path, retention_hours=24, max_bytes=50 * 2**20)  # opened twice: once
    assert len(snapshot(again)) == len(kept)
    again.close()
