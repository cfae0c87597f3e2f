"""Campus scale: one `campusmon run` polling N simulated 48-port switches, beside the peer.

What runs (all inside one network namespace made here, so every address is its own):
- far side, pinned to core 1: one net-snmp `snmpd` answering on every 127.1.x.y address
  (the namespace's loopback answers all of 127/8): each address is one "switch" with its
  own address, its own session and its own rate state in the agent, and snmpd serves the
  namespace's real interface tables — 48 veth ports plus lo, with IPv4 addresses (IP-MIB).
  One snmpd for all devices is realistic for the agent's side (one UDP exchange per request
  per device, as with real switches) and cheap for the far side (C, ~0.07 CPU-s per 10k
  varbinds); net-snmp has no LLDP-MIB, so the lldp profile finds an absent table, as on a
  switch with LLDP off. mosquitto with a publisher of IoT sensor readings (one message per
  sensor per tick), a TCP listener on port 22, and VictoriaMetrics.
- the agent, pinned to core 0: `campusmon run` with the snmp input (profiles system,
  interfaces, ip, lldp; health profiles `auto`; fast v2c transport), the dualstack input
  (ICMP + TCP to the servers), the mqtt input (the sensors), the audit processor, and the
  influxdb output into VictoriaMetrics behind its disk queue, local store on.
- the peer, pinned to core 0 after the agent stopped: prometheus-snmp-exporter (module
  if_mib: ifTable + ifXTable) scraped by vmagent every interval for the same switches,
  remote-writing to VictoriaMetrics. The peer does less SNMP work (no system/IP/health tables).

Measured per tick (the interval may be compressed, `--interval`): agent CPU-s and RSS from
/proc, points VictoriaMetrics inserted, and from the agent's own `agent_poll` points the
per-device poll finish time after the tick's first poll started (p50/p99); the peer's CPU
(exporter + vmagent) per tick. Several sizes in one go with `--devices 250,500,1000`.
The default (50 switches, 50 servers, 250 sensors, 5 ticks of 15 s; about 3.5 minutes) fits
`make bench`; full runs:
  bench/campus_scale/run.py --devices 250,500,1000 --ticks 5 --interval 60
  bench/campus_scale/run.py --devices 1000 --ticks 60 --interval 20 --no-peer
Ends with one JSON line (the largest size): cycle_seconds, rss_mib, cpu ratio vs the peer.
Needs root (namespace).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PORTS = 48
BUILDINGS = 5
EXPORTER_CONFIG = REPO.parent / "shared" / "reference" / "peers" / "snmp_exporter_if_mib.yml"
CLK_TCK = os.sysconf("SC_CLK_TCK")
VM_PORT, MQTT_PORT, EXP_PORT, VMA_PORT = 8428, 1883, 9116, 8429  # inside our own namespace


def sh(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=120).stdout


def cpu_of(pid: int) -> float:
    text = Path(f"/proc/{pid}/stat").read_text()
    f = text[text.rindex(")") + 2:].split()
    return (int(f[11]) + int(f[12])) / CLK_TCK


def tree_cpu(pid: int) -> float:
    """CPU of a process and its threads (children of `ip netns exec`/taskset are exec'd, so
    the pid is the program itself)."""
    return cpu_of(pid)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def switch_ip(i: int) -> str:
    return f"127.1.{i // 250}.{i % 250 + 1}"


def server_ip(i: int) -> str:
    return f"127.2.{i // 250}.{i % 250 + 1}"


@dataclass
class Lab:
    ns: str
    work: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def exec(self, argv: list[str], core: int, log: str) -> subprocess.Popen[bytes]:
        out = (self.work / f"{log}.log").open("wb")
        p = subprocess.Popen(["ip", "netns", "exec", self.ns, "taskset", "-c", str(core),
                              *argv], stdout=out, stderr=subprocess.STDOUT, cwd=self.work)
        self.procs.append(p)
        return p

    def stop(self, p: subprocess.Popen[bytes]) -> None:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@contextlib.contextmanager
def namespace(work: Path) -> Iterator[Lab]:
    ns = f"cmcs{os.getpid()}"
    sh("ip", "netns", "add", ns)
    lab = Lab(ns, work)
    try:
        cmds = ["link set lo up"]
        for i in range(PORTS // 2):  # veth pairs: containers often lack the dummy module
            cmds += [f"link add a{i} type veth peer name b{i}", f"link set a{i} up",
                     f"link set b{i} up", f"addr add 10.{i}.0.1/24 dev a{i}"]
        (work / "ns.batch").write_text("\n".join(cmds) + "\n")
        sh("ip", "-n", ns, "-batch", str(work / "ns.batch"))
        for key in ("net.ipv4.icmp_ratelimit=0", "net.ipv4.ping_group_range=0 2147483647"):
            subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", key],
                           capture_output=True, timeout=30)
        yield lab
    finally:
        for p in lab.procs:
            lab.stop(p)
        subprocess.run(["ip", "netns", "delete", ns], capture_output=True, timeout=60)


def http_get(lab: Lab, url: str, timeout: float = 10) -> str:
    """GET inside the namespace (curl there; our process stays outside)."""
    return subprocess.run(["ip", "netns", "exec", lab.ns, "curl", "-sf", "--max-time",
                           str(timeout), url], capture_output=True, text=True,
                          timeout=timeout + 5).stdout


def wait_for(lab: Lab, url: str, limit_s: float = 30) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if http_get(lab, url, 2):
            return
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up in the namespace")


def vm_rows(lab: Lab) -> int:
    total = 0
    for line in http_get(lab, f"http://127.0.0.1:{VM_PORT}/metrics").splitlines():
        if line.startswith("vm_rows_inserted_total{"):
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


def write_campus(d: Path, switches: int, servers: int, sensors: int, interval: int) -> Path:
    inv = ["campus:", "  code: bench", "  name: bench campus", "buildings:"]
    for b in range(BUILDINGS):
        inv += [f"  - id: b{b}", f"    name: building {b}"]
    inv.append("devices:")
    for i in range(switches):
        inv += [f"  - id: sw-{i:04d}", "    kind: access_switch", f"    building: b{i % 5}",
                f"    ipv4: {switch_ip(i)}", "    credential: v2c"]
    for i in range(servers):
        inv += [f"  - id: srv-{i:04d}", "    kind: server", f"    building: b{i % 5}",
                f"    ipv4: {server_ip(i)}", "    services: [ssh]"]
    for i in range(sensors):
        inv += [f"  - id: env-{i:04d}", "    kind: sensor", f"    building: b{i % 5}"]
    (d / "inventory.yaml").write_text("\n".join(inv) + "\n")
    cfg = d / "agent.yaml"
    cfg.write_text(f"""agent:
  inventory: inventory.yaml
  data_dir: data
  interval_secs: {interval}
  timeout_secs: {max(5, interval - 2)}
  max_concurrency: 256
  local_store:
    enabled: true
    retention_hours: 24
