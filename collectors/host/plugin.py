"""Host facts with psutil (fast calls only, never a blocking interval)."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path

import psutil
from pydantic import Field

from agent.core.model import Item, Metric, MetricKind
from agent.core.plugin import BuildContext, DefaultTargets, PluginKind, PluginSpec, Target
from collectors.host.identity import Identity, classify_cpu, classify_os
from collectors.host.measurements import MEASUREMENTS
from config.base import StrictModel

_SKIP_FS = frozenset({"squashfs", "tmpfs", "devtmpfs", "overlay", "proc", "sysfs", "nsfs"})


class HostConfig(StrictModel):
    disks: bool = True
    network: bool = True
    interfaces: list[str] = Field(default_factory=list)  # empty: all but loopback
    cpuinfo_path: str = "/proc/cpuinfo"
    os_release_path: str = "/etc/os-release"


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


class HostCollector:
    def __init__(self, cfg: HostConfig) -> None:
        self.cfg = cfg
        self._cpu: Identity | None = None
        self._os: Identity | None = None

    async def start(self) -> None:
        psutil.cpu_percent(interval=None)  # prime the counter: the next call has a baseline

    def _identity(self) -> tuple[Identity, Identity]:
        if self._cpu is None or self._os is None:
            machine = platform.machine()
            self._cpu = classify_cpu(_read(self.cfg.cpuinfo_path), machine)
            self._os = classify_os(_read(self.cfg.os_release_path), platform.release())
        return self._cpu, self._os

    async def poll(self, target: Target) -> Sequence[Item]:
        now = time.time_ns()
        out: list[Item] = []
        cpu_id, os_id = self._identity()
        out.append(Metric("host_identity", {
            "cpu_vendor": cpu_id.vendor, "cpu_model": cpu_id.model,
            "cpu_domestic": cpu_id.domestic, "cpu_rule": cpu_id.rule,
            "os_vendor": os_id.vendor, "os_name": os_id.model, "os_domestic": os_id.domestic,
            "os_rule": os_id.rule, "kernel": platform.release(), "arch": platform.machine(),
        }, {"info": 1}, now))
        load1, load5, load15 = os.getloadavg()
        out.append(Metric("host_cpu", {}, {
            "usage_percent": float(psutil.cpu_percent(interval=None)),
            "count": psutil.cpu_count() or 0, "load1": load1, "load5": load5, "load15": load15,
        }, now))
        vm = psutil.virtual_memory()
        out.append(Metric("host_memory", {}, {
            "total_bytes": vm.total, "available_bytes": vm.available, "used_bytes": vm.used,
            "used_percent": float(vm.percent)}, now))
        boot = psutil.boot_time()
        out.append(Metric("host_system", {}, {
            "uptime_seconds": time.time() - boot, "boot_time_seconds": boot}, now))
        if self.cfg.disks:
            for part in psutil.disk_partitions(all=False):
                if part.fstype in _SKIP_FS:
                    continue
                try:
                    du = psutil.disk_usage(part.mountpoint)
                except OSError:
                    continue
                out.append(Metric("host_disk", {"mountpoint": part.mountpoint,
                                                "fstype": part.fstype}, {
                    "total_bytes": du.total, "used_bytes": du.used, "free_bytes": du.free,
                    "used_percent": float(du.percent)}, now))
        if self.cfg.network:
            for nic, c in psutil.net_io_counters(pernic=True).items():
                if self.cfg.interfaces and nic not in self.cfg.interfaces:
                    continue
                if not self.cfg.interfaces and nic == "lo":
                    continue
                out.append(Metric("host_net", {"interface": nic}, {
                    "bytes_sent": c.bytes_sent, "bytes_recv": c.bytes_recv,
                    "packets_sent": c.packets_sent, "packets_recv": c.packets_recv,
                    "errin": c.errin, "errout": c.errout, "dropin": c.dropin,
                    "dropout": c.dropout}, now, MetricKind.COUNTER))
        return out

    async def close(self) -> None:
        return None


def build(cfg: HostConfig, ctx: BuildContext) -> HostCollector:
    return HostCollector(cfg)


SPEC = PluginSpec(
    name="host", kind=PluginKind.POLLER, config_model=HostConfig, build=build,
    description="CPU, memory, disks, network counters, uptime, CPU/OS identity (psutil)",
    example={"type": "host", "interval_secs": 10}, default_targets=DefaultTargets.SELF,
    measurements=MEASUREMENTS,
)
