"""ICMP sweep: the dualstack poller's tick (batched ICMP) against fping, same addresses, same run.

Method (../shared/reference/baselines.md): our side (this process, and fping, its child) is
pinned to core 0; the target namespace's receive processing is steered to core 1 (RPS on its
veth). CPU is counted per side: `getrusage(RUSAGE_SELF)` around our sweeps, `os.wait4` (the
exact rusage of that one fping process) for fping, process start included as in the
baseline. Targets: 254 IPv4 + 254 IPv6 addresses on one veth in a namespace made here, with
ICMP rate limits off. Each tool does WARMUP unmeasured sweeps (neighbour caches), then
ROUNDS rounds of SWEEPS measured sweeps, the two tools alternating round by round so both see
the same background load (the machine is shared); each figure is the median over rounds of
the per-sweep average. "campusmon" is the path the agent runs: one scheduler tick
(`PollerRunner.run_once`) of the `dualstack` poller over 254 static targets of one family,
ICMP only, one echo each (count 1, like fping's one echo), the TCP/DNS/HTTP probers off,
built as agent/framework/runtime.py builds it: the spec declares BATCH_POLLS, so the tick is
one `poll_many` over all targets (one task, one timeout) → `Engine.run_many` → one burst
(`Pinger.ping_many`) → a `ProbeResult` and a `PollOutcome` per target → the sink; the CPU
includes all of it. (The pipeline behind the sink is not timed here: fping's output is a
line per address, ours a `ProbeResult` per address.) Ends with one JSON line
(the IPv4 sweep; the IPv6 ratio is in it too). Bounded: about 30 s. Needs root.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from agent.core.model import Item, ProbeResult  # noqa: E402
from agent.core.plugin import Capability, Target  # noqa: E402
from agent.framework.scheduler import PollerRunner, PollerTiming, PollOutcome  # noqa: E402
from agent.framework.telemetry import PluginStats  # noqa: E402
from probes.dualstack.config import DualStackConfig  # noqa: E402
from probes.dualstack.plugin import SPEC, DualStackPoller  # noqa: E402

N = 254
SWEEPS = 20
ROUNDS = 7
WARMUP = 3
TIMEOUT_S = 1.0
CLONE_NEWNET = 0x40000000


def sh(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60).stdout


def setns(name: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")
    finally:
        os.close(fd)


def build(client: str, targets: str) -> tuple[list[str], list[str]]:
    for ns in (client, targets):
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "link", "add", "bc0", "netns", client, "type", "veth", "peer", "name", "bt0",
       "netns", targets)
    v4 = [f"10.99.50.{i}" for i in range(1, N + 1)]
    v6 = [f"fd00:99:50::{i:x}" for i in range(1, N + 1)]
    batch = [f"addr add {a}/23 dev bt0" for a in v4]
    batch += [f"addr add {a}/64 dev bt0 nodad" for a in v6]
    batch += ["link set bt0 up"]
    Path(f"/tmp/{targets}.batch").write_text("\n".join(batch) + "\n")
    sh("ip", "-n", targets, "-batch", f"/tmp/{targets}.batch")
    sh("ip", "-n", client, "addr", "add", "10.99.51.254/23", "dev", "bc0")
    sh("ip", "-n", client, "addr", "add", "fd00:99:50::ffff/64", "dev", "bc0", "nodad")
    sh("ip", "-n", client, "link", "set", "bc0", "up")
    for key, val in (("net.ipv4.icmp_ratelimit", "0"), ("net.ipv6.icmp.ratelimit", "0"),
                     ("net.ipv4.icmp_msgs_per_sec", "1000000"),
                     ("net.ipv4.icmp_msgs_burst", "1000000")):
        subprocess.run(["ip", "netns", "exec", targets, "sysctl", "-q", "-w", f"{key}={val}"],
                       capture_output=True, timeout=30)  # older kernels lack some keys
    for ns, dev in ((client, "bc0"), (targets, "bt0")):
        subprocess.run(["ip", "netns", "exec", ns, "sh", "-c",
                        f"echo {2 if ns == targets else 1} > "
                        f"/sys/class/net/{dev}/queues/rx-0/rps_cpus"],
                       capture_output=True, timeout=30)
    return v4, v6


def cpu_self() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def make_runner(addrs: list[str], family: str) -> tuple[PollerRunner, DualStackPoller,
                                                       list[ProbeResult]]:
    cfg = DualStackConfig.model_validate(
        {"family": family, "icmp": {"count": 1, "timeout_secs": TIMEOUT_S},
         "tcp": {"enabled": False}, "dns": {"enabled": False}, "http": {"enabled": False}})
    v4 = family == "ipv4"
    targets = [Target(id=f"t{i}", ipv4=a if v4 else None, ipv6=None if v4 else a)
               for i, a in enumerate(addrs)]
    got: list[ProbeResult] = []

    def sink(items: Sequence[Item], target: Target | None, outcome: PollOutcome | None) -> None:
        got.extend(i for i in items if isinstance(i, ProbeResult))
    poller = DualStackPoller(cfg)
    # as agent/framework/runtime.py builds it: batched as the spec declares, chunks of the
    # default concurrency (256: one chunk for 254 targets)
    runner = PollerRunner("dualstack", poller, targets, PollerTiming(60, 10, 0),
                          asyncio.Semaphore(256), asyncio.Semaphore(256), sink,
                          PluginStats("dualstack", "dualstack"),
                          batched=Capability.BATCH_POLLS in SPEC.capabilities, batch_size=256)
    return runner, poller, got


async def sweep_campusmon(runner: PollerRunner, got: list[ProbeResult], sweeps: int
                          ) -> tuple[float, float, int]:
    """`sweeps` scheduler ticks of the dualstack poller (the agent's path)."""
    answered = 0
    c0, t0 = cpu_self(), time.perf_counter()
    for _ in range(sweeps):
        got.clear()
        await runner.run_once()
        answered += sum(1 for r in got if r.ok)
    wall, cpu = time.perf_counter() - t0, cpu_self() - c0
    return cpu / sweeps, wall / sweeps, answered // sweeps


def sweep_fping(addrs: list[str], family: str, sweeps: int) -> tuple[float, float, int]:
    argv = ["fping", family, "-i", "0", "-r", "0", "-t", str(int(TIMEOUT_S * 1000)), "-a",
            *addrs]
    cpu = wall = 0.0
    alive = 0
    for _ in range(sweeps):
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        out = p.stdout.read() if p.stdout else b""
        _pid, _status, ru = os.wait4(p.pid, 0)  # the rusage of exactly this process
        p.returncode = 0  # reaped by wait4
        wall += time.perf_counter() - t0
        cpu += ru.ru_utime + ru.ru_stime
        alive += len(out.split())
    return cpu / sweeps, wall / sweeps, alive // sweeps


def median_row(rows: list[tuple[float, float, int]]) -> tuple[float, float, int]:
    return (statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows),
            min(r[2] for r in rows))


