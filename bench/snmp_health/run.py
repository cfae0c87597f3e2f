"""Bench: the CPU cost of a poll with the health profiles, next to the interface-only poll.

Method: the simulated campus (collectors/snmp/sim: a Huawei router and core, access switches of
several vendors with their health tables, a UPS-MIB UPS) is served by snmpsim pinned to core 1;
our side runs on core 0 and polls every device over the v2c fast path in two modes on the same
sessions and data: (a) system + interfaces, (b) the same plus every YAML profile the device's
identity selects (`device_profiles: auto`: vendor boards, sensors, optics, PoE, UPS-MIB, STP,
HOST-RESOURCES), with the per-device memory the plugin keeps (steady state; the first poll,
which looks for every table, is reported beside it). CPU is `getrusage(RUSAGE_SELF)` of this
process only (snmpsim is a child and not counted); each mode runs ROUNDS rounds after a
warm-up, the median is reported with the varbinds each mode reads. Bounded in devices, rounds
and time. Ends with one JSON line.

Run from the repo root: .venv/bin/python bench/snmp_health/run.py
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from collectors.snmp.collect import DevicePoller, ProfileMemory  # noqa: E402
from collectors.snmp.profiles.load import ProfileSet, builtin_profiles  # noqa: E402
from collectors.snmp.records import Profile  # noqa: E402
from collectors.snmp.session import SnmpSession, VarBind  # noqa: E402
from collectors.snmp.sim import serve  # noqa: E402
from collectors.snmp.sim.plan import make_plan  # noqa: E402
from collectors.snmp.sim.write import write_plan  # noqa: E402

SWITCHES = 9  # core + 8 access switches (+ router, UPS)
ROUNDS = 3
DEADLINE_S = 100.0
BASE = (Profile.SYSTEM, Profile.INTERFACES)


class Counting:
    """Counts the varbinds a poll reads (the work done), passing everything through."""

    def __init__(self, inner: SnmpSession) -> None:
        self.inner = inner
        self.varbinds = 0

    async def get(self, oids: list[tuple[int, ...]]) -> list[VarBind]:
        out = await self.inner.get(oids)
        self.varbinds += len(out)
        return out

    async def walk(self, root: tuple[int, ...]) -> list[VarBind]:
        out = await self.inner.walk(root)
        self.varbinds += len(out)
        return out

    async def close(self) -> None:
        await self.inner.close()


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def _poll_all(sessions: list[Counting], profiles: ProfileSet | None,
                    memory: list[ProfileMemory] | None = None) -> tuple[float, int]:
    """One round: every device once, devices concurrently; (CPU-s, varbinds). `memory`: the
    per-device state the plugin keeps across polls (absent tables, answered evidence)."""
    for s in sessions:
        s.varbinds = 0
    c0 = _cpu()
    await asyncio.gather(*(DevicePoller(s, BASE, profiles, None,  # type: ignore[arg-type]
                                        memory[i] if memory else None).run()
                           for i, s in enumerate(sessions)))
    return _cpu() - c0, sum(s.varbinds for s in sessions)


async def _bench(hosts: list[tuple[str, str]], port: int) -> dict[str, list[tuple[float, int]]]:
    from pydantic import SecretStr

    from collectors.snmp.transport import TransportKind, TransportOptions, open_session
    from config.credentials import SnmpV2cCredential

    opts = TransportOptions(timeout_s=3.0, retries=1, max_repetitions=25,
                            transport=TransportKind.FAST)
    sessions = [Counting(await open_session(h, port, SnmpV2cCredential(
        name=c, type="snmp_v2c", community=SecretStr(c)), opts)) for h, c in hosts]
    health = builtin_profiles()
    memory = [ProfileMemory() for _ in sessions]
    out: dict[str, list[tuple[float, int]]] = {"interfaces": [], "health": [],
                                               "health_first_poll": []}
    deadline = time.monotonic() + DEADLINE_S
    try:
        await _poll_all(sessions, None)  # warm-up: sockets, code paths, profile load
        out["health_first_poll"].append(await _poll_all(sessions, health, memory))
        for _ in range(ROUNDS):
            if time.monotonic() > deadline:
                print("  deadline reached: fewer rounds", file=sys.stderr)
                break
            out["interfaces"].append(await _poll_all(sessions, None))
            out["health"].append(await _poll_all(sessions, health, memory))
    finally:
        for s in sessions:
            await s.close()
    return out


def main() -> int:
    cores = sorted(os.sched_getaffinity(0))
    work = Path(tempfile.mkdtemp(prefix="campusmon-bench-health-"))
    work.chmod(0o755)
    from tests.servers import free_port

    plan = make_plan(SWITCHES, 0, campus="bench", seed=11, port=free_port("127.0.0.1", kind=2),
                     ups=True)
    write_plan(plan, work / "campus")
    for p in (work / "campus").rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    server = serve(work / "campus")
    try:
        if len(cores) >= 2:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(server.pid, {cores[1]})
            os.sched_setaffinity(0, {cores[0]})
        hosts = [(d.ipv4, d.community) for d in plan.devices]
        res = asyncio.run(_bench(hosts, plan.port))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    n = len(hosts)
    med = {k: statistics.median(c for c, _ in v) / n * 1000 for k, v in res.items()}
    vbs = {k: statistics.median(v for _, v in rows) / n for k, rows in res.items()}
    per_10k = {k: med[k] / 1000 / vbs[k] * 10_000 for k in med}
    print(f"{n} devices (simulated campus, snmpsim on its own core), {len(res['health'])} "
          "rounds (medians), v2c fast path")
    print(f"  interface-only poll: {med['interfaces']:.2f} CPU-ms per device "
          f"({vbs['interfaces']:.0f} varbinds, {per_10k['interfaces']:.3f} CPU-s per 10k)")
    print(f"  with health profiles: {med['health']:.2f} CPU-ms per device "
          f"({vbs['health']:.0f} varbinds, {per_10k['health']:.3f} CPU-s per 10k); "
          f"first poll (every table looked for): {med['health_first_poll']:.2f} CPU-ms")
    print(json.dumps({"bench": "snmp_health", "unit": "cpu_ms_per_device_poll",
                      "campusmon": round(med["health"], 3), "peer": "interface-only poll",
                      "peer_value": round(med["interfaces"], 3),
                      "ratio": round(med["health"] / med["interfaces"], 2),
                      "first_poll_cpu_ms": round(med["health_first_poll"], 3),
                      "varbinds_per_device": {k: round(v) for k, v in vbs.items()},
                      "cpu_s_per_10k_varbinds": {k: round(v, 4) for k, v in per_10k.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