credentials:
  - name: v2c
    type: snmp_v2c
    community: public
inputs:
  - type: snmp
    name: switches
    targets: {{kinds: [access_switch]}}
    profiles: [system, interfaces, ip, lldp]
    device_profiles: auto
    transport: fast
  - type: dualstack
    name: services
    targets: {{kinds: [server]}}
    family: ipv4
    icmp: {{count: 1, timeout_secs: 1}}
  - type: mqtt
    name: iot
    host: 127.0.0.1
    port: {MQTT_PORT}
    targets: {{kinds: [sensor]}}
processors:
  - type: audit
outputs:
  - type: influxdb
    name: vm
    url: http://127.0.0.1:{VM_PORT}
""")
    return cfg


@dataclass
class Tick:
    cpu_s: float
    rss_mib: float
    points: int


def sample_ticks(lab: Lab, pid: int, ticks: int, interval: int, publish: Publisher | None
                 ) -> list[Tick]:
    out = []
    c0, r0 = tree_cpu(pid), vm_rows(lab)
    for _ in range(ticks):
        t_end = time.monotonic() + interval
        if publish is not None:
            publish.go()
        time.sleep(max(0.0, t_end - time.monotonic()))
        c1, r1 = tree_cpu(pid), vm_rows(lab)
        out.append(Tick(c1 - c0, rss_mib(pid), r1 - r0))
        c0, r0 = c1, r1
    return out


class Publisher:
    """bench/mqtt_ingest's publisher (paho, QoS 0): one message per sensor per `go`."""

    def __init__(self, lab: Lab, sensors: int) -> None:
        self.sensors = sensors
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", lab.ns, "taskset", "-c", "1", sys.executable,
             str(REPO / "bench" / "mqtt_ingest" / "publisher.py"), "127.0.0.1",
             str(MQTT_PORT), str(sensors)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True)
        assert self.proc.stdout is not None
        self.proc.stdout.readline()  # ready

    def go(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"go {self.sensors}\n")
        self.proc.stdin.flush()
        self.proc.stdout.readline()  # done

    def close(self) -> None:
        with contextlib.suppress(Exception):
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        self.proc.wait(10)


