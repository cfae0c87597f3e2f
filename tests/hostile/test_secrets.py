"""Secrets never leak: every secret of the example configs set to a marker, never seen again.

1. `check-config` over every example config, with every `${ENV}` secret set to a marker, and
   over broken variants (the marker beside a wrong key): no marker in the output.
2. A real `campusmon run` with marker secrets everywhere (SNMP v2c/v3, SSH password and enable
   secret, InfluxDB token, Prometheus basic-auth password, DingTalk token and signing secret)
   against the hostile SNMP agent, an SSH switch whose host key changed and a webhook receiver
   that is down: no marker in the log, the local store, the disk queues, what the centre
   received, /metrics or the alert log.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import asyncssh
import pytest

from agent.framework.diskqueue import read_lines
from tests.agent.agentproc import REPO, campusmon, start_agent, stop_agent, wait_running
from tests.agent.lp_receiver import LineReceiver
from tests.collectors.ssh.fakedevice import FakeDevices
from tests.hostile.snmpagent import HostileAgent
from tests.servers import free_port

EXAMPLES = sorted((REPO / "config" / "examples").glob("*.yaml"))
ENV_RE = re.compile(r"\$\{([A-Z0-9_]+)(?::-[^}]*)?\}")
PREFIX = "MARKER"


def marker(name: str) -> str:
    return f"{PREFIX}-{name}-q7z"


def _leaks(text: str) -> list[str]:
    return sorted(set(re.findall(rf"{PREFIX}-[A-Za-z0-9_]+", text)))


@pytest.mark.timeout(600)
def test_check_config_of_every_example_never_shows_a_secret(tmp_path: Path) -> None:
    env_vars = sorted({v for p in EXAMPLES for v in ENV_RE.findall(p.read_text())})
    secret_vars = [v for v in env_vars if not v.endswith("_URL")]
    assert len(secret_vars) >= 8, secret_vars
    env = {**os.environ, **{v: marker(v) for v in secret_vars}}
    # broken variants: an unknown key beside every `${…}` secret, so every credential and
    # receiver model fails validation with the marker in its input
    broken: list[Path] = []
    for path in EXAMPLES:
        text = path.read_text().replace("../../", f"{REPO}/")
        text, n = re.subn(r"^(\s+)(\w+): (\$\{[A-Z0-9_]+(?::-[^}]*)?\})",
                          r"\1\2: \3\n\1bogus_key_next_to_a_secret: 1", text, flags=re.M)
        if n:
            (tmp_path / path.name).write_text(text)
            broken.append(tmp_path / path.name)
    for d in ("alerts.d", "snmp-profiles", "modbus-maps"):
        src = EXAMPLES[0].parent / d
        if src.exists():
            (tmp_path / d).symlink_to(src)
    # one process per set: check-config takes many files
    good = subprocess.run([sys.executable, "-m", "agent.app.cli", "check-config",
                           *map(str, EXAMPLES)], capture_output=True, text=True, cwd=REPO,
                          timeout=240, env=env)
    bad = subprocess.run([sys.executable, "-m", "agent.app.cli", "check-config",
                          *map(str, broken)], capture_output=True, text=True, cwd=tmp_path,
                         timeout=240, env=env)
    assert bad.returncode != 0 and bad.stderr.count("bogus_key_next_to_a_secret") >= len(broken)
    for out in (good.stdout + good.stderr, bad.stdout + bad.stderr):
        assert not _leaks(out), _leaks(out)


def _config(tmp_path: Path, *, snmp_port: int, ssh_port: int, centre: str, prom_port: int,
            hook_port: int) -> Path:
    (tmp_path / "inventory.yaml").write_text("""\
campus: {code: hn-secret, name: Secret College}
buildings:
  - id: b1
    name: Main
    rooms:
      - id: mdf
        name: MDF
        kind: machine_room
        devices:
          - {id: sw-evil, kind: access_switch, ipv4: 127.0.0.2, credential: v2}
          - {id: core-1, kind: core_switch, ipv4: 127.0.0.1, vendor: Huawei, credential: v2}
""")
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(f"""\
agent:
  inventory: inventory.yaml
  data_dir: data
  interval_secs: 2
  timeout_secs: 1.9
  flush_interval_secs: 0.2
  self_metrics_interval_secs: 1
  local_store: {{enabled: true}}
