"""`campusmon report --config` over 180 days of local roll-ups, offline.

The 180 days are crafted straight into the store as 5-minute roll-up rows (what the store
keeps once raw points age out), not polled in real time: an egress link whose traffic
follows a school day (600 Mbps in from 08:00 to 18:00 UTC, 100 Mbps otherwise, out a
quarter of in). The report must find the link in the inventory and compute its figures over
the whole window from the roll-ups alone; with root it runs in a network namespace of its
own (no network at all), otherwise it simply never opens a socket (local store, --config)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.core.model import Metric
from agent.framework.localstore import LocalStore

REPO = Path(__file__).resolve().parents[2]
MIN = 60 * 10**9
DAY = 24 * 60 * MIN
BUCKET = 5 * MIN


def _inventory(path: Path) -> None:
    path.write_text("""campus:
  code: t180
  name: 180-day campus
  province: Hunan
  students: 5000
  staff: 300
devices:
  - id: rt-1
    kind: router
    building: dc
    room: dc-101
    ipv4: 10.0.0.1
    vendor: Huawei
    roles: [egress]
    labels: {egress_interfaces: "GE0/0/1=CERNET", capacity_mbps: "1000"}
buildings:
  - id: dc
    name: Data centre
    rooms:
      - id: dc-101
        name: Machine room
        kind: machine_room
""", encoding="utf-8")


def _rollups(end_ns: int, days: int) -> tuple[list[tuple[Metric, int]], float]:
    """(roll-up rows of the egress port, total bytes in + out)."""
    tags = {"campus": "t180", "building": "dc", "room": "dc-101", "device": "rt-1",
            "kind": "router", "roles": "egress", "vendor": "Huawei", "ifindex": "1",
            "ifname": "GE0/0/1"}
    start = end_ns - days * DAY
    rows: list[tuple[Metric, int]] = []
    in_oct = out_oct = 10**9
    total = 0.0
    for b in range(start, end_ns, BUCKET):
        hour = (b // (60 * MIN)) % 24
        mbps = 600.0 if 8 <= hour < 18 else 100.0
        d_in = int(mbps * 1e6 / 8 * 300)
        d_out = d_in // 4
        if b > start:  # the first row is the baseline of the counters
            in_oct += d_in
            out_oct += d_out
            total += d_in + d_out
        rows.append((Metric("snmp_interface", tags, {
            "in_octets": in_oct, "out_octets": out_oct, "speed_mbps": 1000, "oper_status": 1,
            "in_bps": mbps * 1e6, "in_bps_max": mbps * 1e6 * 1.1}, b + BUCKET - MIN), b))
    return rows, total


@pytest.mark.timeout(240)
def test_report_over_180_days_of_rollups_runs_offline(tmp_path: Path) -> None:
    _inventory(tmp_path / "inventory.yaml")
    cfg = tmp_path / "agent.yaml"
    cfg.write_text("""agent:
  inventory: inventory.yaml
  data_dir: data
  local_store: {enabled: true, retention_hours: 24, max_megabytes: 64, history_days: 180}
inputs: []
""", encoding="utf-8")
    now = time.time_ns() // BUCKET * BUCKET
    rows, total_bytes = _rollups(now, 180)
    bound = 64 * 2**20
    # the store's clock is the data's `now`: with the wall clock (up to a bucket later) its
    # own pruning inside write() aged out the first, baseline row when `now` fell at :55 of
    # an hour and the run in the bucket's last minute (one 5-minute interval short)
    store = LocalStore(tmp_path / "data" / "store.db", retention_hours=24, max_bytes=bound,
                       clock=lambda: now)
    store.write_rollups(rows)
    store.write([Metric("event", {"key": "rt-1:down", "state": "raised", "device": "rt-1"},
                        {"summary": "rt-1 down"}, now - 179 * DAY)])
    # beside it, what else a store holds: the last two hours of 50 access switches' ports raw
    # (a day of them would be most of the file; only the egress counters outlive raw) and
    # the egress router's CPU over the half-year (a report series: hourly after 7 days)
    access = [Metric("snmp_interface", {"campus": "t180", "device": f"sw-{d}", "roles": "access",
                                        "ifname": f"g{p}"},
                     {"in_octets": t * 10**6 + p, "in_bps": float(t % 13)}, now - t * MIN)
              for t in range(1, 121) for d in range(50) for p in range(24)]
    for i in range(0, len(access), 20000):
        store.write(access[i:i + 20000])
    cpu = [Metric("snmp_cpu", {"campus": "t180", "device": "rt-1", "roles": "egress"},
                  {"usage_percent": float(b // BUCKET % 50),
                   "usage_percent_max": float(b // BUCKET % 50) + 5}, b + BUCKET - MIN)
           for b in range(now - 180 * DAY, now, BUCKET)]
    store.write_rollups((m, m.ts_ns // BUCKET * BUCKET) for m in cpu)
    store.prune(now_ns=now)
    assert store._size() <= bound  # within its size bound
    stats = store.stats()
    # nothing had to be evicted: the half-year of the report's series is a few hundred kB
    assert not any(k.startswith("evicted_") for k in stats), stats
    assert stats["hourly_rows"] == (180 - 7) * 24  # the CPU turned hourly after 7 days
    assert stats["raw_rows"] == len(access)
    store.close()

    cmd = [sys.executable, "-m", "agent.app.cli", "report", "--config", str(cfg),
           "--window", "180d", "--end", str(now / 1e9 + 1), "--out", str(tmp_path / "out")]
    if os.geteuid() == 0 and shutil.which("unshare"):
        cmd = ["unshare", "--net", *cmd]  # no network at all: only loopback, down
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=200)
    assert r.returncode == 0, r.stderr[-3000:]
    doc = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    campus = doc["campuses"][0]
    assert campus["code"] == "t180"
    assert (now + 10**9 - campus["window_start_ns"]) / DAY == pytest.approx(180, abs=0.01)
    ind = {i["indicator"]: i for i in campus["indicators"] if i["scope"] == "campus"}
    # every 5-minute interval of the 180 days counted: volume and the busy-hour p95
    assert ind["egress_volume"]["value"] == pytest.approx(total_bytes / 1e9, rel=1e-6)
    assert ind["egress_utilization_p95"]["value"] == pytest.approx(60.0, rel=1e-6)
    mean = (10 * 60.0 + 14 * 10.0) / 24
    assert ind["egress_utilization_mean"]["value"] == pytest.approx(mean, rel=1e-3)

    # the 179-day-old event and the half-year of roll-ups answer `campusmon query` offline
    q = [sys.executable, "-m", "agent.app.cli", "query", "--config", str(cfg)]
    r = subprocess.run([*q, "-m", "event", "--since", "180d", "--format", "lp"], cwd=REPO,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "rt-1 down" in r.stdout, r.stderr
    r = subprocess.run([*q, "-m", "snmp_interface", "--start", str((now - 170 * DAY) / 1e9),
                        "--end", str((now - 169 * DAY) / 1e9), "--format", "lp"], cwd=REPO,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    # one day of 5-minute rows of the egress port, and of the CPU an hourly row per hour
    assert len([ln for ln in lines if ln.startswith("snmp_interface,")]) == 24 * 12
    r = subprocess.run([*q, "-m", "snmp_cpu", "--start", str((now - 170 * DAY) / 1e9),
                        "--end", str((now - 169 * DAY) / 1e9 - 1), "--format", "lp"], cwd=REPO,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 24
    # an hour's row: the mean of its twelve 5-minute means, the max of their maxima
    assert all("usage_percent_max=" in ln for ln in r.stdout.splitlines())
