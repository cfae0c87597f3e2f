"""The whole agent (`campusmon run`, a real process) with the centre unreachable: a probe
failure is raised and written to the local alert log at once (`campusmon alerts` shows it), the
Alertmanager output keeps it in its disk queue, and when Alertmanager comes up on the centre's
address the alert is delivered; the recovery resolves it there too."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agent.app.builtins import builtin_registry
from agent.processors.alerts.cli import firing, log_records
from tests.exporters.alertmanager.amserver import start_alertmanager
from tests.servers import REPO, free_port

RULES = """\
rules:
  - name: portal_down
    condition:
      type: threshold
      metric: probe_tcp
      fields: [success]
      op: "=="
      value: 0
      by: [device, port]
    severity: critical
    labels: {team: ops}
    summary: "{device}: nothing answers on TCP {port}"
"""


def _config(tmp: Path, am_port: int, portal_port: int) -> Path:
    (tmp / "rules.yaml").write_text(RULES)
    cfg = tmp / "agent.yaml"
    cfg.write_text(f"""\
agent: {{data_dir: data, interval_secs: 1, flush_interval_secs: 0.2, jitter_secs: 0}}
inputs:
  - type: dualstack
    family: ipv4
    icmp: {{enabled: false}}
    dns: {{enabled: false}}
    http: {{enabled: false}}
    tcp: {{timeout_secs: 0.5}}
    targets: {{inventory: false, static: [{{id: portal, ipv4: 127.0.0.1, port: {portal_port}}}]}}
processors:
  - type: alerts
    builtin_rules: false
    rule_files: [rules.yaml]
outputs:
  - type: alertlog
  - type: alertmanager
    url: http://127.0.0.1:{am_port}
    timeout_secs: 1
    queue: {{retry_initial_secs: 0.2, retry_max_secs: 1}}
""")
    return cfg


def _cli(*args: str) -> str:
    r = subprocess.run([sys.executable, "-m", "agent.app.cli", *args], capture_output=True,
                       text=True, cwd=REPO, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _wait(what: str, cond: Callable[[], Any], secs: float = 45.0) -> Any:
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.timeout(240)
def test_alert_logged_while_centre_down_and_delivered_when_back(tmp_path: Path) -> None:
    am_port, portal_port = free_port(), free_port()
    cfg = _config(tmp_path, am_port, portal_port)
    listener = socket.create_server(("127.0.0.1", portal_port))  # the portal is up
    agent = subprocess.Popen([sys.executable, "-m", "agent.app.cli", "run", "--config", str(cfg)],
                             cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
    am = None
    try:
        time.sleep(2.0)
        assert firing(log_records(cfg, builtin_registry())) == []
        listener.close()  # the portal goes down; the centre's Alertmanager is not running
        now = _wait("the local alert log", lambda: firing(log_records(cfg, builtin_registry())))
        assert [r["key"] for r in now] == [f"portal_down:portal/{portal_port}"]
        shown = json.loads(_cli("alerts", "-c", str(cfg), "--json"))  # what an admin runs
        assert [r["key"] for r in shown] == [f"portal_down:portal/{portal_port}"]
        am = start_alertmanager(tmp_path / "am", am_port)  # the centre is back

        def delivered() -> list[dict[str, Any]]:
            return [a for a in am.alerts() if a["labels"].get("alertname") == "portal_down"]

        got = _wait("delivery to Alertmanager", delivered)
        assert got[0]["labels"]["target"] == "portal"
        assert got[0]["annotations"]["summary"] == f"portal: nothing answers on TCP {portal_port}"
        listener = socket.create_server(("127.0.0.1", portal_port))  # the portal recovers
        _wait("the resolve in Alertmanager", lambda: not delivered())
        assert firing(log_records(cfg, builtin_registry())) == []
        assert [r["state"] for r in log_records(cfg, builtin_registry())] == ["raised", "resolved"]
    finally:
        agent.send_signal(signal.SIGTERM)
        try:
            agent.wait(timeout=15)
        except subprocess.TimeoutExpired:
            agent.kill()
            agent.wait(timeout=5)
        listener.close()
        if am is not None:
            am.stop()
    assert agent.returncode == 0, agent.stderr.read() if agent.stderr else ""
