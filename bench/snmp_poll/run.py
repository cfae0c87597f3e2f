"""Bench: CPU per SNMP varbind, end to end, campusmon's snmp plugin against snmp_exporter.

What each line times: "campusmon" = the `snmp` plugin's poll as the agent runs it (profiles
system + interfaces, fast v2c transport, counters → rates, `to_metrics`) followed by line
protocol for every metric (`render_many`, what the outputs send). Like the agent, the plugin
walks its IF-MIB columns side by side, several per GETBULK (`walk_many`: 8 columns x
max-repetitions 25 asked, net-snmp answers at most 100 varbinds a reply); the far side
identifies as a Huawei S5720 switch, so no server audit runs (the peers read IF-MIB only);
"walk only" = the same
transport walking the two subtrees and decoding varbinds, nothing more (for information);
prometheus-snmp-exporter = walk → sample mapping → rendered /metrics (scraped over HTTP);
snmpbulkwalk = one process per walk printing numeric OIDs. Varbinds per poll of the plugin are
counted in one unmeasured poll (the far side's data is static).

Method (../shared/reference/baselines.md): the far side is net-snmp `snmpd`, one per network
namespace with ~201 interfaces (ifTable + ifXTable ≈ 8,000 varbinds per device), pinned to
core 1; every poller runs on core 0 and walks the same two subtrees (1.3.6.1.2.1.2 and
1.3.6.1.2.1.31.1.1, max-repetitions 25) of the same devices in the same run. CPU is counted
per side: `getrusage` for our process (and for `snmpbulkwalk` children), `/proc/PID/stat`
utime+stime for the exporter daemon. The median of REPEATS runs is reported; everything is
bounded in rounds and time. Needs root (namespaces). Ends with one JSON line.

Run from the repo root: .venv/bin/python bench/snmp_poll/run.py
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.snmp_poll.farside import FarSide  # noqa: E402
from collectors.snmp.bounds import BoundedSession  # noqa: E402
from collectors.snmp.fast import FastOptions, FastSession  # noqa: E402
from collectors.snmp.session import Oid, SnmpSession, VarBind, oid_from_str  # noqa: E402
from collectors.snmp.walker import ColumnResult  # noqa: E402

AGENTS = 4
INTERFACES = 201
ROOTS = ("1.3.6.1.2.1.2", "1.3.6.1.2.1.31.1.1")
MAX_REPETITIONS = 25
REPEATS = 3
ROUNDS = {"campusmon": 3, "walk": 3, "pysnmp": 1, "snmpbulkwalk": 3, "exporter": 3}
PYSNMP_HOSTS = 2  # pysnmp is ~10x slower: a reference figure from a smaller sample, run once
DEADLINE_S = 180.0  # the whole bench; a runaway peer cannot hold it longer (a loaded box: ~150)
EXPORTER_CONFIG = REPO.parent / "shared" / "reference" / "peers" / "snmp_exporter_if_mib.yml"
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    varbinds: int
    cpu_s: float
    wall_s: float

    @property
    def per_10k(self) -> float:
        return self.cpu_s / self.varbinds * 10_000 if self.varbinds else float("nan")

    @property
    def rate(self) -> float:
        return self.varbinds / self.wall_s if self.wall_s else float("nan")


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _proc_cpu(pid: int) -> float:
    """utime + stime of a running process (fields 14 and 15 of /proc/PID/stat)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


# -- campusmon ----------------------------------------------------------------------------------

async def _round(sessions: Sequence[SnmpSession]) -> int:
    """Every device walks both subtrees, one request in flight each; devices concurrently."""
    async def one(s: SnmpSession) -> int:
        n = 0
        for root in ROOTS:
            n += len(await s.walk(oid_from_str(root)))
        return n
    return sum(await asyncio.gather(*(one(s) for s in sessions)))


async def _measure(sessions: Sequence[SnmpSession], rounds: int) -> Run:
    try:
        await _round(sessions)  # warm-up: sockets, address parsing, code paths
        c0, t0, n = _self_cpu(), time.perf_counter(), 0
        for _ in range(rounds):
            n += await _round(sessions)
        return Run(n, _self_cpu() - c0, time.perf_counter() - t0)
    finally:
        for s in sessions:
            await s.close()


