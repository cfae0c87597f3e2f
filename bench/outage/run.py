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

`OUTAGE_WORKDIR=DIR` keeps the run in DIR instead of a temporary directory, so a run longer
than the machine stays up resumes where it stopped when started again with the same
environment (the 72 h replay needs ~3.5 hours of this 2-core box). Progress is in
DIR/state.json; the campus generator (its random state and per-series sums) is pickled every
`CHECKPOINT` ticks after the queue has committed them. On resume the queue rows past the last
checkpoint are deleted (each tick is whole puts, so a row never spans two ticks) and the
replay goes on from there; CPU counted before the checkpoint is kept, CPU spent on the ticks
replayed again is not counted twice. A drain that was cut off goes on draining (the agent's
own restart path: what was acknowledged is gone from the queue, the batch in flight may be
resent, which the exactly-once check would then report). `OUTAGE_UNTIL=EPOCH_SECONDS` ends
an invocation cleanly before that time instead: the replay at its next checkpoint, the drain
after the batch in flight is acknowledged (SIGTERM to drain.py: the agent's own stop) and with
VictoriaMetrics stopped gracefully, so its last ingested points are on disk; the invocation
then exits with status 3 and the next one goes on. DIR is removed after a successful run
unless OUTAGE_KEEP=1.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import shutil
import signal
import socket
import sqlite3
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
CHECKPOINT = 30  # ticks between generator checkpoints in a resumable run (~0.6 CPU-s each)
UNTIL = float(os.environ.get("OUTAGE_UNTIL", "inf"))  # epoch seconds: pause cleanly before
# VictoriaMetrics' cores. "0,1" lets its ingest and the check use the core our drain leaves
# idle (the 72 h replay: ~35 min less wall time). What is counted does not change: its CPU
# comes from /proc, our drain's from its own rusage, and our drain stays on core 0.
VM_CORES = os.environ.get("OUTAGE_VM_CORES", "1")


class Paused(Exception):
    """OUTAGE_UNTIL came: what was done is saved; the same command goes on."""


def out_of_time(margin_s: float = 0.0) -> bool:
    return time.time() + margin_s >= UNTIL


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
    def __init__(self, args: list[str], log: Path, cores: str = "1") -> None:
        self.proc = subprocess.Popen(["taskset", "-c", cores, *args], stdout=log.open("ab"),
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
                work / "vm.log", VM_CORES)
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


class Run:
    """The run's progress, kept in work/state.json (atomically replaced) so it can resume."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.path = work / "state.json"
        self.campus_path = work / "campus.pickle"
        self.db = work / "agent" / "data" / "queue" / "influxdb_central.db"
        want = {"minutes": MINUTES, "switches": SWITCHES, "peer_minutes": PEER_MINUTES}
        self.state: dict[str, Any] = (json.loads(self.path.read_text())
                                      if self.path.exists() else {})
        if self.state and self.state.get("config") != want:
            raise SystemExit(f"{work} holds a run of {self.state.get('config')}, not {want}")
        if not self.state:
            self.state = {"config": want, "start_ns": (time.time_ns() // 60_000_000_000
                                                       - MINUTES) * 60_000_000_000,
                          "queued_ticks": 0, "queue_cpu_s": 0.0, "queue_wall_s": 0.0,
                          # vmagent's queue directory is per remote URL: the same port to
                          # fill it and, in a later invocation, to drain it
                          "vmagent_remote_port": free_port()}

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, indent=1))
        os.replace(tmp, self.path)

    def save_campus(self, campus: Campus) -> None:
        tmp = self.campus_path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            pickle.dump(campus, f, protocol=pickle.HIGHEST_PROTOCOL)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.campus_path)

    def load_campus(self) -> Campus:
        if not self.campus_path.exists():
            return Campus(SWITCHES)
        with self.campus_path.open("rb") as f:
            campus: Campus = pickle.load(f)  # our own checkpoint file
        return campus


def cut_queue_after(db: Path, items: int) -> None:
    """Delete the queue rows past the first `items` items (the ticks queued after the last
    checkpoint, queued again on resume). Rows hold whole puts and a tick is whole puts, so the
    cut falls on a row boundary; anything else means the file is not this run's."""
    if not db.exists():
        if items:
            raise SystemExit(f"{db} is missing but the checkpoint says {items:,} items")
        return
    con = sqlite3.connect(db, isolation_level=None)
    try:
        total, cut = 0, None
        for row_id, n in con.execute("SELECT id, items FROM queue ORDER BY id"):
            if total == items:
                cut = row_id
                break
            total += n
        if total != items:
            raise SystemExit(f"{db}: no row boundary at {items:,} items (the checkpoint's); "
                             "not this run's queue")
        if cut is not None:
            con.execute("DELETE FROM queue WHERE id >= ?", (cut,))
            print(f"  resumed: deleted the queue rows past the checkpoint (from row {cut})",
                  flush=True)
    finally:
        con.close()


def queue_phase(run: Run, vmagent_port: int, sink_port: int) -> None:
    """Queue MINUTES ticks into campusmon's queue and the first PEER_MINUTES into vmagent's;
    the results go into run.state (queue_cpu_s, peer)."""
    st = run.state
    campus = run.load_campus()
    points_per_tick = len(campus.ports) + 4 * len(campus.devices)
    if campus.ticks < PEER_MINUTES and campus.ticks:  # vmagent's queue cannot be cut back
        raise SystemExit(f"{run.work}: stopped while feeding vmagent; remove it and start over")
    cut_queue_after(run.db, campus.ticks * points_per_tick)
    st["queued_ticks"] = campus.ticks
    q = DiskQueue(run.db, BUDGET)
    vmagent = (start_vmagent(run.work, vmagent_port, sink_port) if campus.ticks < PEER_MINUTES
               else None)
    c_peer = cpu_pid(vmagent.proc.pid) if vmagent else 0.0
    url = f"http://127.0.0.1:{vmagent_port}/write"
    every = 10 if MINUTES <= 120 else 60
    ours = 0.0
    wall0 = time.monotonic()
    try:
        for t in range(campus.ticks, MINUTES):
            metrics = campus.tick_metrics(st["start_ns"] + t * 60 * 10**9)
            c0 = time.process_time()
            for k in range(0, len(metrics), FLUSH):
                if q.put_metrics(BatchKind.METRICS, metrics[k:k + FLUSH])[1]:
                    raise SystemExit("campusmon's queue dropped points under the 16 GiB quota")
            ours += time.process_time() - c0
            if vmagent is not None:
                lines = render_many(metrics)
                for k in range(0, len(lines), FLUSH):
                    post(url, "\n".join(lines[k:k + FLUSH]).encode())
                if t == PEER_MINUTES - 1:  # stopped gracefully: in-memory blocks reach disk
                    st["peer"] = {"queue_cpu_s": cpu_pid(vmagent.proc.pid) - c_peer,
                                  "values": PEER_MINUTES * campus.values_per_tick(),
                                  "points": PEER_MINUTES * points_per_tick}
                    vmagent.stop()
                    vmagent = None
                    st["peer"]["bytes"] = dir_bytes(run.work / "vmagent-queue")
            done = t + 1
            if done % CHECKPOINT == 0 or done == MINUTES:
                run.save_campus(campus)  # after the queue committed tick t
                st["queued_ticks"] = done
                st["queue_cpu_s"] += ours
                st["queue_wall_s"] += time.monotonic() - wall0
                ours, wall0 = 0.0, time.monotonic()
                run.save()
                if out_of_time(60) and done < MINUTES:
                    raise Paused(f"paused after {done} of {MINUTES} ticks queued")
            if done % every == 0:
                print(f"  queued {done}/{MINUTES} simulated minutes "
                      f"({st['queue_cpu_s'] + ours:.0f} CPU-s in our queue so far)", flush=True)
    finally:
        if vmagent is not None:
            vmagent.stop()
        q.close()  # the last connection checkpoints the WAL into the file
    st["queued"] = {"values": MINUTES * campus.values_per_tick(),
                    "points": MINUTES * points_per_tick,
                    "bytes": run.db.stat().st_size + sum(
                        p.stat().st_size for p in run.db.parent.glob(run.db.name + "-*"))}
    run.save()


def drain_campusmon(work: Path, db: Path, vm_port: int) -> dict[str, Any]:
    """Drain until the queue is empty or OUTAGE_UNTIL is near: CPU-s from the first send to
    the end, points sent, whether the queue is empty, median and peak RSS MB."""
    out = work / "drain.json"
    proc = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, str(Path(__file__).parent / "drain.py"), str(db),
         f"http://127.0.0.1:{vm_port}", str(FLUSH), str(LIMIT_S)], cwd=REPO,
        stdout=out.open("wb"),
        stderr=(work / "drain.log").open("wb"))
    rss: list[float] = []
    try:
        for _ in range(LIMIT_S * 2):  # bounded
            with contextlib.suppress(OSError):
                rss.append(rss_mb(proc.pid))
            if proc.poll() is not None:
                break
            if out_of_time(180):  # ends after acknowledging the batch in flight
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=150)
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
    res: dict[str, Any] = json.loads(out.read_text())
    rss = [x for x in rss if x > 0]
    res["rss_median_mb"] = statistics.median(rss or [0.0])
    res["rss_peak_mb"] = max(rss or [0.0])
    return res


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


