"""Export bench: campusmon's influxdb path into a real VictoriaMetrics against vmagent.

Method (shared/reference/baselines.md): this process (our side) pinned to core 0,
VictoriaMetrics to core 1; CPU counted per side (getrusage for us, /proc/PID/stat for VM);
the peer runs the same points in the same run; medians of 3 alternating rounds.

- campusmon: Metric objects → disk queue `put_metrics` (the pipeline's flush path: the dense
  columnar block is encoded straight from the objects, rows of one flush) → PushOutput peek
  (decode renders the line protocol from the columns) → influxdb exporter write (gzip level 1,
  its default) → ack.
- peer: vmagent (Debian victoria-metrics), pinned to our core: the same points (the next
  timestamps) as line protocol POSTed to its /write → its persistent queue
  (-remoteWrite.tmpDataPath; in memory first, on disk when it backs up or at shutdown) →
  remote write; its CPU counted from first POST until VictoriaMetrics' own counter shows every
  sample; the feeder's POSTs are reported, not counted (a source would send them anyway).
- floor: `urllib` POST of the same series and values (the next timestamps, so neither side
  rewrites samples the other wrote), pre-rendered, same batch size, no compression (rendering
  not counted: the floor for any writer).
- prometheus: one /metrics render over the snapshot, against a plain custom Collector.
- memory: RSS of a real `campusmon run` process whose disk queue holds a 1,000,000-point
  backlog while its centre is unreachable, next to the same agent with an empty queue.

Bounded: about a minute on 2 cores. Ends with one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from agent.core.lineprotocol import render_many  # noqa: E402
from agent.core.model import Metric, MetricKind  # noqa: E402
from agent.core.plugin import BatchKind  # noqa: E402
from agent.framework.diskqueue import DiskQueue  # noqa: E402
from agent.framework.outputs import PushOutput  # noqa: E402
from agent.framework.pipeline import QueueSink  # noqa: E402
from agent.framework.telemetry import PluginStats  # noqa: E402
from config.models import QueueOptions  # noqa: E402
from exporters.influxdb.plugin import InfluxConfig, InfluxExporter  # noqa: E402

POINTS = 100_000
SERIES = 2_000  # interfaces across a campus: points are SERIES x (POINTS / SERIES) ticks
FLUSH = 5_000  # points per queue row (one agent flush) and per HTTP batch
ROUNDS = 3
BACKLOG = 1_000_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def cpu_pid(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_http(url: str, limit_s: float = 30) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} not ready")


def make_metrics(t0_ns: int) -> list[Metric]:
    """4 fields per point (as in the baselines), place tags on every series."""
    ticks = POINTS // SERIES
    out = []
    for t in range(ticks):
        ts = t0_ns + t * 1_000_000_000
        for s in range(SERIES):
            out.append(Metric(
                "snmp_interface",
                {"campus": "hnvc", "building": f"b{s % 12}", "room": f"r{s % 120}",
                 "device": f"sw-{s // 48}", "ifname": f"GE0/0/{s % 48}"},
                {"in_octets": 10**9 + t * 1000 + s, "out_octets": 2 * 10**9 + t * 900,
                 "in_errors": s % 7, "in_bps": 1234.5 + t},
                ts, MetricKind.COUNTER))
    return out


def campusmon_path(metrics: list[Metric], url: str, workdir: Path) -> tuple[float, float]:
    """CPU seconds and wall seconds of the real path for `metrics`."""
    qdir = Path(tempfile.mkdtemp(dir=workdir))
    exporter = InfluxExporter(InfluxConfig(url=url))
    queue = DiskQueue(qdir / "q.db", 2**31)
    opts = QueueOptions(batch_max_points=FLUSH)
    out = PushOutput(QueueSink("influxdb/bench", queue, exporter.accepts,
                               PluginStats("influxdb", "influxdb/bench")), exporter, opts)

    async def deliver() -> None:
        await exporter.start()
        while queue.stats().rows:
            if not await out.deliver_once():
                raise SystemExit("campusmon path: a batch failed")
        await exporter.close()

    c0, w0 = cpu_self(), time.monotonic()
    for k in range(0, len(metrics), FLUSH):
        queue.put_metrics(BatchKind.METRICS, metrics[k:k + FLUSH])
    asyncio.run(deliver())
    cpu, wall = cpu_self() - c0, time.monotonic() - w0
    queue.close()
    shutil.rmtree(qdir)
    return cpu, wall


def peer_path(bodies: list[bytes], url: str) -> tuple[float, float]:
    c0, w0 = cpu_self(), time.monotonic()
    for body in bodies:
        req = urllib.request.Request(f"{url}/api/v2/write?precision=ns", data=body,
                                     method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:
            if r.status != 204:
                raise SystemExit(f"peer: HTTP {r.status}")
    return cpu_self() - c0, time.monotonic() - w0


def vm_rows(url: str, kind: str) -> int:
    """Rows VictoriaMetrics inserted from one protocol (its own counter)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as r:
        text = r.read().decode()
    total = 0
    for line in text.splitlines():
        if line.startswith("vm_rows_inserted_total{") and f'type="{kind}"' in line:
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


