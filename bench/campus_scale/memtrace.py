"""Where a campus agent's memory goes and what grows across ticks (tracemalloc, in-process).

The same lab as run.py (one namespace, one snmpd answering every 127.1.x.y "switch",
mosquitto, VictoriaMetrics, the same agent.yaml), but the agent runs inside this script's
child under tracemalloc (one frame per allocation), so the figures are Python objects, not
RSS. Per tick: traced memory now and its peak during the tick, RSS; at tick `--early` and at
the last tick a snapshot, and the allocation sites that grew most between them.

    bench/campus_scale/memtrace.py --devices 250 --ticks 20 --interval 15

Informational (not part of `make bench`): tracemalloc slows the agent ~2-3x. Needs root.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _top(snap: tracemalloc.Snapshot, n: int) -> list[dict[str, object]]:
    return [{"site": str(s.traceback[0]), "mib": round(s.size / 2**20, 2), "count": s.count}
            for s in snap.statistics("lineno")[:n]]


def _by_file(snap: tracemalloc.Snapshot, n: int) -> list[dict[str, object]]:
    return [{"file": str(s.traceback[0].filename).split("/work/main/")[-1],
             "mib": round(s.size / 2**20, 2)} for s in snap.statistics("filename")[:n]]


async def _child(cfg: Path, ticks: int, interval: float, early: int) -> None:
    from agent.app.builtins import builtin_registry
    from agent.framework.runtime import Agent
    from config.loader import load_config

    tracemalloc.start(1)
    agent = Agent(load_config(cfg, builtin_registry()), builtin_registry())
    runner = asyncio.create_task(agent.run())
    first: tracemalloc.Snapshot | None = None
    t0 = time.monotonic()
    try:
        for tick in range(1, ticks + 1):
            if runner.done():  # stopped (SIGTERM) or failed: nothing more to trace
                break
            tracemalloc.reset_peak()
            await asyncio.sleep(max(0.0, t0 + tick * interval - time.monotonic()))
            now, peak = tracemalloc.get_traced_memory()
            print(json.dumps({"tick": tick, "traced_mib": round(now / 2**20, 1),
                              "traced_peak_mib": round(peak / 2**20, 1),
                              "rss_mib": round(_rss_mib(), 1),
                              "snapshot_series": len(agent.snapshot)}), flush=True)
            if tick == early:
                first = tracemalloc.take_snapshot()
        last = tracemalloc.take_snapshot()
        print(json.dumps({"alive_by_file": _by_file(last, 15), "alive_by_line": _top(last, 15)}),
              flush=True)
        if first is not None:
            grew = [{"site": str(s.traceback[0]), "grew_kib": round(s.size_diff / 1024, 1),
                     "count_diff": s.count_diff}
                    for s in last.compare_to(first, "lineno")[:20]]
            print(json.dumps({"grew_between": [early, ticks], "top": grew}), flush=True)
    finally:
        agent.request_stop()
        await asyncio.wait_for(runner, 60)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--devices", type=int, default=250)
    ap.add_argument("--ticks", type=int, default=20)
    ap.add_argument("--early", type=int, default=5)
    ap.add_argument("--interval", type=int, default=15)
    ap.add_argument("--servers", type=int, default=50)
    ap.add_argument("--sensors", type=int, default=250)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        asyncio.run(_child(Path(a.child), a.ticks, a.interval, a.early))
        return 0
    import importlib.util  # run.py is a script beside this one, not a package module

    spec = importlib.util.spec_from_file_location("campus_run", Path(__file__).with_name("run.py"))
    assert spec is not None and spec.loader is not None
    lab_mod = importlib.util.module_from_spec(spec)
    sys.modules["campus_run"] = lab_mod  # its dataclasses look their module up
    spec.loader.exec_module(lab_mod)
    for sig in (signal.SIGTERM, signal.SIGINT):  # unwind: the namespace goes too
        signal.signal(sig, lab_mod._stop)
    if os.geteuid() != 0:
        print("needs root (a network namespace)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="campusmon-memtrace-") as tmp, \
            lab_mod.namespace(Path(tmp)) as lab:
        os.chmod(tmp, 0o755)
        lab.exec(["/usr/sbin/snmpd", "-f", "-Lf", str(lab.work / "snmpd.log"), "-C", "-c",
                  str(lab_mod._snmpd_conf(lab.work)), "udp:161"], 1, "snmpd-out")
        lab.exec(["mosquitto", "-p", str(lab_mod.MQTT_PORT)], 1, "mosquitto")
        lab.exec([sys.executable, "-c", lab_mod._LISTENER], 1, "listener")
        d = lab.work / "n"
        d.mkdir()
        cfg = lab_mod.write_campus(d, a.devices, a.servers, a.sensors, a.interval)
        lab.exec(["victoria-metrics", f"-httpListenAddr=127.0.0.1:{lab_mod.VM_PORT}",
                  f"-storageDataPath={d}/vm", "-retentionPeriod=1"], 1, "vm")
        lab_mod.wait_for(lab, f"http://127.0.0.1:{lab_mod.VM_PORT}/health")
        # not pinned: tracemalloc slows the agent ~3x, on a shared core its polls time out
        child = subprocess.Popen(
            ["ip", "netns", "exec", lab.ns, sys.executable, str(Path(__file__).resolve()),
             "--child", str(cfg), "--ticks", str(a.ticks), "--early", str(a.early),
             "--interval", str(a.interval)],
            stdout=(lab.work / "memtrace.log").open("wb"), stderr=subprocess.STDOUT,
            cwd=lab.work)
        lab.procs.append(child)
        child.wait(timeout=a.ticks * a.interval + 300)
        print((lab.work / "memtrace.log").read_text(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