def run_phases(run: Run) -> None:
    """Each phase not yet in run.state: queue, drain ours, drain vmagent's, verify."""
    st, work = run.state, run.work
    vm_port, vmagent_port, sink_port = free_port(), free_port(), st["vmagent_remote_port"]
    if "queued" not in st:
        print(f"outage: {MINUTES} simulated minutes of {SWITCHES} switches "
              f"({Campus.values_per_tick_of(SWITCHES):,} values a minute), VictoriaMetrics "
              f"stopped; {st['queued_ticks']} queued before", flush=True)
        queue_phase(run, vmagent_port, sink_port)
        q, p = st["queued"], st["peer"]
        print(f"queued {q['values']:,} values ({q['points']:,} points): campusmon "
              f"{q['bytes'] / 2**20:.1f} MiB ({q['bytes'] / q['values']:.3f} B/value), vmagent "
              f"{p['bytes'] / 2**20:.1f} MiB ({p['bytes'] / p['values']:.3f} B/value over the "
              f"{p['values']:,} values of its {PEER_MINUTES} minutes); queueing took "
              f"{st['queue_wall_s']:.0f} s wall", flush=True)
    if "verify" in st:
        return
    vm = start_vm(work, vm_port)  # its data directory is in work: a resumed run keeps it
    try:
        if "drain" not in st:
            c_vm, t0 = cpu_pid(vm.proc.pid), time.monotonic()
            part = drain_campusmon(work, run.db, vm_port)
            part["wall_s"] = time.monotonic() - t0
            part["vm_ingest_cpu_s"] = cpu_pid(vm.proc.pid) - c_vm
            parts = st.setdefault("drain_parts", [])
            parts.append(part)
            run.save()
            print(f"campusmon drained {part['points']:,} points in {part['wall_s']:.0f} s wall "
                  f"(VictoriaMetrics ingest meanwhile: {part['vm_ingest_cpu_s']:.0f} CPU-s)",
                  flush=True)
            if not part["empty"]:
                raise Paused(f"paused while draining ({sum(p['points'] for p in parts):,} "
                             "points sent so far)")
            st["drain"] = {
                "cpu_s": sum(p["cpu_seconds"] for p in parts),
                "points": sum(p["points"] for p in parts),
                "wall_s": sum(p["wall_s"] for p in parts),
                "vm_ingest_cpu_s": sum(p["vm_ingest_cpu_s"] for p in parts),
                "rss_median_mb": statistics.median(p["rss_median_mb"] for p in parts),
                "rss_peak_mb": max(p["rss_peak_mb"] for p in parts)}
            run.save()
        if out_of_time(600):
            raise Paused("paused before the check (it needs up to half an hour)")
        if "peer_drain" not in st:
            peer_cpu, peer_rss = drain_vmagent(work, vmagent_port, sink_port)
            st["peer_drain"] = {"cpu_s": peer_cpu, "rss_peak_mb": peer_rss}
            run.save()
        t1 = time.monotonic()
        with run.campus_path.open("rb") as f:
            campus: Campus = pickle.load(f)  # our own checkpoint, after the last tick
        checked, bad = verify(vm_port, campus, st["start_ns"])
        st["verify"] = {"series": checked, "mismatches": bad, "wall_s": time.monotonic() - t1}
        run.save()
    finally:
        vm.stop()