def poll_finish(lab: Lab, interval: int) -> tuple[float, float, int, list[int]]:
    """p50 / p99 of per-device SNMP poll finish after its tick's first poll started, over all
    ticks; the number of switch polls that failed; switch polls done per tick (fewer than the
    switches: the agent did not get through them within the interval, the rest overran)."""
    q = urllib.parse.quote('{__name__=~"agent_poll_(duration_seconds|up)",device=~"sw-.*"}')
    body = http_get(lab, f"http://127.0.0.1:{VM_PORT}/api/v1/export?match[]={q}", 60)
    dur: dict[str, dict[int, float]] = {}
    failed = 0
    for line in body.splitlines():
        row = json.loads(line)
        name, dev = row["metric"]["__name__"], row["metric"]["device"]
        if name.endswith("_up"):
            failed += sum(1 for v in row["values"] if v == 0)
            continue
        dur.setdefault(dev, {}).update(zip(row["timestamps"], row["values"], strict=True))
    starts = sorted(ts for d in dur.values() for ts in d)
    if not starts:
        return float("nan"), float("nan"), failed, []
    finishes: list[float] = []
    first = starts[0]
    by_tick: dict[int, list[tuple[int, float]]] = {}
    for d in dur.values():
        for ts, secs in d.items():
            by_tick.setdefault(round((ts - first) / 1000 / interval), []).append((ts, secs))
    for rows in by_tick.values():
        t0 = min(ts for ts, _ in rows)
        finishes += [(ts - t0) / 1000 + secs for ts, secs in rows]
    finishes.sort()
    done = [len(by_tick[k]) for k in sorted(by_tick)]
    return (statistics.median(finishes), finishes[min(len(finishes) - 1,
                                                      int(len(finishes) * 0.99))], failed, done)


