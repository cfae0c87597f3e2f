"""A small simulated campus (collectors/snmp/sim) served by snmpsim for the first-run tests,
and `campusmon init --non-interactive` against it."""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from collectors.snmp.sim import SimCampus, SimServer, generate, serve
from tests.collectors.snmp.simhelpers import world_readable_dir
from tests.servers import REPO, free_port, snmpsim_binary


@dataclass
class Served:
    campus: SimCampus
    server: SimServer
    truth: dict[str, str]  # device id -> address
    subnet: str
    port: int


@dataclass
class Workdir:
    path: Path


def served_campus(prefix: str) -> Iterator[Served]:
    snmpsim_binary()  # skip (or fail in CI) when the simulator venv is missing
    work = world_readable_dir(prefix)
    campus = generate(work / "campus", switches=2, aps=2, campus="t-init", seed=3,
                      port=free_port("127.0.0.1", kind=2))
    server = serve(campus.out_dir)
    devices = json.loads(campus.truth.read_text())["devices"]
    truth = {k: v["address"] for k, v in devices.items()}
    first = sorted(truth.values())[0]
    try:
        yield Served(campus, server, truth, first.rsplit(".", 1)[0] + ".0/24",
                     int(json.loads(campus.truth.read_text())["port"]))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def init_argv(s: Served, secrets_in: Path, out: Path, *extra: str) -> list[str]:
    """The sim's devices each answer their own community (= device id): one credential set
    per device, the secrets in files (never on the command line). snmpsim answers every
    community on every address it serves (unlike a real campus), so the sets are given in
    the devices' address order, which is how init places answers seen at several addresses."""
    secrets_in.mkdir(parents=True, exist_ok=True)
    argv = ["init", "--non-interactive", "--name", "Init Test College", "--code", "t-init",
            "--province", "Hunan", "--students", "5000", "--staff", "300",
            "--subnet", s.subnet, "--snmp-port", str(s.port), "--sweep-timeout", "1",
            "--dir", str(out), *extra]
    for i, dev in enumerate(sorted(s.truth, key=lambda d: ipaddress.IPv4Address(s.truth[d]))):
        f = secrets_in / f"{dev}.community"
        f.write_text(dev + "\n")
        f.chmod(0o600)
        argv += ["--snmp-community", f"set{i}={f}"]
    return argv


def run_cli(*args: str, timeout: float = 120, exe: list[str] | None = None,
            cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    cmd = exe or [sys.executable, "-m", "agent.app.entry"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout)