def report(st: dict[str, Any]) -> None:
    q, p, d, pd, v = st["queued"], st["peer"], st["drain"], st["peer_drain"], st["verify"]
    ours_bpv, peer_bpv = q["bytes"] / q["values"], p["bytes"] / p["values"]
    # the 16 GiB and 72 h figures are for the 1,000-switch campus whatever was replayed
    # (values scale with the switches: every switch has the same ports and fields)
    per_hour = Campus.values_per_tick_of(1000) * 60
    hours_ours = BUDGET / (ours_bpv * per_hour)
    hours_peer = BUDGET / (peer_bpv * per_hour)
    how = ("measured" if MINUTES >= OUTAGE_H * 60 and SWITCHES == 1000
           else f"extrapolated from {MINUTES} min of {SWITCHES} switches")
    queue_100k = st["queue_cpu_s"] * 100_000 / q["points"]
    drain_100k = d["cpu_s"] * 100_000 / d["points"]
    print(f"72 h of the 1,000-switch campus ({per_hour * OUTAGE_H / 1e9:.2f} billion values, "
          f"{how}): campusmon {ours_bpv * per_hour * OUTAGE_H / 2**30:.1f} GiB (this run's "
          f"queue file: {q['bytes'] / 2**30:.2f} GiB); vmagent "
          f"{peer_bpv * per_hour * OUTAGE_H / 2**30:.1f} GiB")
    print(f"largest outage in 16 GiB: campusmon {hours_ours:.0f} h, vmagent {hours_peer:.0f} h")
    print(f"CPU-s per 100k points to queue: campusmon {queue_100k:.2f}, vmagent "
          f"{p['queue_cpu_s'] * 100_000 / p['points']:.2f} (its /write parsing + queueing)")
    print(f"CPU-s per 100k points to drain: campusmon {drain_100k:.2f} (output loop: decode + "
          f"gzip + HTTP + ack), vmagent {pd['cpu_s'] * 100_000 / p['points']:.2f}")
    print(f"VictoriaMetrics ingest: {d['vm_ingest_cpu_s'] * 100_000 / d['points']:.2f} CPU-s "
          f"per 100k points; per-series check {v['wall_s']:.0f} s wall")
    print(f"RSS while draining: campusmon median {d['rss_median_mb']:.0f} MB, peak "
          f"{d['rss_peak_mb']:.0f} MB; vmagent peak {pd['rss_peak_mb']:.0f} MB")
    print(f"exactly once: {v['series']:,} series checked (count and sum of every field over "
          f"the window), {v['mismatches']} mismatches")
    if v["mismatches"]:
        raise SystemExit("points lost or duplicated")
    print(json.dumps({"bench": "outage", "unit": "bytes_per_value_on_disk",
                      "campusmon": round(ours_bpv, 3), "peer": "vmagent_1.79_persistent_queue",
                      "peer_value": round(peer_bpv, 3), "ratio": round(ours_bpv / peer_bpv, 3),
                      "simulated_minutes": MINUTES, "switches": SWITCHES,
                      "queue_bytes": q["bytes"],
                      "queue_cpu_s_per_100k_points": round(queue_100k, 3),
                      "drain_cpu_s_per_100k_points": round(drain_100k, 3),
                      "hours_in_16GiB": round(hours_ours, 1),
                      "peer_hours_in_16GiB": round(hours_peer, 1),
                      "exactly_once_series": v["series"]}))


def main() -> None:
    for b in ("victoria-metrics", "vmagent", "taskset"):
        if shutil.which(b) is None:
            raise SystemExit(f"{b} is not installed (make system-deps)")
    os.sched_setaffinity(0, {0})
    t_start = time.monotonic()
    keep = os.environ.get("OUTAGE_WORKDIR")
    with contextlib.ExitStack() as stack:
        if keep:
            work = Path(keep)
            work.mkdir(parents=True, exist_ok=True)
        else:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-outage-")))
        run = Run(work)
        run.save()
        try:
            run_phases(run)
        except Paused as why:
            print(f"{why}; this invocation took {time.monotonic() - t_start:.0f} s. The same "
                  f"command goes on from here ({work}/state.json)", flush=True)
            raise SystemExit(3) from None
        print(f"this invocation took {time.monotonic() - t_start:.0f} s", flush=True)
        report(run.state)
        if keep and os.environ.get("OUTAGE_KEEP") != "1":
            shutil.rmtree(work)


if __name__ == "__main__":
    main()
