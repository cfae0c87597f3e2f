"""Outage bench: a 1,000-switch campus queued while the centre is down, then drained.

Method (shared/reference/baselines.md): our side pinned to core 0, the far side (vmagent,
VictoriaMetrics) to core 1; CPU counted per side (process time for our queueing, /proc for
the agent and the daemons). The peer runs the same points in the same run.

1. VictoriaMetrics is stopped. `MINUTES` ticks of the campus (bench/outage/campus.py: 1,000
   switches x 48 ports x 20 fields + 7 health values a switch, 967,000 values a tick,
   timestamps 60 s apart ending now) are replayed as fast as they can be queued:
   - campusmon: DiskQueue.put of the rendered lines, rows of 5,000 (the agent's flush path);
   - vmagent (Debian victoria-metrics 1.79): the same lines POSTed to its /write, its remote
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

The default replay is 10 simulated minutes of the full campus (9.7 million values, 520,000
points, 967,000 series: VictoriaMetrics' first ingest of a million series and the per-series
check dominate the run time); `OUTAGE_MINUTES=20` (or 60) replays longer. Density does not
depend on it: 20- and 30-minute replays measured the same 2.975 bytes per value. The 72-hour
figures are extrapolated linearly from the measured bytes per value (each queue row is an
independent block, so density does not depend on the length of the outage). Ends with one
JSON line.
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

from agent.core.plugin import BatchKind  # noqa: E402
from agent.framework.diskqueue import DiskQueue  # noqa: E402
from bench.outage.campus import HEALTH, IF_FIELDS, Campus  # noqa: E402

MINUTES = int(os.environ.get("OUTAGE_MINUTES", "10"))
SWITCHES = int(os.environ.get("OUTAGE_SWITCHES", "1000"))
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
                 "-search.maxUniqueTimeseries=2000000", "-memory.allowedPercent=40"],
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
                vmagent_pid: int) -> tuple[Path, float, float, int]:
    """Queue MINUTES ticks in both; returns (queue file, our CPU-s, vmagent CPU-s, values)."""
    db = work / "agent" / "data" / "queue" / "influxdb_central.db"
    q = DiskQueue(db, 2**40)
    ours = 0.0
    c_peer = cpu_pid(vmagent_pid)
    url = f"http://127.0.0.1:{vmagent_port}/write"
    for t in range(MINUTES):
        lines = campus.tick(start_ns + t * 60 * 10**9)
        c0 = time.process_time()
        for k in range(0, len(lines), FLUSH):
            q.put(BatchKind.METRICS, lines[k:k + FLUSH])
        ours += time.process_time() - c0
        for k in range(0, len(lines), FLUSH):
            post(url, "\n".join(lines[k:k + FLUSH]).encode())
        if t % 10 == 9:
            print(f"  queued {t + 1}/{MINUTES} simulated minutes", flush=True)
    q.close()  # the last connection checkpoints the WAL into the file
    return db, ours, cpu_pid(vmagent_pid) - c_peer, campus.ticks * campus.values_per_tick()


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
        for _ in range(2400):  # bounded: 20 minutes
            with contextlib.suppress(OSError):
                rss.append(rss_mb(proc.pid))
            if proc.poll() is not None:
                break
            time.sleep(0.5)
        else:
            raise SystemExit("the queue did not drain in 20 minutes")
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
        deadline = time.monotonic() + 1200
        while time.monotonic() < deadline:
            time.sleep(0.5)
            peak = max(peak, rss_mb(agent.proc.pid))
            if vmagent_drained(port):
                break
        else:
            raise SystemExit("vmagent did not drain in 20 minutes")
        return cpu_pid(agent.proc.pid) - c0, peak
    finally:
        agent.stop()
        sink.proc.kill()
        sink.proc.wait(timeout=10)


def vm_query(vm_port: int, query: str, at_s: float) -> list[dict[str, Any]]:
    data = urllib.parse.urlencode({"query": query, "time": f"{at_s:.3f}"}).encode()
    with urllib.request.urlopen(f"http://127.0.0.1:{vm_port}/api/v1/query", data=data,
                                timeout=300) as r:
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
            db, ours_q, peer_q, values = queue_phase(work, campus, start_ns, vmagent_port,
                                                     vmagent.proc.pid)
        finally:
            vmagent.stop()
        lines = campus.ticks * (len(campus.ports) + 4 * len(campus.devices))
        ours_bytes = db.stat().st_size + sum(
            p.stat().st_size for p in db.parent.glob(db.name + "-*"))
        peer_bytes = dir_bytes(work / "vmagent-queue")
        ours_bpv, peer_bpv = ours_bytes / values, peer_bytes / values
        per_hour = campus.values_per_tick() * 60
        print(f"queued {values:,} values ({lines:,} points): campusmon {ours_bytes / 2**20:.1f} "
              f"MiB ({ours_bpv:.3f} B/value), vmagent {peer_bytes / 2**20:.1f} MiB "
              f"({peer_bpv:.3f} B/value)", flush=True)

        vm = start_vm(work, vm_port)
        try:
            ours_d, drained, rss_med, rss_peak = drain_campusmon(work, vm_port)
            peer_d, peer_rss = drain_vmagent(work, vmagent_port, sink_port)
            checked, bad = verify(vm_port, campus, start_ns)
        finally:
            vm.stop()
        per100k = 100_000 / lines
        hours_ours = BUDGET / (ours_bpv * per_hour)
        hours_peer = BUDGET / (peer_bpv * per_hour)
        need = ours_bpv * per_hour * OUTAGE_H / 2**30
        print(f"72 h of this campus ({per_hour * OUTAGE_H / 1e9:.2f} billion values, "
              f"extrapolated linearly from {MINUTES} min): campusmon {need:.1f} GiB; "
              f"vmagent {peer_bpv * per_hour * OUTAGE_H / 2**30:.1f} GiB")
        print(f"largest outage in 16 GiB: campusmon {hours_ours:.0f} h, vmagent "
              f"{hours_peer:.0f} h")
        print(f"CPU-s per 100k points to queue: campusmon {ours_q * per100k:.2f}, vmagent "
              f"{peer_q * per100k:.2f} (its /write parsing + queueing)")
        print(f"CPU-s per 100k points to drain: campusmon {ours_d * 100_000 / drained:.2f} "
              f"(output loop: decode + gzip + HTTP + ack), vmagent "
              f"{peer_d * per100k:.2f}")
        print(f"RSS while draining: campusmon median {rss_med:.0f} MB, peak {rss_peak:.0f} MB; "
              f"vmagent peak {peer_rss:.0f} MB")
        print(f"exactly once: {checked:,} series checked (count and sum of every field over "
              f"the window), {bad} mismatches; bench took {time.monotonic() - t_start:.0f} s")
        if bad:
            raise SystemExit("points lost or duplicated")
    print(json.dumps({"bench": "outage", "unit": "bytes_per_value_on_disk",
                      "campusmon": round(ours_bpv, 3), "peer": "vmagent_1.79_persistent_queue",
                      "peer_value": round(peer_bpv, 3), "ratio": round(ours_bpv / peer_bpv, 3),
                      "simulated_minutes": MINUTES, "hours_in_16GiB": round(hours_ours, 1),
                      "peer_hours_in_16GiB": round(hours_peer, 1),
                      "exactly_once_series": checked}))


if __name__ == "__main__":
    main()
