"""Outage bench: a 1,000-switch campus queued while the centre is down, then drained.

Method (shared/reference/baselines.md): our side pinned to core 0, the far side (vmagent,
VictoriaMetrics) to core 1; CPU counted per side (process time for our queueing, /proc for
the agent and the daemons). The peer runs the same points in the same run.

1. VictoriaMetrics is stopped. `MINUTES` ticks of the campus (bench/outage/campus.py: 1,000
   switches x 48 ports x 20 fields + 7 health values a switch, 967,000 values a tick,
   timestamps 60 s apart ending now) are replayed as fast as they can be queued:
   - campusmon: DiskQueue.put_metrics of the tick's Metric objects, rows of 5,000 (the
     pipeline's flush path: the dense block is encoded straight from the objects), under a
     16 GiB quota (a drop would fail the exactly-once check);
   - vmagent (Debian victoria-metrics 1.79): the same points as line protocol (render_many,
     not counted for either side) POSTed to its /write, its remote
     write pointing at a port nobody listens on yet, so everything lands in its persistent
     queue (-remoteWrite.tmpDataPath); stopped gracefully so in-memory blocks reach the disk.
   Bytes per value on disk: queue file size (campusmon) / directory size (vmagent) over the
   values queued. The largest outage each holds in 16 GiB follows linearly from it.
2. VictoriaMetrics starts. The agent's output loop (`drain.py`: PushOutput.run with the
   influxdb exporter, in its own process: its own CPU from the first send to empty, RSS from
   /proc) empties the queue into it; then vmagent, restarted, drains its own into a sink that
   reads and discards, listening on that port (CPU from /proc).
3. Every point arrived exactly once: for each of the 27 fields, `count_over_time` and
   `sum_over_time` per series (device, port) over the whole window equal what was generated.

Modes (environment): the default (`make bench`, ~3 minutes on 2 shared cores) replays 30
simulated minutes of a 100-switch campus (2.9 million values, 96,700 series); density per
value does not depend on the campus size or the length (each queue row is an independent
block). `OUTAGE_SWITCHES=1000 OUTAGE_MINUTES=20` is the full campus (19.3 million values,
967,000 series; ~17 minutes, mostly VictoriaMetrics' first ingest of a million series and the
per-series check). `OUTAGE_HOURS=72` replays 72 real hours of the full campus (4,320 ticks,
4.18 billion values) — the issue's figure, not extrapolated; see README.md for what it costs
on this box. `OUTAGE_PEER_MINUTES=N` feeds vmagent only the first N ticks (its queue holds
~21 bytes a value: 72 h of the campus is ~82 GiB, more than this disk has free); its bytes
per value are then over the values it was given. The "hours in 16 GiB" figures are
extrapolated from the measured bytes per value. Ends with one JSON line.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from agent.core.lineprotocol import render_many  # noqa: E402
from agent.core.plugin import BatchKind  # noqa: E402
from agent.framework.diskqueue import DiskQueue  # noqa: E402
from bench.outage.campus import HEALTH, IF_FIELDS, Campus  # noqa: E402

MINUTES = (int(float(os.environ["OUTAGE_HOURS"]) * 60) if os.environ.get("OUTAGE_HOURS")
           else int(os.environ.get("OUTAGE_MINUTES", "30")))
SWITCHES = int(os.environ.get("OUTAGE_SWITCHES",
                              "1000" if os.environ.get("OUTAGE_HOURS") else "100"))
PEER_MINUTES = min(MINUTES, int(os.environ.get("OUTAGE_PEER_MINUTES", str(MINUTES))))
# bounds that grow with the replay: draining, vmagent and each check query
LIMIT_S = 1200 + MINUTES * SWITCHES // 100
FLUSH = 5000  # lines per queue put (one agent flush) and per POST to vmagent
OUTAGE_H = 72
BUDGET = 16 * 2**30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_pid(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_http(url: str, limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} not ready")


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def post(url: str, body: bytes) -> None:
    req = urllib.request.Request(url, data=body, method="POST")
    with urllib.request.urlopen(req, timeout=120) as r:
        if r.status not in (200, 204):
            raise SystemExit(f"{url}: HTTP {r.status}")


class Daemon:
    def __init__(self, args: list[str], log: Path) -> None:
        self.proc = subprocess.Popen(["taskset", "-c", "1", *args], stdout=log.open("ab"),
                                     stderr=subprocess.STDOUT)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def start_vm(work: Path, port: int) -> Daemon:
    vm = Daemon([shutil.which("victoria-metrics") or "victoria-metrics",
                 f"-httpListenAddr=127.0.0.1:{port}", f"-storageDataPath={work}/vm",
                 "-retentionPeriod=1", "-search.latencyOffset=0s", "-search.disableCache",
                 "-search.maxUniqueTimeseries=2000000",
                 "-search.maxSamplesPerQuery=100000000000", "-memory.allowedPercent=40",
                 # a check query over 72 h of a million series outlasts the 30 s default
                 f"-search.maxQueryDuration={LIMIT_S}s"],
                work / "vm.log")
    wait_http(f"http://127.0.0.1:{port}/health")
    return vm


def start_vmagent(work: Path, port: int, remote_port: int) -> Daemon:
    """vmagent writing to 127.0.0.1:remote_port (its queue directory is per remote URL: the
    same port in both phases)."""
    agent = Daemon([shutil.which("vmagent") or "vmagent", f"-httpListenAddr=127.0.0.1:{port}",
                    f"-remoteWrite.url=http://127.0.0.1:{remote_port}/api/v1/write",
                    f"-remoteWrite.tmpDataPath={work}/vmagent-queue",
                    "-remoteWrite.label=via=vmagent", "-loggerLevel=ERROR"],
                   work / "vmagent.log")
    wait_http(f"http://127.0.0.1:{port}/health")
    return agent


def vmagent_drained(port: int) -> bool:
    """Its persistent queue is empty and it has sent something (not merely not started)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    pending = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("vm_persistentqueue_bytes_pending")]
    sent = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("vmagent_remotewrite_bytes_sent_total"))
    return bool(pending) and sum(pending) == 0 and sent > 0


