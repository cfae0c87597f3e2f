"""The far side of the bench: net-snmp `snmpd` instances, one per network namespace.

Each namespace gets a veth pair to the host (10.203.K.0/30) and veth pairs inside, so its
snmpd serves an ifTable/ifXTable of a known size at C speed (snmpsim, at ~3,300 varbinds/s per
core, would limit every poller). Everything is torn down in `stop()`, also after errors.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "cmbench"


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


def _ns_batch(ns: str, commands: list[str]) -> None:
    """Many `ip` commands in one process (ip -batch): 200 interfaces in a fraction of a second."""
    subprocess.run(["ip", "-n", ns, "-batch", "-"], input="\n".join(commands).encode(),
                   check=True, capture_output=True)


@dataclass
class SnmpdAgent:
    ns: str
    address: str  # IPv4 inside the namespace
    proc: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.proc.pid


@dataclass
class FarSide:
    workdir: Path
    agents: list[SnmpdAgent] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)

    def start(self, count: int, interfaces: int, cpu: int | None = 1) -> FarSide:
        snmpd = shutil.which("snmpd") or "/usr/sbin/snmpd"
        self.workdir.mkdir(parents=True, exist_ok=True)
        for k in range(count):
            ns = f"{PREFIX}{k}"
            with contextlib.suppress(subprocess.CalledProcessError):
                _run("ip", "netns", "del", ns)  # left over from an interrupted run
            _run("ip", "netns", "add", ns)
            self.namespaces.append(ns)
            host_if, ns_if = f"{PREFIX}h{k}", f"{PREFIX}n{k}"
            with contextlib.suppress(subprocess.CalledProcessError):
                _run("ip", "link", "del", host_if)
            _run("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if,
                 "netns", ns)
            _run("ip", "addr", "add", f"10.203.{k}.1/30", "dev", host_if)
            _run("ip", "link", "set", host_if, "up")
            cmds = [f"addr add 10.203.{k}.2/30 dev {ns_if}", f"link set {ns_if} up",
                    "link set lo up"]
            # veth pairs inside the namespace make up the rest (containers often lack the
            # `dummy` module): lo + uplink + 2 per pair
            for i in range((max(0, interfaces - 2) + 1) // 2):
                cmds.append(f"link add a{i} type veth peer name b{i}")
                cmds.append(f"link set a{i} up")
                cmds.append(f"link set b{i} up")
            _ns_batch(ns, cmds)
            conf = self.workdir / f"snmpd{k}.conf"
            # identify as a Huawei S5720 access switch (the vrp_5720 recording's sysObjectID
            # and sysDescr), like bench/campus_scale: as a Linux host the plugin would also run
            # the server audit (process and package tables), work the IF-MIB peers never do
            conf.write_text("rocommunity public default\n"
                            "dontLogTCPWrappersConnects yes\n"
                            "sysObjectID .1.3.6.1.4.1.2011.2.23.291\n"
                            "sysDescr S5720-56C-PWR-EI-AC Huawei Versatile Routing Platform "
                            "Software VRP (R) software,Version 5.170 (S5720 V200R010C00SPC600)\n")
            argv = ["ip", "netns", "exec", ns, snmpd, "-f", "-Lf",
                    str(self.workdir / f"snmpd{k}.log"), "-C", "-c", str(conf),
                    "-p", str(self.workdir / f"snmpd{k}.pid"), f"udp:10.203.{k}.2:161"]
            if cpu is not None:
                argv = ["taskset", "-c", str(cpu), *argv]
            proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.agents.append(SnmpdAgent(ns, f"10.203.{k}.2", proc))
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        for a in self.agents:
            while True:
                r = subprocess.run(["snmpget", "-v2c", "-c", "public", "-t", "0.5", "-r", "0",
                                    a.address, "1.3.6.1.2.1.1.3.0"], capture_output=True)
                if r.returncode == 0:
                    break
                if time.monotonic() > deadline or a.proc.poll() is not None:
                    raise RuntimeError(f"snmpd in {a.ns} did not answer")
                time.sleep(0.2)

    def stop(self) -> None:
        for a in self.agents:
            if a.proc.poll() is None:
                a.proc.terminate()
                try:
                    a.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    a.proc.kill()
                    a.proc.wait()
        self.agents.clear()
        for k, ns in enumerate(self.namespaces):
            with contextlib.suppress(subprocess.CalledProcessError):
                _run("ip", "netns", "del", ns)
            with contextlib.suppress(subprocess.CalledProcessError):
                _run("ip", "link", "del", f"{PREFIX}h{k}")
        self.namespaces.clear()