def measure_fast(hosts: list[str], rounds: int) -> Run:
    opts = FastOptions(timeout_s=2.0, retries=1, max_repetitions=MAX_REPETITIONS)

    async def go() -> Run:
        return await _measure([FastSession(h, "public", opts) for h in hosts], rounds)
    return asyncio.run(go())


class _Counting:
    """Counts the varbinds a session returns: used for one poll only, to learn how many
    varbinds a plugin poll fetches (snmpd's data is static); never while CPU is measured."""

    def __init__(self, inner: SnmpSession) -> None:
        self.inner, self.varbinds = inner, 0

    async def get(self, oids: Sequence[Oid]) -> list[VarBind]:
        out = await self.inner.get(oids)
        self.varbinds += len(out)
        return out

    async def walk(self, root: Oid) -> list[VarBind]:
        out = await self.inner.walk(root)
        self.varbinds += len(out)
        return out

    async def walk_many(self, roots: Sequence[Oid]) -> list[ColumnResult]:
        out: list[ColumnResult] = await self.inner.walk_many(roots)  # type: ignore[attr-defined]
        self.varbinds += sum(len(vbs) for vbs, _ in out)
        return out

    async def close(self) -> None:
        await self.inner.close()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def measure_plugin(hosts: list[str], rounds: int, render: bool) -> Run:
    """What ships: the `snmp` plugin's poll (profiles system + interfaces, fast v2c transport,
    rate trackers, `to_metrics`) for every device concurrently, then line protocol for every
    metric (`render_many`, what the outputs write) when `render`. The pipeline's place tags
    and catalogue check are not included (they are the same for every source)."""
    from pydantic import SecretStr

    from agent.core.lineprotocol import render_many
    from agent.core.model import Metric
    from agent.core.plugin import BuildContext, Target
    from collectors.snmp.plugin import SnmpConfig, build
    from config.credentials import SnmpV2cCredential
    from inventory.models import Inventory

    cred = SnmpV2cCredential(name="bench", type="snmp_v2c", community=SecretStr("public"))
    tmp = Path(tempfile.gettempdir())
    ctx = BuildContext(instance="snmp/bench", inventory=Inventory.empty(),
                       credentials={"bench": cred}, data_dir=tmp, config_dir=tmp)
    poller = build(SnmpConfig.model_validate(
        {"credential": "bench", "transport": "fast", "profiles": ["system", "interfaces"],
         "device_profiles": [], "max_repetitions": MAX_REPETITIONS}), ctx)
    targets = [Target(id=f"sw{i}", ipv4=h) for i, h in enumerate(hosts)]

    async def round_() -> int:
        polls = await asyncio.gather(*(poller.poll(t) for t in targets))
        lines = 0
        if render:
            for items in polls:
                lines += len(render_many(m for m in items if isinstance(m, Metric)))
        return lines

    async def go() -> Run:
        try:
            await round_()  # warm-up: sessions, rate baselines (the second poll has rates)
            devices = list(poller._devices.values())
            counters = []
            for dev in devices:
                bounded = dev.session
                assert isinstance(bounded, BoundedSession)
                counter = _Counting(bounded.inner)
                bounded.inner = counter
                counters.append((bounded, counter))
            await round_()
            per_round = sum(c.varbinds for _, c in counters)
            for bounded, counter in counters:
                bounded.inner = counter.inner
            c0, t0 = _self_cpu(), time.perf_counter()
            for _ in range(rounds):
                await round_()
            return Run(per_round * rounds, _self_cpu() - c0, time.perf_counter() - t0)
        finally:
            await poller.close()
    return asyncio.run(go())