def queue_phase(work: Path, campus: Campus, start_ns: int, vmagent_port: int,
                vmagent_pid: int) -> tuple[Path, float, float, int, int]:
    """Queue MINUTES ticks (vmagent: the first PEER_MINUTES); returns (queue file, our CPU-s,
    vmagent CPU-s, values queued by us, values queued by vmagent)."""
    db = work / "agent" / "data" / "queue" / "influxdb_central.db"
    q = DiskQueue(db, BUDGET)
    ours = 0.0
    c_peer = cpu_pid(vmagent_pid)
    url = f"http://127.0.0.1:{vmagent_port}/write"
    every = 10 if MINUTES <= 120 else 60
    for t in range(MINUTES):
        metrics = campus.tick_metrics(start_ns + t * 60 * 10**9)
        c0 = time.process_time()
        for k in range(0, len(metrics), FLUSH):
            if q.put_metrics(BatchKind.METRICS, metrics[k:k + FLUSH])[1]:
                raise SystemExit("campusmon's queue dropped points under the 16 GiB quota")
        ours += time.process_time() - c0
        if t < PEER_MINUTES:
            lines = render_many(metrics)
            for k in range(0, len(lines), FLUSH):
                post(url, "\n".join(lines[k:k + FLUSH]).encode())
        if t % every == every - 1:
            print(f"  queued {t + 1}/{MINUTES} simulated minutes ({ours:.0f} CPU-s in our "
                  f"queue so far)", flush=True)
    q.close()  # the last connection checkpoints the WAL into the file
    per_tick = campus.values_per_tick()
    return db, ours, cpu_pid(vmagent_pid) - c_peer, MINUTES * per_tick, PEER_MINUTES * per_tick


def drain_campusmon(work: Path, vm_port: int) -> tuple[float, int, float, float]:
    """(CPU-s from the first send to empty, points drained, median and peak RSS MB)."""
    db = work / "agent" / "data" / "queue" / "influxdb_central.db"
    out = work / "drain.json"
    proc = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, str(Path(__file__).parent / "drain.py"), str(db),
         f"http://127.0.0.1:{vm_port}", str(FLUSH)], cwd=REPO, stdout=out.open("wb"),
        stderr=(work / "drain.log").open("wb"))
    rss: list[float] = []
    try:
        for _ in range(LIMIT_S * 2):  # bounded
            with contextlib.suppress(OSError):
                rss.append(rss_mb(proc.pid))
            if proc.poll() is not None:
                break
            time.sleep(0.5)
        else:
            raise SystemExit(f"the queue did not drain in {LIMIT_S} s")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=60)
    if proc.returncode != 0:
        raise SystemExit(f"drain failed: {(work / 'drain.log').read_text()[-2000:]}")
    res = json.loads(out.read_text())
    rss = [x for x in rss if x > 0]
    return (float(res["cpu_seconds"]), int(res["points"]), statistics.median(rss or [0.0]),
            max(rss or [0.0]))