def vmagent_path(bodies: list[bytes], samples: int, agent_url: str, agent_pid: int,
                 vm_url: str) -> tuple[float, float, float]:
    """vmagent as a durable forwarder: line protocol POSTed to its /write, its persistent
    queue, remote write to VictoriaMetrics. Returns (vmagent CPU-s until VictoriaMetrics has
    every sample, the feeder's CPU-s for the POSTs, wall seconds). Bounded: 60 s."""
    target = vm_rows(vm_url, "promremotewrite") + samples
    c_agent, c0, w0 = cpu_pid(agent_pid), cpu_self(), time.monotonic()
    for body in bodies:
        req = urllib.request.Request(f"{agent_url}/write", data=body, method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:
            if r.status != 204:
                raise SystemExit(f"vmagent: HTTP {r.status}")
    feeder = cpu_self() - c0
    deadline = time.monotonic() + 60
    while vm_rows(vm_url, "promremotewrite") < target:
        if time.monotonic() > deadline:
            raise SystemExit("vmagent did not forward every sample within 60 s")
        time.sleep(0.05)
    return cpu_pid(agent_pid) - c_agent, feeder, time.monotonic() - w0


def backlog_rss(workdir: Path) -> tuple[float, float, int]:
    """(RSS MB with an empty queue, RSS MB holding BACKLOG points, queue file MB)."""
    results = []
    for points in (0, BACKLOG):
        d = workdir / f"agent{points}"
        cfg = d / "agent.yaml"
        d.mkdir()
        cfg.write_text(f"""agent:
  data_dir: data
  interval_secs: 5
inputs:
  - type: host
outputs:
  - type: influxdb
    name: central
    url: http://127.0.0.1:{free_port()}
    timeout_secs: 1
    queue: {{max_megabytes: 2048, retry_initial_secs: 1, retry_max_secs: 2}}
""")
        db = d / "data" / "queue" / "influxdb_central.db"
        if points:
            q = DiskQueue(db, 2**31)
            now = time.time_ns()
            for k in range(0, points, FLUSH):
                q.put(BatchKind.METRICS, [
                    f"snmp_interface,building=b{i % 12},campus=hnvc,device=sw-{i % 40},"
                    f"ifname=GE0/0/{i % 48},room=r{i % 120} in_octets={i}i,out_octets={i}i,"
                    f"in_errors=0i,in_bps=1.5 {now - i}" for i in range(k, k + FLUSH)])
            q.close()
        proc = subprocess.Popen(
            ["taskset", "-c", "0", sys.executable, "-m", "agent.app.cli", "--log-level", "error",
             "run", "--config", str(cfg)], cwd=REPO, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        time.sleep(6)  # started, opened the queue, tried (and failed) to deliver a batch
        samples = []
        for _ in range(5):
            samples.append(rss_mb(proc.pid))
            time.sleep(0.2)
        peak = max(samples)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        size = db.stat().st_size if db.exists() else 0
        results.append((peak, size))
    return results[0][0], results[1][0], results[1][1] // 2**20


def scrape_cost() -> tuple[float, float, int]:
    """CPU seconds of one /metrics render over a snapshot of SERIES series x 4 fields (our
    collector), and of a plain custom Collector of the same samples (prometheus-client's
    cheapest way, without our naming rules); medians of 3."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily

    from agent.framework.snapshot import Snapshot
    from exporters.prometheus.client import SnapshotCollector

    metrics = make_metrics(time.time_ns())[: SERIES * 5]
    snap = Snapshot(ttl_secs=3600)
    snap.update(metrics)
    ours = CollectorRegistry(auto_describe=False)
    ours.register(SnapshotCollector(snap.current))
    names = ["campus", "building", "room", "device", "ifname"]

    class Plain:
        def collect(self) -> list[GaugeMetricFamily]:
            fams = {f: GaugeMetricFamily(f"snmp_interface_{f}", f, labels=names)
                    for f in metrics[0].fields}
            for m in snap.current():
                for f, v in m.fields.items():
                    fams[f].add_metric([m.tags[n] for n in names], float(v))
            return list(fams.values())

    plain = CollectorRegistry(auto_describe=False)
    plain.register(Plain())
    samples = len(snap) * len(metrics[0].fields)
    a, b = [], []
    for _ in range(3):
        c0 = cpu_self()
        generate_latest(ours)
        a.append(cpu_self() - c0)
        c0 = cpu_self()
        generate_latest(plain)
        b.append(cpu_self() - c0)
    return statistics.median(a), statistics.median(b), samples


def main() -> None:
    binary = shutil.which("victoria-metrics")
    if binary is None:
        raise SystemExit("victoria-metrics is not installed (make system-deps)")
    os.sched_setaffinity(0, {0})
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        work = Path(tmp)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        vm = subprocess.Popen(
            ["taskset", "-c", "1", binary, f"-httpListenAddr=127.0.0.1:{port}",
             f"-storageDataPath={work}/vm", "-retentionPeriod=1", "-memory.allowedPercent=20"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        agent_port = free_port()
        agent_url = f"http://127.0.0.1:{agent_port}"
        # the peer forwarder on our core, with its persistent queue in the work dir
        vma = subprocess.Popen(
            ["taskset", "-c", "0", "vmagent", f"-httpListenAddr=127.0.0.1:{agent_port}",
             f"-remoteWrite.url={url}/api/v1/write", f"-remoteWrite.tmpDataPath={work}/vma",
             "-remoteWrite.flushInterval=100ms"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        vma_cpu: list[float] = []
        vma_feed: list[float] = []
        try:
            wait_http(f"{url}/health")
            wait_http(f"{agent_url}/health")
            now = time.time_ns() - 3600 * 10**9  # recent, well inside the retention
            # warm-up: create the series once, so both sides write to existing series
            warm = make_metrics(now - 2 * 3600 * 10**9)
            campusmon_path(warm, url, work)
            ours_cpu, ours_wall, peer_cpu, vm_ours, vm_peer = [], [], [], [], []
            render_cpu = []
            for r in range(ROUNDS):
                base = now + r * 3 * POINTS // SERIES * 10**9
                metrics = make_metrics(base)
                c_vm = cpu_pid(vm.pid)
                cpu, wall = campusmon_path(metrics, url, work)
                vm_ours.append(cpu_pid(vm.pid) - c_vm)
                ours_cpu.append(cpu)
                ours_wall.append(wall)
                fresh = make_metrics(base + POINTS // SERIES * 10**9)
                c0 = cpu_self()
                lines = render_many(fresh)  # rendering alone, for the breakdown
                render_cpu.append(cpu_self() - c0)
                bodies = ["\n".join(lines[k:k + FLUSH]).encode()
                          for k in range(0, len(lines), FLUSH)]
                c_vm = cpu_pid(vm.pid)
                cpu, _ = peer_path(bodies, url)
                vm_peer.append(cpu_pid(vm.pid) - c_vm)
                peer_cpu.append(cpu)
                later = render_many(make_metrics(base + 2 * POINTS // SERIES * 10**9))
                vbodies = ["\n".join(later[k:k + FLUSH]).encode()
                           for k in range(0, len(later), FLUSH)]
                a_cpu, f_cpu, _ = vmagent_path(vbodies, POINTS * 4, agent_url, vma.pid, url)
                vma_cpu.append(a_cpu)
                vma_feed.append(f_cpu)
        finally:
            vma.send_signal(signal.SIGTERM)
            vma.wait(timeout=20)
            vm.send_signal(signal.SIGTERM)
            vm.wait(timeout=20)
        empty_rss, backlog_rss_mb, qfile_mb = backlog_rss(work)
    scrape_ours, scrape_plain, samples = scrape_cost()

    scale = 100_000 / POINTS
    ours = statistics.median(ours_cpu) * scale
    peer = statistics.median(peer_cpu) * scale
    wall = statistics.median(ours_wall)
    print(f"points per round: {POINTS:,} ({SERIES:,} series x {POINTS // SERIES} ticks, "
          f"4 fields), batches of {FLUSH:,}, {ROUNDS} rounds, medians")
    print(f"campusmon (disk queue from Metric objects + influxdb exporter, gzip 1): {ours:.3f} "
          f"CPU-s per "
          f"100k points; {POINTS / wall:,.0f} points/s wall; "
          f"{POINTS / statistics.median(ours_cpu):,.0f} points per CPU-second")
    rendering = statistics.median(render_cpu) * scale
    print(f"  (render_many of the same points alone, no longer on this path: {rendering:.3f})")
    print(f"peer (urllib POST, pre-rendered, uncompressed): {peer:.3f} CPU-s per 100k points")
    vmagent = statistics.median(vma_cpu) * scale
    print(f"vmagent (line protocol in -> persistent queue -> remote write): {vmagent:.3f} "
          f"CPU-s per 100k points (the feeder's POSTs of pre-rendered lines: "
          f"{statistics.median(vma_feed) * scale:.3f}, not counted)")
    print(f"VictoriaMetrics CPU per 100k points: {statistics.median(vm_ours) * scale:.3f} "
          f"(campusmon's batches), {statistics.median(vm_peer) * scale:.3f} (peer's)")
    print(f"agent RSS: {empty_rss:.1f} MB with an empty queue, {backlog_rss_mb:.1f} MB holding a "
          f"{BACKLOG:,}-point backlog ({qfile_mb} MB queue file)")
    print(f"prometheus /metrics render of {samples:,} samples: {scrape_ours:.3f} CPU-s "
          f"(snapshot collector with naming rules) vs {scrape_plain:.3f} (plain custom Collector)")
    print(json.dumps({"bench": "export", "unit": "cpu_seconds_per_100k_points",
                      "path": "Metric objects -> disk queue (columnar, from the objects) -> "
                              "influxdb exporter (gzip) -> HTTP",
                      "campusmon": round(ours, 4), "peer": "vmagent",
                      "peer_value": round(vmagent, 4), "ratio": round(ours / vmagent, 2),
                      "floor": "urllib_post_prerendered", "floor_value": round(peer, 4)}))


if __name__ == "__main__":
    main()