def measure_pysnmp(hosts: list[str], rounds: int) -> Run:
    """The pysnmp transport behind the same collector interface (for reference)."""
    from pydantic import SecretStr

    from collectors.snmp.transport import TransportKind, TransportOptions, open_session
    from config.credentials import SnmpV2cCredential

    cred = SnmpV2cCredential(name="bench", type="snmp_v2c", community=SecretStr("public"))
    opts = TransportOptions(timeout_s=2.0, retries=1, max_repetitions=MAX_REPETITIONS,
                            transport=TransportKind.PYSNMP)

    async def go() -> Run:
        return await _measure([await open_session(h, 161, cred, opts) for h in hosts], rounds)
    return asyncio.run(go())


# -- net-snmp snmpbulkwalk ------------------------------------------------------------------------

def measure_bulkwalk(hosts: list[str], rounds: int) -> Run:
    binary = shutil.which("snmpbulkwalk") or "snmpbulkwalk"
    c0, t0, n = _children_cpu(), time.perf_counter(), 0
    for _ in range(rounds):
        procs = [subprocess.Popen([binary, "-v2c", "-c", "public", f"-Cr{MAX_REPETITIONS}",
                                   "-On", "-t", "2", "-r", "1", h, root],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                 for h in hosts for root in ROOTS]
        for p in procs:
            out, _ = p.communicate(timeout=60)
            n += sum(1 for line in out.splitlines() if line.startswith(b"."))
    return Run(n, _children_cpu() - c0, time.perf_counter() - t0)


# -- prometheus-snmp-exporter --------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def exporter(workdir: Path) -> Iterator[tuple[subprocess.Popen[bytes], int] | None]:
    binary = shutil.which("prometheus-snmp-exporter")
    if binary is None or not EXPORTER_CONFIG.exists():
        yield None
        return
    port = _free_port()
    log = (workdir / "exporter.log").open("wb")
    proc = subprocess.Popen([binary, f"--config.file={EXPORTER_CONFIG}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port),
                                                                         timeout=0.5):
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("prometheus-snmp-exporter did not start")
            time.sleep(0.1)
        yield (proc, port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def measure_exporter(hosts: list[str], rounds: int, per_host_varbinds: dict[str, int],
                     proc: subprocess.Popen[bytes], port: int) -> Run:
    def scrape(host: str, sink: list[int]) -> None:
        url = f"http://127.0.0.1:{port}/snmp?target={host}&module=if_mib"
        with urllib.request.urlopen(url, timeout=60) as r:
            body = r.read()
        if b"snmp_scrape_pdus_returned" not in body and b"ifHCInOctets" not in body:
            raise RuntimeError(f"unexpected scrape of {host}: {body[:200]!r}")
        sink.append(per_host_varbinds[host] + 1)  # + the sysUpTime GET

    def round_() -> int:
        got: list[int] = []
        threads = [threading.Thread(target=scrape, args=(h, got)) for h in hosts]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        if len(got) != len(hosts):
            raise RuntimeError("an exporter scrape failed")
        return sum(got)

    round_()  # warm-up
    c0, t0, n = _proc_cpu(proc.pid), time.perf_counter(), 0
    for _ in range(rounds):
        n += round_()
    return Run(n, _proc_cpu(proc.pid) - c0, time.perf_counter() - t0)


# ------------------------------------------------------------------------------------------------

def _median(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda r: r.per_10k)[len(runs) // 2]


def _bounded(name: str, fn: Callable[[], Run], deadline: float) -> Run | None:
    if time.monotonic() > deadline:
        print(f"  {name}: skipped (bench deadline reached)", flush=True)
        return None
    return fn()


def main() -> int:
    if os.geteuid() != 0:
        print("bench/snmp_poll needs root (network namespaces for the snmpd far side)",
              file=sys.stderr)
        return 1
    if (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {0})  # our side on core 0; snmpd on core 1
    deadline = time.monotonic() + DEADLINE_S
    # SIGTERM unwinds through the finally blocks, so namespaces and daemons are removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="campusmon-bench-snmp-") as tmp:
        work = Path(tmp)
        far = FarSide(work / "far")
        try:
            far.start(AGENTS, INTERFACES, cpu=1 if (os.cpu_count() or 1) >= 2 else None)
            hosts = [a.address for a in far.agents]
            # per-host varbinds, as our walk sees them (for the exporter's count)
            async def counts() -> dict[str, int]:
                out = {}
                for h in hosts:
                    s = FastSession(h, "public", FastOptions(max_repetitions=MAX_REPETITIONS))
                    out[h] = sum([len(await s.walk(oid_from_str(r))) for r in ROOTS])
                    await s.close()
                return out
            per_host = asyncio.run(counts())
            print(f"far side: {AGENTS} snmpd (net-snmp) in namespaces, pinned to core 1; "
                  f"{per_host[hosts[0]]} varbinds per device (ifTable + ifXTable, "
                  f"{(per_host[hosts[0]] - 1) // 40} interfaces: 22 + 18 columns + ifNumber); "
                  f"pollers on core 0; median of {REPEATS} runs",
                  flush=True)
            far_cpu0 = sum(_proc_cpu(a.pid) for a in far.agents)
            results: dict[str, list[Run]] = {k: [] for k in ROUNDS}
            with exporter(work) as exp:
                for repeat in range(REPEATS):
                    for name, fn in (
                        ("campusmon", lambda: measure_plugin(hosts, ROUNDS["campusmon"],
                                                             render=True)),
                        ("walk", lambda: measure_fast(hosts, ROUNDS["walk"])),
                        ("pysnmp", lambda first=repeat == 0: measure_pysnmp(
                            hosts[:PYSNMP_HOSTS], ROUNDS["pysnmp"]) if first
                         else Run(0, 0.0, 0.0)),
                        ("snmpbulkwalk", lambda: measure_bulkwalk(hosts,
                                                                  ROUNDS["snmpbulkwalk"])),
                        ("exporter", lambda: measure_exporter(
                            hosts, ROUNDS["exporter"], per_host, exp[0], exp[1])
                         if exp else Run(0, 0.0, 0.0)),
                    ):
                        run = _bounded(name, fn, deadline)
                        if run is not None and run.varbinds:
                            results[name].append(run)
            far_cpu = sum(_proc_cpu(a.pid) for a in far.agents) - far_cpu0
        finally:
            far.stop()

    labels = {"campusmon": "campusmon snmp plugin → line protocol",
              "walk": "campusmon walk only (information)",
              "pysnmp": "campusmon pysnmp path (reference)",
              "snmpbulkwalk": "net-snmp snmpbulkwalk",
              "exporter": "prometheus-snmp-exporter 0.21"}
    med = {k: _median(v) for k, v in results.items() if v}
    for k, r in med.items():
        print(f"  {labels[k]:36} {r.rate:10,.0f} varbinds/s  {r.per_10k:.4f} CPU-s per 10k "
              f"varbinds  ({r.varbinds:,} varbinds, {r.cpu_s:.3f} CPU-s, {r.wall_s:.2f} s)",
              flush=True)
    total_vb = sum(r.varbinds for v in results.values() for r in v)
    if total_vb:
        print(f"  far side (all snmpd): {far_cpu / total_vb * 10_000:.4f} CPU-s per 10k varbinds")
    ours = med.get("campusmon")
    peer = med.get("exporter")
    if ours and peer:
        print(f"  ratios: campusmon/exporter {ours.per_10k / peer.per_10k:.2f}, "
              f"campusmon/snmpbulkwalk "
              f"{ours.per_10k / med['snmpbulkwalk'].per_10k:.2f}" if "snmpbulkwalk" in med
              else "", flush=True)
        if "pysnmp" in med:
            print(f"  pysnmp/campusmon fast path: {med['pysnmp'].per_10k / ours.per_10k:.1f}x")
    x = round(ours.per_10k, 4) if ours else None
    y = round(peer.per_10k, 4) if peer else None
    walk = med.get("walk")
    print(json.dumps({"bench": "snmp_poll", "unit": "cpu_seconds_per_10k_varbinds",
                      "path": "snmp plugin poll -> metrics -> line protocol",
                      "walk_only": round(walk.per_10k, 4) if walk else None,
                      "campusmon": x, "peer": "prometheus-snmp-exporter", "peer_value": y,
                      "ratio": round(x / y, 3) if x and y else None}))
    return 0 if x and y else 1


if __name__ == "__main__":
    sys.exit(main())