SINK = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        while n > 0:
            n -= len(self.rfile.read(min(n, 1 << 20)))
        self.send_response(204); self.end_headers()
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def drain_vmagent(work: Path, port: int, sink_port: int) -> tuple[float, float]:
    """(vmagent CPU-s to send its whole persistent queue, its peak RSS MB meanwhile).

    It drains into a sink that reads and discards (VictoriaMetrics' ingest costs the same
    for both and is not counted; it would also double the series of the exactly-once check).
    """
    sink = Daemon([sys.executable, "-c", SINK, str(sink_port)], work / "sink.log")
    agent = start_vmagent(work, port, sink_port)
    c0 = cpu_pid(agent.proc.pid)
    peak = 0.0
    try:
        deadline = time.monotonic() + LIMIT_S
        while time.monotonic() < deadline:
            time.sleep(0.5)
            peak = max(peak, rss_mb(agent.proc.pid))
            if vmagent_drained(port):
                break
        else:
            raise SystemExit(f"vmagent did not drain in {LIMIT_S} s")
        return cpu_pid(agent.proc.pid) - c0, peak
    finally:
        agent.stop()
        sink.proc.kill()
        sink.proc.wait(timeout=10)


def vm_query(vm_port: int, query: str, at_s: float) -> list[dict[str, Any]]:
    data = urllib.parse.urlencode({"query": query, "time": f"{at_s:.3f}"}).encode()
    with urllib.request.urlopen(f"http://127.0.0.1:{vm_port}/api/v1/query", data=data,
                                timeout=LIMIT_S) as r:
        body = json.loads(r.read())
    if body.get("status") != "success":
        raise SystemExit(f"query {query}: {body}")
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def verify(vm_port: int, campus: Campus, start_ns: int) -> tuple[int, int]:
    """Every campusmon series: count and sum over the window equal what was generated.
    Returns (series checked, mismatches)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{vm_port}/internal/force_flush",
                                timeout=60) as r:
        r.read()
    end_s = start_ns / 1e9 + (MINUTES - 1) * 60 + 1
    window = f"{MINUTES * 60 + 30}s"
    checked = bad = 0
    by_port = {(p.device, p.ifindex): p for p in campus.ports}
    jobs: list[tuple[str, str, dict[tuple[str, ...], float]]] = []
    for i, f in enumerate(IF_FIELDS):
        jobs.append((f"snmp_interface_{f}", "device, ifindex",
                     {(d, x): p.sums[i] for (d, x), p in by_port.items()}))
    for meas, fields in HEALTH.items():
        for i, f in enumerate(fields):
            jobs.append((f"{meas}_{f}", "device",
                         {(dev,): s[i] for (m, dev), s in campus.health_sums.items()
                          if m == meas}))
    for name, by, want in jobs:
        keys = [k.strip() for k in by.split(",")]
        sel = f'{name}{{via="",campus="bench"}}[{window}]'
        got: dict[str, dict[tuple[str, ...], float]] = {}
        for fn in ("count_over_time", "sum_over_time"):
            got[fn] = {tuple(str(r["metric"].get(k, "")) for k in keys): float(r["value"][1])
                       for r in vm_query(vm_port, f"sum by ({by}) ({fn}({sel}))", end_s)}
        for key, total in want.items():
            checked += 1
            n = got["count_over_time"].get(key)
            s = got["sum_over_time"].get(key)
            if n != campus.ticks or s is None or abs(s - total) > 1e-9 * max(1.0, abs(total)):
                bad += 1
                if bad <= 5:
                    print(f"  MISMATCH {name} {key}: count {n} (want {campus.ticks}), "
                          f"sum {s} (want {total})")
        extra = set(got["count_over_time"]) - set(want)
        if extra:
            bad += len(extra)
            print(f"  {name}: {len(extra)} unexpected series")
    return checked, bad


def main() -> None:
    for b in ("victoria-metrics", "vmagent", "taskset"):
        if shutil.which(b) is None:
            raise SystemExit(f"{b} is not installed (make system-deps)")
    os.sched_setaffinity(0, {0})
    with tempfile.TemporaryDirectory(prefix="bench-outage-") as tmp:
        work = Path(tmp)
        vm_port, vmagent_port, sink_port = free_port(), free_port(), free_port()
        t_start = time.monotonic()
        campus = Campus(SWITCHES)
        start_ns = (time.time_ns() // 60_000_000_000 - MINUTES) * 60_000_000_000
        print(f"outage: {MINUTES} simulated minutes of {SWITCHES} switches "
              f"({campus.values_per_tick():,} values a minute), VictoriaMetrics stopped",
              flush=True)
        vmagent = start_vmagent(work, vmagent_port, sink_port)  # its remote is down
        try:
            db, ours_q, peer_q, values, peer_values = queue_phase(
                work, campus, start_ns, vmagent_port, vmagent.proc.pid)
        finally:
            vmagent.stop()
        t_queued = time.monotonic()
        points_per_tick = len(campus.ports) + 4 * len(campus.devices)
        lines = campus.ticks * points_per_tick
        peer_lines = PEER_MINUTES * points_per_tick
        ours_bytes = db.stat().st_size + sum(
            p.stat().st_size for p in db.parent.glob(db.name + "-*"))
        peer_bytes = dir_bytes(work / "vmagent-queue")
        ours_bpv, peer_bpv = ours_bytes / values, peer_bytes / peer_values
        # the 16 GiB and 72 h figures are for the 1,000-switch campus whatever was replayed
        # (values scale with the switches: every switch has the same ports and fields)
        per_hour = campus.values_per_tick() * 60 * 1000 // SWITCHES
        print(f"queued {values:,} values ({lines:,} points): campusmon {ours_bytes / 2**20:.1f} "
              f"MiB ({ours_bpv:.3f} B/value), vmagent {peer_bytes / 2**20:.1f} MiB "
              f"({peer_bpv:.3f} B/value over the {peer_values:,} values of its "
              f"{PEER_MINUTES} minutes); queueing took {t_queued - t_start:.0f} s wall",
              flush=True)

        vm = start_vm(work, vm_port)
        try:
            c_vm, t0 = cpu_pid(vm.proc.pid), time.monotonic()
            ours_d, drained, rss_med, rss_peak = drain_campusmon(work, vm_port)
            vm_ingest, t_drained = cpu_pid(vm.proc.pid) - c_vm, time.monotonic()
            print(f"campusmon drained {drained:,} points in {t_drained - t0:.0f} s wall "
                  f"(VictoriaMetrics ingest meanwhile: {vm_ingest:.0f} CPU-s)", flush=True)
            peer_d, peer_rss = drain_vmagent(work, vmagent_port, sink_port)
            t1 = time.monotonic()
            checked, bad = verify(vm_port, campus, start_ns)
            t_check = time.monotonic() - t1
        finally:
            vm.stop()
        per100k = 100_000 / lines
        hours_ours = BUDGET / (ours_bpv * per_hour)
        hours_peer = BUDGET / (peer_bpv * per_hour)
        need = ours_bpv * per_hour * OUTAGE_H / 2**30
        how = ("measured" if MINUTES >= OUTAGE_H * 60 and SWITCHES == 1000
               else f"extrapolated from {MINUTES} min of {SWITCHES} switches")
        print(f"72 h of the 1,000-switch campus ({per_hour * OUTAGE_H / 1e9:.2f} billion "
              f"values, {how}): "
              f"campusmon {need:.1f} GiB; vmagent {peer_bpv * per_hour * OUTAGE_H / 2**30:.1f} "
              f"GiB")
        print(f"largest outage in 16 GiB: campusmon {hours_ours:.0f} h, vmagent "
              f"{hours_peer:.0f} h")
        print(f"CPU-s per 100k points to queue: campusmon {ours_q * per100k:.2f}, vmagent "
              f"{peer_q * 100_000 / peer_lines:.2f} (its /write parsing + queueing)")
        print(f"CPU-s per 100k points to drain: campusmon {ours_d * 100_000 / drained:.2f} "
              f"(output loop: decode + gzip + HTTP + ack), vmagent "
              f"{peer_d * 100_000 / peer_lines:.2f}")
        print(f"VictoriaMetrics ingest: {vm_ingest * per100k:.2f} CPU-s per 100k points; "
              f"per-series check {t_check:.0f} s wall")
        print(f"RSS while draining: campusmon median {rss_med:.0f} MB, peak {rss_peak:.0f} MB; "
              f"vmagent peak {peer_rss:.0f} MB")
        print(f"exactly once: {checked:,} series checked (count and sum of every field over "
              f"the window), {bad} mismatches; bench took {time.monotonic() - t_start:.0f} s")
        if bad:
            raise SystemExit("points lost or duplicated")
    print(json.dumps({"bench": "outage", "unit": "bytes_per_value_on_disk",
                      "campusmon": round(ours_bpv, 3), "peer": "vmagent_1.79_persistent_queue",
                      "peer_value": round(peer_bpv, 3), "ratio": round(ours_bpv / peer_bpv, 3),
                      "simulated_minutes": MINUTES, "switches": SWITCHES,
                      "queue_cpu_s_per_100k_points": round(ours_q * per100k, 3),
                      "drain_cpu_s_per_100k_points": round(ours_d * 100_000 / drained, 3),
                      "hours_in_16GiB": round(hours_ours, 1),
                      "peer_hours_in_16GiB": round(hours_peer, 1),
                      "exactly_once_series": checked}))


if __name__ == "__main__":
    main()
