"""Local store bench: what the embedded store costs at 1,000 switches, in bytes and CPU.

Method: the outage bench's campus (bench/outage/campus.py: 1,000 switches x 48 ports x 20
interface fields + 7 health values a switch, 967,000 values a tick, 60 s apart), two of the
switches given the `egress` role (a campus' border routers: their counters are what the
report reads for 180 days). Lines are parsed into Metric objects outside the timing; then
the code path the agent runs is timed: `LocalStore.write` of one flush at a time (5,000
points: ~1 s of a tick's polls finishing), with its prune (roll-up of closed 5-minute
buckets, retention, size bound) inside, as `Pipeline._write` calls it from its worker thread
(`asyncio.to_thread`: off the event loop). CPU is this process's CPU time (single-threaded).

`TICKS` ticks (default 7: crosses a 5-minute bucket, so one roll-up pass over the whole
campus runs) are written with timestamps ending at a bucket boundary; the clock handed to
prune moves with the data. Bytes: sum of the blocks' compressed sizes per tier (the file's
live pages are ~3 % more: SQLite pages and indexes), per value written.

Peer: the previous layout of the same store (a JSON row per point, commit ec52c54^), fed the
same points the same way, for `PEER_TICKS` ticks (default 2: it is slow; bytes are its
growth from the first tick to the second, CPU per tick).
From the measured bytes the daily growth and the size 180 days need follow by arithmetic
(printed with the figures). Ends with one JSON line.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from agent.core.lineprotocol import parse  # noqa: E402
from agent.core.model import Metric  # noqa: E402
from agent.framework.localstore import LocalStore  # noqa: E402
from bench.outage.campus import Campus  # noqa: E402

NS = 10**9
BUCKET = 300 * NS
FLUSH = 5000
EGRESS = ("sw-0000", "sw-0001")
PREVIOUS = "ec52c54^"  # the last commit with the JSON-row layout


def campus_ticks(ticks: int, end_ns: int) -> tuple[list[list[Metric]], int]:
    campus = Campus(1000)
    marks = tuple(f"device={d}," for d in EGRESS)
    out = []
    for t in range(ticks):
        ts = end_ns - (ticks - t) * 60 * NS
        lines = campus.tick(ts)  # the line protocol the agent renders, parsed back
        out.append([parse(ln.replace("roles=access", "roles=egress", 1)
                          if any(m in ln for m in marks) else ln) for ln in lines])
    return out, campus.values_per_tick()


def previous_store_class() -> type:
    src = subprocess.run(["git", "show", f"{PREVIOUS}:agent/framework/localstore.py"],
                         cwd=REPO, capture_output=True, text=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / "localstore_v2.py"
    path.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("localstore_v2", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    cls: type = mod.LocalStore
    return cls


class SimClock:
    """The wall clock of the replay: a tick's polls end ~15 s after its timestamp."""

    def __init__(self) -> None:
        self.now_ns = 0

    def __call__(self) -> int:
        return self.now_ns


def feed(store: object, ticks: list[list[Metric]], clock: SimClock | None = None,
         sizes: list[int] | None = None) -> list[float]:
    """CPU seconds per tick of `write` as the agent's flushes call it (its pruning runs inside
    `write`, every 20,000 points; the agent never calls `prune` on its own)."""
    cpu = []
    sizes = [] if sizes is None else sizes
    for pts in ticks:
        if clock is not None:
            clock.now_ns = pts[0].ts_ns + 15 * NS
        c0 = time.process_time()
        for i in range(0, len(pts), FLUSH):
            store.write(pts[i:i + FLUSH])  # type: ignore[attr-defined]
        cpu.append(time.process_time() - c0)
        sizes.append(store._size())  # type: ignore[attr-defined]
    return cpu


