"""Serve a generated campus with snmpsim on loopback: one UDP endpoint per device address.

snmpsim runs from its own venv (`.venv-sim`, on Debian's Python): as root it insists on
dropping privileges to nobody, who cannot read a Python installed under /root. For the same
reason a campus generated below a private directory is served from a world-readable copy.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from collectors.snmp.fast.ber import GET, BerError, RequestEncoder, decode_response
from collectors.snmp.sim.write import DATA, TRUTH

REPO = Path(__file__).resolve().parents[3]
SYS_UPTIME = (1, 3, 6, 1, 2, 1, 1, 3, 0)


class SimError(RuntimeError):
    """The simulator could not start (missing snmpsim, unreadable data, no answer)."""


def snmpsim_binary() -> str:
    env = os.environ.get("CAMPUSMON_SNMPSIM")
    candidates = [env] if env else []
    # a checkout's .venv-sim (make setup); an installed `campusmon[sim]` has it beside the
    # interpreter running us, whether or not that venv's bin/ is on PATH
    candidates += [str(REPO / ".venv-sim" / "bin" / "snmpsim-command-responder"),
                   str(Path(sys.executable).parent / "snmpsim-command-responder"),
                   shutil.which("snmpsim-command-responder") or ""]
    for c in candidates:
        if c and Path(c).exists():
            return c
    raise SimError("snmpsim-command-responder not found (pip install 'campusmon[sim]'; "
                   "in a checkout make setup creates .venv-sim)")


def _readable_by_others(path: Path) -> bool:
    """As root snmpsim reads the data as nobody: every parent must be searchable by others."""
    if os.geteuid() != 0:
        return True
    return all(p.stat().st_mode & stat.S_IXOTH for p in [path, *path.parents])


@dataclass
class Endpoint:
    device: str
    host: str
    port: int
    community: str


@dataclass
class SimServer:
    """A running snmpsim; `stop()` (or leaving the `with` block) ends it."""

    proc: subprocess.Popen[bytes]
    endpoints: list[Endpoint]
    log_path: Path
    ipv6: bool = False
    scratch: Path | None = None  # a world-readable copy of the data, removed on stop()
    _stopped: bool = field(default=False, repr=False)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def endpoint(self, device: str) -> Endpoint:
        return next(e for e in self.endpoints if e.device == device)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def __enter__(self) -> SimServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def probe(host: str, port: int, community: str, timeout_s: float = 0.5) -> int | None:
    """sysUpTime of one simulated device, or None when it does not answer."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    payload = RequestEncoder(community.encode()).encode(GET, 1, [SYS_UPTIME])
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout_s)
        try:
            s.sendto(payload, (host, port))
            data = s.recv(65535)
            vbs = decode_response(data, community.encode()).varbinds
        except (OSError, BerError):
            return None
    return vbs[0].value if vbs and isinstance(vbs[0].value, int) else None


def _load_devices(out_dir: Path) -> tuple[list[tuple[str, str]], int]:
    truth = json.loads((out_dir / TRUTH).read_text(encoding="utf-8"))
    devices = [(dev_id, d["address"]) for dev_id, d in truth["devices"].items()]
    return devices, int(truth["port"])


def serve(out_dir: Path, port: int | None = None, ipv6: bool = False,
          log_path: Path | None = None, timeout_s: float = 60.0) -> SimServer:
    """Start snmpsim over `out_dir` (as written by `generate`) and wait until it answers."""
    out_dir = out_dir.resolve()
    data = out_dir / DATA
    if not data.is_dir():
        raise SimError(f"{data} does not exist: run `campusmon sim-campus generate` first")
    devices, planned_port = _load_devices(out_dir)
    port = port or planned_port
    # snmpsim (as nobody) needs its data and cache where nobody can reach them; when out_dir
    # sits below a private directory (/root/...), serve a world-readable copy instead.
    scratch: Path | None = None
    work = out_dir
    if not _readable_by_others(out_dir):
        scratch = Path(tempfile.mkdtemp(prefix="campusmon-simcampus-"))
        scratch.chmod(0o755)
        shutil.copytree(data, scratch / DATA)
        for p in [scratch / DATA, *(scratch / DATA).iterdir()]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        work, data = scratch, scratch / DATA
    cache = work / "cache"
    cache.mkdir(exist_ok=True)
    # per-request logging at info level costs snmpsim more CPU than answering
    argv = [snmpsim_binary(), f"--data-dir={data}", f"--cache-dir={cache}", "--log-level=error"]
    if os.geteuid() == 0:
        cache.chmod(0o777)
        argv += ["--process-user=nobody", "--process-group=nogroup"]
    endpoints = [Endpoint(dev_id, addr, port, dev_id) for dev_id, addr in devices]
    argv += [f"--agent-udpv4-endpoint={e.host}:{port}" for e in endpoints]
    if ipv6:
        argv.append(f"--agent-udpv6-endpoint=[::1]:{port}")
    log_path = log_path or out_dir / "snmpsim.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    server = SimServer(proc, endpoints, log_path, ipv6, scratch=scratch)
    deadline = time.monotonic() + timeout_s
    try:
        # Every device once: snmpsim opens a recording on its first request, which would
        # otherwise land in (and slow down) the agent's first poll.
        for e in endpoints:
            while probe(e.host, e.port, e.community, timeout_s=2.0) is None:
                if proc.poll() is not None:
                    raise SimError(f"snmpsim exited: {_tail(log_path)}")
                if time.monotonic() > deadline:
                    raise SimError(f"snmpsim did not answer in {timeout_s}s: {_tail(log_path)}")
                time.sleep(0.2)
    except BaseException:
        server.stop()
        raise
    return server


def _tail(path: Path, n: int = 1500) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


@contextlib.contextmanager
def serving(out_dir: Path, port: int | None = None, ipv6: bool = False) -> Iterator[SimServer]:
    server = serve(out_dir, port, ipv6)
    try:
        yield server
    finally:
        server.stop()
