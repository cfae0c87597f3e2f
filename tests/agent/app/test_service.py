"""The packaged systemd unit and the agent's side of it: `systemd-analyze verify` (Debian's
systemd) accepts what `campusmon install-service` writes, capabilities appear only for the
features the config turns on, secret files become LoadCredential=, and the agent speaks the
notify protocol (READY / WATCHDOG / STOPPING) to a real NOTIFY_SOCKET datagram socket."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.app.service.cli import UnitOptions, render
from agent.framework import sdnotify
from tests.agent.app.simcampus import run_cli
from tests.servers import REPO, require_binary

CAMPUSMON = str(Path(sys.executable).parent / "campusmon")


def _verify(unit: Path) -> None:
    exe = require_binary("systemd-analyze")
    r = subprocess.run([exe, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    # a bad value is only a warning (exit 0): any line naming the unit is a failure
    problems = [ln for ln in (r.stdout + r.stderr).splitlines() if unit.name in ln]
    assert r.returncode == 0 and not problems, r.stdout + r.stderr


def _keys(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for ln in text.splitlines():
        if "=" in ln and not ln.startswith("#"):
            k, _, v = ln.partition("=")
            out.setdefault(k, []).append(v)
    return out


def test_unit_without_discovery_has_no_capability(tmp_path: Path) -> None:
    unit = tmp_path / "campusmon.service"
    unit.write_text(render(UnitOptions(exec_path=CAMPUSMON)))
    _verify(unit)
    k = _keys(unit.read_text())
    assert k["AmbientCapabilities"] == [""] and k["CapabilityBoundingSet"] == [""]
    assert k["ProtectSystem"] == ["strict"] and k["StateDirectory"] == ["campusmon"]
    assert k["ConfigurationDirectory"] == ["campusmon"] and k["Type"] == ["notify"]
    assert k["User"] == ["campusmon"] and k["NoNewPrivileges"] == ["yes"]
    assert k["ExecReload"] == ["/bin/kill -HUP $MAINPID"] and k["WatchdogSec"] == ["60"]


def test_install_service_from_a_config(tmp_path: Path) -> None:
    secret = tmp_path / "secrets" / "campus-v2c"
    secret.parent.mkdir()
    secret.write_text("s3cret\n")
    secret.chmod(0o600)
    config = tmp_path / "campusmon.yaml"
    config.write_text(
        "agent: {data_dir: data}\n"
        "credentials:\n- name: campus-v2c\n  type: snmp_v2c\n"
        f"  community_file: ${{CREDENTIALS_DIRECTORY:-{secret.parent}}}/campus-v2c\n"
        "inputs:\n- type: host\n- type: lan_discovery\n  interfaces: [eth0]\n"
        "- type: syslog\n  port: 514\n")
    unit = tmp_path / "out" / "campusmon.service"
    r = run_cli("install-service", "--config", str(config), "--output", str(unit), "--exec",
                CAMPUSMON, "--json-logs")
    assert r.returncode == 0, r.stdout + r.stderr
    _verify(unit)
    text = unit.read_text()
    k = _keys(text)
    assert k["AmbientCapabilities"] == ["CAP_NET_RAW CAP_NET_BIND_SERVICE"]
    assert k["LoadCredential"] == [f"campus-v2c:{secret}"]
    assert "s3cret" not in text
    assert k["ExecStart"] == [f"{CAMPUSMON} --log-format json run --config {config}"]
    r = run_cli("install-service", "--config", str(config), "--output", "-", "--exec",
                CAMPUSMON, "--no-discovery")
    assert _keys(r.stdout)["AmbientCapabilities"] == ["CAP_NET_BIND_SERVICE"], r.stdout


class NotifySocket:
    """What systemd listens on: an AF_UNIX datagram socket; collects the states sent."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.5)
        self.path = path
        self.states: list[str] = []

    def wait_for(self, state: str, seconds: float) -> None:
        for _ in range(int(seconds / 0.5)):  # bounded
            if state in self.states:
                return
            with contextlib.suppress(TimeoutError):
                self.states.extend(self.sock.recv(4096).decode().split("\n"))
        assert state in self.states, self.states


def test_notify_outside_systemd_does_nothing() -> None:
    assert sdnotify.notify("READY=1", env={}) is False
    assert sdnotify.watchdog_interval({}) is None
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "4000000"}) == 2.0
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "1"}) is None


def test_agent_tells_systemd_ready_watchdog_stopping(tmp_path: Path) -> None:
    ns = NotifySocket(tmp_path / "notify")
    config = tmp_path / "agent.yaml"
    config.write_text(f"agent: {{data_dir: {tmp_path / 'data'}, interval_secs: 5}}\n"
                      "inputs:\n- type: host\n")
    log = tmp_path / "agent.log"
    env = {**os.environ, "NOTIFY_SOCKET": str(ns.path), "WATCHDOG_USEC": "1000000",
           "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "agent.app.entry", "run", "--config",
                             str(config)], cwd=REPO, env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT)
    try:
        ns.wait_for("READY=1", 90)
        ns.states.clear()
        ns.wait_for("WATCHDOG=1", 30)  # fed every WatchdogSec/2 while the loop is live
        ns.states.clear()
        ns.wait_for("WATCHDOG=1", 30)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    ns.wait_for("STOPPING=1", 10)
    assert proc.returncode == 0, log.read_text()[-2000:]


async def test_stalled_loop_is_not_reported_alive(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    import asyncio

    ns = NotifySocket(tmp_path / "notify")
    monkeypatch.setenv("NOTIFY_SOCKET", str(ns.path))
    ns.sock.setblocking(False)

    def received() -> list[str]:
        out = []
        while True:
            try:
                out.append(ns.sock.recv(4096).decode())
            except BlockingIOError:
                return out

    dog = asyncio.create_task(sdnotify.feed_watchdog(0.5))
    got: list[str] = []
    for _ in range(100):  # bounded: a healthy loop pings every 0.5 s
        await asyncio.sleep(0.1)
        got += received()
        if got:
            break
    assert got and set(got) == {"WATCHDOG=1"}
    # the stall under test: something blocking the event loop for a second
    time.sleep(1.5)  # noqa: ASYNC251
    await asyncio.sleep(0.05)  # the watchdog task wakes, sees the lag, does not ping
    assert received() == []
    dog.cancel()
