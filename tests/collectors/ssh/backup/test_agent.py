"""The whole chain inside the real agent (`campusmon run`, a subprocess): a device's "configured
from console" syslog line → the syslog listener's `device_config_saved` event → config_backup
backs that device up at once (its schedule is daily) → a commit naming the trigger; then
`campusmon config history|show` read it back."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.agent.agentproc import campusmon, start_agent, stop_agent, wait_running
from tests.collectors.ssh.backup.helpers import commits
from tests.collectors.ssh.fakedevice import FakeDevices
from tests.servers import free_port, require_binary


@pytest.mark.timeout(150)
def test_syslog_config_saved_triggers_a_backup_in_the_agent(fake_devices: FakeDevices,
                                                            tmp_path: Path) -> None:
    require_binary("logger")
    inv = tmp_path / "inventory.yaml"
    inv.write_text(yaml.safe_dump({
        "campus": {"code": "it-backup", "name": "backup"},
        "devices": [{"id": "core-sw", "kind": "core_switch", "building": "dc",
                     "ipv4": "127.0.0.1", "vendor": "Cisco", "credential": "cli"}],
        "buildings": [{"id": "dc", "name": "dc"}]}))
    udp_port = free_port(kind=socket.SOCK_DGRAM)
    data = tmp_path / "data"
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(yaml.safe_dump({
        "agent": {"inventory": str(inv), "data_dir": str(data), "flush_interval_secs": 0.2,
                  "local_store": {"enabled": True}},
        "credentials": [{"name": "cli", "type": "ssh", "username": "cisco",
                         "password": "Cisco@123", "enable_secret": "cisco-en"}],
        "inputs": [
            {"type": "syslog", "listen_udp": [f"127.0.0.1:{udp_port}"]},
            # daily: only the syslog line can make it run within this test
            {"type": "config_backup", "interval_secs": 86400, "timeout_secs": 60,
             "port": fake_devices.port, "trigger_debounce_secs": 0.5},
        ],
    }))
    log = tmp_path / "agent.log"
    proc = start_agent(cfg, log)
    repo = data / "configs"
    try:
        wait_running(log)
        subprocess.run(["logger", "--rfc3164", "-d", "-n", "127.0.0.1", "-P", str(udp_port),
                        "-t", "core-sw", "%SYS-5-CONFIG_I: Configured from console by admin "
                        "on vty0 (10.0.0.5)"], check=True)
        for _ in range(600):  # bounded wait for the triggered backup's commit
            if (repo / "devices" / "core-sw.cfg").exists() and len(commits(repo)) >= 2:
                break
            time.sleep(0.1)
    finally:
        rc, _ = stop_agent(proc)
    text = log.read_text()
    assert rc == 0, text[-3000:]
    assert "undeclared" not in text
    assert commits(repo, "devices/core-sw.cfg") == ["core-sw: first backup (169 lines)"], \
        text[-3000:]
    body = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%B"],
                          capture_output=True, text=True, check=True).stdout
    assert "trigger: device_config_saved" in body
    hist = campusmon("config", "history", "core-sw", "--config", str(cfg))
    assert hist.returncode == 0 and "core-sw: first backup" in hist.stdout, hist.stderr
    show = campusmon("config", "show", "core-sw", "--config", str(cfg))
    assert show.returncode == 0 and "vlan 2\n name two\n" in show.stdout
    assert "enable secret 9 <secret:" in show.stdout and "SECRET_ENABLE" not in show.stdout
