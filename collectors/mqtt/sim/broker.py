"""A throw-away local mosquitto for the demo (and anyone trying the simulator by hand).

`start_local_broker()` returns None with a reason when mosquitto is not installed, so callers
can say clearly what they skip. As root mosquitto drops to its own user: its directory is made
world-readable and writable for it.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def mosquitto_binary() -> str | None:
    found = shutil.which("mosquitto")
    if found:
        return found
    return "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalBroker:
    host: str
    port: int
    workdir: Path
    proc: subprocess.Popen[bytes]
    owns_workdir: bool = False  # a temporary directory of ours: removed on stop

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def log_path(self) -> Path:
        return self.workdir / "mosquitto.log"


def start_local_broker(workdir: str | Path | None = None, port: int | None = None,
                       timeout_s: float = 10.0) -> tuple[LocalBroker | None, str]:
    """Start mosquitto on 127.0.0.1; return (broker, "") or (None, why it is skipped)."""
    binary = mosquitto_binary()
    if binary is None:
        return None, "mosquitto is not installed (apt-get install mosquitto; make system-deps)"
    wd = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="campusmon-mosquitto-"))
    wd.mkdir(parents=True, exist_ok=True)
    wd.chmod(0o777)
    port = port or _free_port()
    conf = wd / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n"
                    "persistence false\nmax_queued_messages 100000\n")
    log = (wd / "mosquitto.log").open("ab")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None, f"mosquitto exited at start (see {wd / 'mosquitto.log'})"
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return LocalBroker("127.0.0.1", port, wd, proc, owns_workdir=workdir is None), ""
        time.sleep(0.05)
    proc.kill()
    proc.wait(5)
    return None, f"mosquitto did not listen on 127.0.0.1:{port} within {timeout_s:.0f}s"


def mqtt_input(host: str, port: int, **extra: Any) -> dict[str, Any]:
    """The agent config entry for the fleet: report every 10 s, liveness as simulated."""
    return {"type": "mqtt", "name": "iot", "host": host, "port": port,
            "report_interval_secs": 10, **extra}
