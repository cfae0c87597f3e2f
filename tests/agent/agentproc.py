"""Run `campusmon` as a real subprocess for lifecycle tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def campusmon(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent.app.cli", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=timeout)


def start_agent(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "agent.app.cli", "--log-level", "info", "run", "--config",
         str(config)], cwd=REPO, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})


def wait_running(log: Path, timeout: float = 90) -> None:
    """Block until the agent logged that it runs (its signal handlers are installed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and "campusmon running" in log.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise TimeoutError(f"agent did not start within {timeout}s: {log.read_text()[-2000:]}")


def stop_agent(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM,
               timeout: float = 10) -> tuple[int, float]:
    t0 = time.monotonic()
    proc.send_signal(sig)
    rc = proc.wait(timeout=timeout)
    return rc, time.monotonic() - t0