Row = tuple[float, float, int]


async def bench_family(addrs: list[str], family: str) -> tuple[Row, Row]:
    runner, poller, got = make_runner(addrs, family)
    flag = "-4" if family == "ipv4" else "-6"
    try:
        await sweep_campusmon(runner, got, WARMUP)
        sweep_fping(addrs, flag, WARMUP)
        ours: list[Row] = []
        peer: list[Row] = []
        for _ in range(ROUNDS):
            ours.append(await sweep_campusmon(runner, got, SWEEPS))
            peer.append(sweep_fping(addrs, flag, SWEEPS))
    finally:
        await poller.close()
    return median_row(ours), median_row(peer)


def main() -> int:
    if os.geteuid() != 0:
        print("probe_sweep: needs root (network namespaces)", file=sys.stderr)
        return 1
    tag = f"cmps{os.getpid()}"
    client, targets = f"{tag}c", f"{tag}t"
    try:
        v4, v6 = build(client, targets)
        os.sched_setaffinity(0, {0})  # our side (and fping, our child) on core 0
        setns(client)
        rows = {}
        for fam, addrs in (("ipv4", v4), ("ipv6", v6)):
            ours, peer = asyncio.run(bench_family(addrs, fam))
            rows[fam] = (ours, peer)
            for name, (cpu, wall, got) in (("campusmon (dualstack poller tick)", ours),
                                           ("fping", peer)):
                print(f"{fam} {name}: {len(addrs)} targets, {got} answered, "
                      f"{cpu * 1000:.2f} CPU-ms/sweep, {wall * 1000:.2f} ms/sweep, "
                      f"{len(addrs) / wall:,.0f} targets/s")
        (cpu4, _w, _g), (pcpu4, _pw, _pg) = rows["ipv4"]
        (cpu6, _w6, _g6), (pcpu6, _pw6, _pg6) = rows["ipv6"]
        print(json.dumps({"bench": "probe_sweep", "unit": "cpu_seconds_per_sweep",
                          "path": "dualstack poller tick (scheduler, engine, batched ICMP)",
                          "campusmon": round(cpu4, 6), "peer": "fping",
                          "peer_value": round(pcpu4, 6), "ratio": round(cpu4 / pcpu4, 3),
                          "ipv6_campusmon": round(cpu6, 6), "ipv6_peer_value": round(pcpu6, 6),
                          "ipv6_ratio": round(cpu6 / pcpu6, 3)}))
        return 0
    finally:
        for ns in (client, targets):
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True, timeout=30)
        Path(f"/tmp/{targets}.batch").unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