def run_size(lab: Lab, switches: int, ticks: int, interval: int, peer: bool,
             servers: int, sensors: int) -> dict[str, Any]:
    d = lab.work / f"n{switches}"
    d.mkdir()
    cfg = write_campus(d, switches, servers, sensors, interval)
    vm = lab.exec(["victoria-metrics", f"-httpListenAddr=127.0.0.1:{VM_PORT}",
                   f"-storageDataPath={d}/vm", "-retentionPeriod=1", "-search.latencyOffset=0s"],
                  1, f"vm{switches}")
    wait_for(lab, f"http://127.0.0.1:{VM_PORT}/health")
    pub = Publisher(lab, sensors) if sensors else None
    agent = lab.exec([str(REPO / ".venv" / "bin" / "campusmon"), "--log-level", "warning",
                      "run", "--config", str(cfg)], 0, f"agent{switches}")
    time.sleep(interval * 1.5)  # started; the first tick ran (sessions, baselines)
    if agent.poll() is not None:
        raise SystemExit(f"the agent exited: see {lab.work}/agent{switches}.log")
    rss0 = rss_mib(agent.pid)
    rows = sample_ticks(lab, agent.pid, ticks, interval, pub)
    lab.stop(agent)
    if pub is not None:
        pub.close()
    time.sleep(1)
    p50, p99, failed, done = poll_finish(lab, interval)
    res: dict[str, Any] = {
        "devices": switches, "interval_secs": interval, "ticks": ticks,
        "cpu_s_per_tick": [round(t.cpu_s, 2) for t in rows],
        "rss_mib_per_tick": [round(t.rss_mib, 1) for t in rows],
        "points_per_tick": [t.points for t in rows], "rss_mib_after_first_tick": round(rss0, 1),
        "poll_finish_p50_s": round(p50, 2), "poll_finish_p99_s": round(p99, 2),
        "failed_polls": failed, "switch_polls_per_tick": done}
    if peer:
        res.update(run_peer(lab, d, switches, ticks, interval))
    lab.stop(vm)
    return res


