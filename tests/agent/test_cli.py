"""CLI promises: one-line user errors (never a traceback), JSON logs, inventory commands."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.agent.agentproc import REPO, campusmon


def test_user_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    cases = [
        ("run", "--config", str(tmp_path / "missing.yaml")),
        ("query", "--store", str(tmp_path / "none.db")),
        ("inventory", "list"),
        ("query", "--store", str(REPO / "pyproject.toml"), "--tag", "novalue"),
    ]
    for args in cases:
        r = campusmon(*args)
        assert r.returncode != 0, args
        assert "Traceback" not in r.stderr, (args, r.stderr)
        assert r.stderr.strip().count("\n") == 0 and r.stderr.startswith("campusmon: "), (
            args, r.stderr)


def test_inventory_validate_and_list() -> None:
    inv = str(REPO / "inventory/examples/campus.yaml")
    r = campusmon("inventory", "validate", "-i", inv)
    assert r.returncode == 0 and "ok" in r.stdout and "8 devices" in r.stdout
    r = campusmon("inventory", "list", "-i", inv, "--format", "json")
    devices = json.loads(r.stdout)
    assert {d["id"] for d in devices} >= {"core-sw", "a-201-att"}
    assert all("credential" in d for d in devices)


def test_json_logs(tmp_path: Path) -> None:
    cfg = tmp_path / "a.yaml"
    cfg.write_text("agent: {interval_secs: 1, data_dir: data}\ninputs:\n  - type: host\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.app.cli", "--log-format", "json", "--log-level", "info",
         "run", "--config", str(cfg)], cwd=REPO, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # signal handlers are in place once it says so
        line = proc.stderr.readline()
        seen.append(line)
        if "campusmon running" in line or not line:
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=15)
    err = "".join(seen) + err
    assert proc.returncode == 0
    lines = [x for x in err.splitlines() if x.strip()]
    assert lines
    for line in lines:
        rec = json.loads(line)
        assert {"ts", "level", "logger", "msg"} <= rec.keys()