credentials:
  - {{name: v2, type: snmp_v2c, community: {marker("community")}}}
  - name: v3
    type: snmp_v3
    user: campusmon
    auth_protocol: SHA256
    auth_key: {marker("authkey")}
    priv_protocol: AES
    priv_key: {marker("privkey")}
  - name: cli
    type: ssh
    username: huawei
    password: {marker("sshpassword")}
    enable_secret: {marker("enable")}
inputs:
  - type: snmp
    port: {snmp_port}
    profiles: [system, interfaces]
    device_profiles: []
    request_timeout_secs: 0.5
    retries: 0
    targets: {{devices: [sw-evil]}}
  - type: ssh
    interval_secs: 2
    credential: cli
    commands: [version]
    targets: {{devices: [core-1]}}
    devices: {{core-1: {{port: {ssh_port}}}}}
processors:
  - type: alerts
outputs:
  - type: influxdb
    name: central
    url: {centre}
    token: {marker("influxtoken")}
    gzip: false
  - type: prometheus
    port: {prom_port}
    basic_auth_username: prom
    basic_auth_password: {marker("prompassword")}
  - type: webhook
    name: ding
    receiver:
      kind: dingtalk
      url: http://127.0.0.1:{hook_port}/robot/send
      access_token: "{marker("dingtoken")}\\u0007x"
      secret: {marker("dingsecret")}
    queue: {{retry_initial_secs: 0.2, retry_max_secs: 0.5}}
  - type: alertlog
""")
    return cfg


@pytest.mark.timeout(300)
def test_a_hostile_run_never_shows_a_secret(hostile_snmp: HostileAgent, ssh_devices: FakeDevices,
                                            tmp_path: Path) -> None:
    rx = LineReceiver()
    prom_port, hook_port = free_port(), free_port()  # nothing listens on hook_port
    cfg = _config(tmp_path, snmp_port=hostile_snmp.port, ssh_port=ssh_devices.port,
                  centre=rx.url, prom_port=prom_port, hook_port=hook_port)
    # the switch's trusted key is another one: refused, event, alert, webhook (down)
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh").decode()
    known = tmp_path / "data" / "ssh" / "known_hosts"
    known.parent.mkdir(parents=True)
    known.write_text(f"[127.0.0.1]:{ssh_devices.port} {' '.join(other.split()[:2])}\n")
    log = tmp_path / "agent.log"
    scraped = ""
    try:
        proc = start_agent(cfg, log)
        try:
            wait_running(log)
            auth = base64.b64encode(f"prom:{marker('prompassword')}".encode()).decode()
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline:  # bounded: until the alert went out
                time.sleep(1)
                if "ssh_host_key_changed" in log.read_text() and rx.state.acked_lines():
                    break
            time.sleep(3)  # a few more ticks and webhook retries
            req = urllib.request.Request(f"http://127.0.0.1:{prom_port}/metrics",
                                         headers={"Authorization": f"Basic {auth}"})
            with urllib.request.urlopen(req, timeout=10) as r:
                scraped = r.read().decode()
        finally:
            rc, _ = stop_agent(proc, timeout=30)
        centre = "\n".join(rx.state.acked_lines())
    finally:
        rx.close()
    text = log.read_text()
    assert rc == 0, text[-3000:]
    assert "agent_plugin" in scraped and centre  # the run really produced data
    assert "CHANGED" in text  # the SSH refusal happened
    store = campusmon("query", "--config", str(cfg), "--format", "lp", "--since", "1h").stdout
    assert "snmp_" in store or "agent_poll" in store
    queues = "\n".join(line for db in (tmp_path / "data" / "queue").glob("*.db")
                       for line in read_lines(db))
    alertlog = "\n".join(p.read_text(errors="replace")
                         for p in (tmp_path / "data").rglob("*") if p.is_file()
                         and p.suffix in (".log", ".jsonl", ".json"))
    check = campusmon("check-config", str(cfg))
    for where, body in (("log", text), ("store", store), ("queues", queues),
                        ("centre", centre), ("/metrics", scraped), ("alert log", alertlog),
                        ("check-config", check.stdout + check.stderr)):
        assert not _leaks(body), (where, _leaks(body))
