"""Start real servers (Debian packages) on free loopback ports for tests, and stop them.

Outside CI a missing server or missing root skips the test with a clear reason; in CI
(CI=true) it fails instead, because CI installs everything (.ci/install-system-deps.sh).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def unavailable(reason: str) -> None:
    """Skip outside CI; fail in CI, where the dependency must be present."""
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def require_binary(name: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists()
                                  else None)
    if path is None:
        unavailable(f"'{name}' is not installed (make system-deps installs it)")
    assert path is not None
    return path


def snmpsim_binary() -> str:
    """snmpsim lives in its own venv (Debian's Python) so it still works after dropping root."""
    path = REPO / ".venv-sim" / "bin" / "snmpsim-command-responder"
    if not path.exists():
        unavailable(f"{path} is missing (make setup creates .venv-sim with snmpsim)")
    return str(path)


def snmpsim_privilege_args(cache_dir: Path) -> list[str]:
    """As root snmpsim insists on dropping privileges; give it a user and a writable cache."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return [f"--cache-dir={cache_dir}"]
    cache_dir.chmod(0o777)
    return ["--process-user=nobody", "--process-group=nogroup", f"--cache-dir={cache_dir}"]


def require_root() -> None:
    if os.geteuid() != 0:
        unavailable("needs root (network namespaces / raw sockets)")


def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (fixtures and references live there)")
    return SHARED


def free_port(host: str = "127.0.0.1", kind: int = socket.SOCK_STREAM) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, kind) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_tcp(host: str, port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


def wait_http(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status < 500:
                    return
        except Exception as exc:
            last = exc
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout}s: {last}")


@dataclass
class ServerProcess:
    """A server started from argv; restartable (outage tests stop and start it)."""

    argv: Sequence[str]
    ready: Callable[[], None]
    log_path: Path
    env: dict[str, str] | None = None
    cwd: Path | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> ServerProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            list(self.argv), stdout=log, stderr=subprocess.STDOUT, env=self.env,
            cwd=self.cwd, start_new_session=True)
        try:
            self.ready()
        except Exception:
            self.stop()
            raise RuntimeError(
                f"{self.argv[0]} did not start; log:\n{self.log_text()[-3000:]}") from None
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


@dataclass
class Served:
    """A started server that outage tests can stop and start again on the same port."""

    server: ServerProcess

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start()


@dataclass
class Mosquitto(Served):
    host: str
    port: int


def start_mosquitto(workdir: Path, extra_conf: str = "", port: int | None = None,
                    host: str = "127.0.0.1") -> Mosquitto:
    binary = require_binary("mosquitto")
    port = port or free_port(host)
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "mosquitto.conf"
    # started as root, mosquitto drops to its own user, who cannot write (or even reach)
    # pytest's 0700 tmp dirs: stay root so persistence survives a restart
    user = "user root\n" if os.geteuid() == 0 else ""
    conf.write_text(
        f"{user}listener {port} {host}\nallow_anonymous true\npersistence true\n"
        f"persistence_location {workdir}/\nmax_queued_messages 100000\n{extra_conf}\n")
    server = ServerProcess([binary, "-c", str(conf)], lambda: wait_tcp(host, port),
                           workdir / "mosquitto.log")
    server.start()
    return Mosquitto(server, host, port)


@dataclass
class VictoriaMetrics(Served):
    url: str
    port: int


def start_victoria_metrics(workdir: Path, port: int | None = None) -> VictoriaMetrics:
    binary = require_binary("victoria-metrics")
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    server = ServerProcess(
        [binary, f"-httpListenAddr=127.0.0.1:{port}", f"-storageDataPath={workdir}/data",
         "-retentionPeriod=1", "-search.latencyOffset=0s", "-search.disableCache",
         "-memory.allowedPercent=20"],
        lambda: wait_http(f"{url}/health"), workdir / "vm.log")
    server.start()
    return VictoriaMetrics(server, url, port)