def main() -> None:
    ticks_n = int(os.environ.get("TICKS", "7"))
    peer_ticks = int(os.environ.get("PEER_TICKS", "2"))
    end = time.time_ns() // BUCKET * BUCKET + 3 * 60 * NS  # crosses a bucket + lag
    ticks, values = campus_ticks(ticks_n, end)
    with tempfile.TemporaryDirectory() as d:
        clock = SimClock()
        store = LocalStore(Path(d) / "store.db", retention_hours=24, max_bytes=64 * 2**30,
                           clock=clock)
        sizes: list[int] = []
        cpu = feed(store, ticks, clock, sizes)
        st = store.stats()
        file_live = store._size()
        store.close()
    raw_bpv = st["raw_bytes"] / (values * ticks_n)
    r5_rows = st.get("five_minute_rows", 0)
    r5_bytes = st.get("five_minute_bytes", 0)
    with tempfile.TemporaryDirectory() as d:
        prev = previous_store_class()(Path(d) / "store.db", retention_hours=24,
                                      max_bytes=64 * 2**30)
        psizes: list[int] = []
        pcpu = feed(prev, ticks[:peer_ticks], None, psizes)
        prev.close()
    # steady growth too (its series table created in the first tick) when it ran twice
    prev_per_tick = ((psizes[-1] - psizes[0]) / (peer_ticks - 1) if peer_ticks > 1
                     else psizes[0])
    per_tick = st["raw_bytes"] / ticks_n
    # the file's live pages per tick after the first (the first creates the 53,000 series)
    live_per_tick = (sizes[-1] - sizes[0]) / max(1, ticks_n - 1)
    series_mib = (sizes[0] - sizes[-1] / ticks_n) / 2**20
    # the report series of this campus: egress ports (2 x 48) and 3 health series a switch
    egress_rows_day = len(EGRESS) * 48 * 288
    report_rows_day_5m = 3 * 1000 * 288
    report_rows_day_h = 3 * 1000 * 24
    r5_row = r5_bytes / max(1, r5_rows)
    raw_day = live_per_tick * 1440  # what the file grows by: blocks, pages, indexes
    need_180 = (raw_day + egress_rows_day * 180 * r5_row
                + report_rows_day_5m * 7 * r5_row + report_rows_day_h * 173 * r5_row)
    steady = sorted(cpu[1:])[len(cpu[1:]) // 2] if len(cpu) > 1 else cpu[0]
    figures = {
        "values_per_tick": values, "ticks": ticks_n,
        "raw_bytes_per_value": round(raw_bpv, 3),
        "raw_mib_per_tick": round(per_tick / 2**20, 2),
        "file_live_mib_per_tick": round(live_per_tick / 2**20, 2),
        "file_live_mib_after_all": round(file_live / 2**20, 1),
        "series_table_mib_about": round(series_mib, 1),
        "raw_gib_per_day": round(raw_day / 2**30, 2),
        "rollup_rows": r5_rows, "rollup_bytes_per_row": round(r5_row, 1),
        "rollup_mib_per_day_egress": round(egress_rows_day * r5_row / 2**20, 2),
        "rollup_mib_per_day_report_5min": round(report_rows_day_5m * r5_row / 2**20, 2),
        "rollup_mib_per_day_report_hourly": round(report_rows_day_h * r5_row / 2**20, 2),
        "gib_for_24h_raw_plus_180d_rollups": round(need_180 / 2**30, 2),
        "cpu_s_per_tick": [round(c, 2) for c in cpu],
        "cpu_s_per_tick_median": round(steady, 2),
        "previous_layout_mib_per_tick": round(prev_per_tick / 2**20, 1),
        "previous_layout_bytes_per_value": round(prev_per_tick / values, 1),
        "previous_layout_cpu_s_per_tick": [round(c, 2) for c in pcpu],
        "loadavg": os.getloadavg()[0],
    }
    for k, v in figures.items():
        print(f"{k:38s} {v}")
    print(json.dumps({"bench": "localstore", "unit": "bytes_per_value_raw",
                      "campusmon": round(raw_bpv, 3),
                      "peer": "campusmon local store, previous layout (JSON row per point)",
                      "peer_value": round(prev_per_tick / values, 3),
                      "ratio": round(raw_bpv / (prev_per_tick / values), 3),
                      "cpu_s_per_tick": round(steady, 2),
                      "peer_cpu_s_per_tick": round(sum(pcpu) / len(pcpu), 2)}))


if __name__ == "__main__":
    main()
