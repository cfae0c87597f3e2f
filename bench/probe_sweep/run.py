"""ICMP sweep: campusmon's shared-socket pinger against fping, same addresses, same run.

Method (../shared/reference/baselines.md): our side (this process, and fping, its child) is
pinned to core 0; the target namespace's receive processing is steered to core 1 (RPS on its
veth). CPU is counted per side: `getrusage(RUSAGE_SELF)` around our sweeps, `os.wait4` (the
exact rusage of that one fping process) for fping, process start included as in the
baseline. Targets: 254 IPv4 + 254 IPv6 addresses on one veth in a namespace made here, with
ICMP rate limits off. Each tool does WARMUP unmeasured sweeps (neighbour caches), then
ROUNDS rounds of SWEEPS measured sweeps, the two tools alternating round by round so both see
the same background load (the machine is shared); each figure is the median over rounds of
the per-sweep average. "campusmon" is `Pinger.sweep` (one batch for all addresses); the
line "task per target" is the same pinger driven the way the dualstack poller drives it (one
asyncio task and one wait per target), printed for reference. Ends with one JSON line (the
IPv4 sweep). Bounded: about 30 s. Needs root.
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from probes.icmp import Pinger  # noqa: E402

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


async def sweep_campusmon(pinger: Pinger, addrs: list[str], sweeps: int
                          ) -> tuple[float, float, int]:
    got = 0
    c0, t0 = cpu_self(), time.perf_counter()
    for _ in range(sweeps):
        rtts = await pinger.sweep(addrs, timeout_s=TIMEOUT_S)
        got += sum(1 for r in rtts if r is not None)
    wall, cpu = time.perf_counter() - t0, cpu_self() - c0
    return cpu / sweeps, wall / sweeps, got // sweeps


async def per_target_campusmon(pinger: Pinger, addrs: list[str], sweeps: int
                               ) -> tuple[float, float, int]:
    """The dualstack poller's path: one task per target, each awaiting its own echo."""
    got = 0
    c0, t0 = cpu_self(), time.perf_counter()
    for _ in range(sweeps):
        stats = await asyncio.gather(*(pinger.ping(a, count=1, timeout_s=TIMEOUT_S)
                                       for a in addrs))
        got += sum(1 for st in stats if st.ok)
    wall, cpu = time.perf_counter() - t0, cpu_self() - c0
    return cpu / sweeps, wall / sweeps, got // sweeps


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


async def bench_family(addrs: list[str], family: str) -> tuple[Row, Row, Row]:
    pinger = Pinger()
    try:
        await sweep_campusmon(pinger, addrs, WARMUP)
        sweep_fping(addrs, family, WARMUP)
        ours: list[Row] = []
        tasks: list[Row] = []
        peer: list[Row] = []
        for _ in range(ROUNDS):
            ours.append(await sweep_campusmon(pinger, addrs, SWEEPS))
            peer.append(sweep_fping(addrs, family, SWEEPS))
            tasks.append(await per_target_campusmon(pinger, addrs, SWEEPS // 2))
    finally:
        pinger.close()
    return median_row(ours), median_row(peer), median_row(tasks)


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
            ours, peer, tasks = asyncio.run(
                bench_family(addrs, "-4" if fam == "ipv4" else "-6"))
            rows[fam] = (ours, peer)
            for name, (cpu, wall, got) in (("campusmon", ours), ("fping", peer),
                                           ("campusmon, task per target", tasks)):
                print(f"{fam} {name}: {len(addrs)} targets, {got} answered, "
                      f"{cpu * 1000:.2f} CPU-ms/sweep, {wall * 1000:.2f} ms/sweep, "
                      f"{len(addrs) / wall:,.0f} targets/s")
        (cpu4, _w, _g), (pcpu4, _pw, _pg) = rows["ipv4"]
        print(json.dumps({"bench": "probe_sweep", "unit": "cpu_seconds_per_sweep",
                          "campusmon": round(cpu4, 6), "peer": "fping",
                          "peer_value": round(pcpu4, 6), "ratio": round(cpu4 / pcpu4, 3)}))
        return 0
    finally:
        for ns in (client, targets):
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True, timeout=30)
        Path(f"/tmp/{targets}.batch").unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