def run_peer(lab: Lab, d: Path, switches: int, ticks: int, interval: int
             ) -> dict[str, Any]:
    if shutil.which("prometheus-snmp-exporter") is None or not EXPORTER_CONFIG.exists():
        return {"peer": "prometheus-snmp-exporter missing"}
    targets = ", ".join(f"'{switch_ip(i)}'" for i in range(switches))
    scrape = d / "scrape.yml"
    scrape.write_text(f"""scrape_configs:
  - job_name: snmp
    scrape_interval: {interval}s
    scrape_timeout: {max(1, interval - 1)}s
    metrics_path: /snmp
    params: {{module: [if_mib]}}
    static_configs: [{{targets: [{targets}]}}]
    relabel_configs:
      - {{source_labels: [__address__], target_label: __param_target}}
      - {{source_labels: [__param_target], target_label: instance}}
      - {{target_label: __address__, replacement: '127.0.0.1:{EXP_PORT}'}}
""")
    exp = lab.exec(["prometheus-snmp-exporter", f"--config.file={EXPORTER_CONFIG}",
                    f"--web.listen-address=127.0.0.1:{EXP_PORT}"], 0, f"exporter{switches}")
    vma = lab.exec(["vmagent", f"-httpListenAddr=127.0.0.1:{VMA_PORT}",
                    f"-promscrape.config={scrape}",
                    f"-remoteWrite.url=http://127.0.0.1:{VM_PORT}/api/v1/write",
                    f"-remoteWrite.tmpDataPath={d}/vma"], 0, f"vmagent{switches}")
    wait_for(lab, f"http://127.0.0.1:{VMA_PORT}/health")
    time.sleep(interval * 1.5)
    e0, a0, r0 = cpu_of(exp.pid), cpu_of(vma.pid), vm_rows(lab)
    per_tick = []
    rss = 0.0
    for _ in range(ticks):
        time.sleep(interval)
        e1, a1 = cpu_of(exp.pid), cpu_of(vma.pid)
        per_tick.append((e1 - e0, a1 - a0))
        rss = max(rss, rss_mib(exp.pid) + rss_mib(vma.pid))
        e0, a0 = e1, a1
    points = vm_rows(lab) - r0
    lab.stop(vma)
    lab.stop(exp)
    return {"peer_exporter_cpu_s_per_tick": [round(e, 2) for e, _ in per_tick],
            "peer_vmagent_cpu_s_per_tick": [round(a, 2) for _, a in per_tick],
            "peer_samples_per_tick": points // max(1, ticks), "peer_rss_mib": round(rss, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--devices", default="50", help="switches; a comma list runs each size")
    ap.add_argument("--ticks", type=int, default=5)
    ap.add_argument("--interval", type=int, default=15, help="seconds per tick (60 = real)")
    ap.add_argument("--servers", type=int, default=50, help="ICMP/TCP probe targets")
    ap.add_argument("--sensors", type=int, default=250, help="IoT sensors over MQTT")
    ap.add_argument("--no-peer", action="store_true", help="skip snmp_exporter + vmagent")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("bench/campus_scale needs root (a network namespace)", file=sys.stderr)
        return 1
    # stopped (TERM, or INT even when started in the background, where INT is ignored):
    # unwind, so the namespace and every process in it go too
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop)
    sizes = [int(x) for x in a.devices.split(",")]
    results = []
    with tempfile.TemporaryDirectory(prefix="campusmon-scale-") as tmp, \
            namespace(Path(tmp)) as lab:
        os.chmod(tmp, 0o755)
        lab.exec(["/usr/sbin/snmpd", "-f", "-Lf", str(lab.work / "snmpd.log"), "-C", "-c",
                  str(_snmpd_conf(lab.work)), "udp:161"], 1, "snmpd-out")
        lab.exec(["mosquitto", "-p", str(MQTT_PORT)], 1, "mosquitto")
        lab.exec([sys.executable, "-c", _LISTENER], 1, "listener")
        time.sleep(1.0)
        for n in sizes:
            r = run_size(lab, n, a.ticks, a.interval, not a.no_peer, a.servers, a.sensors)
            results.append(r)
            print(json.dumps(r), flush=True)
    last = results[-1]
    cpu = last["cpu_s_per_tick"]
    assert isinstance(cpu, list)
    ours = statistics.median(cpu)
    peer_e = last.get("peer_exporter_cpu_s_per_tick")
    peer_a = last.get("peer_vmagent_cpu_s_per_tick")
    ratio = None
    if isinstance(peer_e, list) and isinstance(peer_a, list):
        peer = statistics.median(e + v for e, v in zip(peer_e, peer_a, strict=True))
        ratio = round(ours / peer, 2) if peer else None
    rss = last["rss_mib_per_tick"]
    assert isinstance(rss, list)
    for r in results:
        c = r["cpu_s_per_tick"]
        assert isinstance(c, list)
        print(f"{r['devices']:>5} switches: {statistics.median(c):.2f} CPU-s/tick "
              f"({statistics.median(c) / int(str(r['devices'])) * 1000:.1f} ms per switch), "
              f"RSS {max(r['rss_mib_per_tick']):.0f} MiB, "
              f"poll finish p50 {r['poll_finish_p50_s']} s p99 {r['poll_finish_p99_s']} s")
    print(json.dumps({"bench": "campus_scale", "devices": last["devices"],
                      "interval_secs": a.interval, "ticks": a.ticks,
                      "cycle_seconds": last["poll_finish_p99_s"],
                      "cpu_s_per_tick": round(ours, 3), "rss_mib": max(rss),
                      "peer": None if a.no_peer else "prometheus-snmp-exporter + vmagent",
                      "ratio": ratio}))
    return 0


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


_LISTENER = """
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 22)); s.listen(1024)
while True:
    c, _ = s.accept(); c.close()
"""


def _snmpd_conf(work: Path) -> Path:
    p = work / "snmpd.conf"
    # identify as a Huawei S5720 access switch (the vrp_5720 recording's sysObjectID and
    # sysDescr): as a Linux host, every "switch" would also get the server audit (process
    # and package tables), which no switch has
    p.write_text("rocommunity public default\ndontLogTCPWrappersConnects yes\n"
                 "sysObjectID .1.3.6.1.4.1.2011.2.23.291\n"
                 "sysDescr S5720-56C-PWR-EI-AC Huawei Versatile Routing Platform Software "
                 "VRP (R) software,Version 5.170 (S5720 V200R010C00SPC600)\n")
    return p


if __name__ == "__main__":
    sys.exit(main())
