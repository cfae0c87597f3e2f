"""The ssh input from a config file through the real agent (`campusmon once` path): static
targets on the fake-device server, one healthy, one with a wrong password."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.app.builtins import builtin_registry
from agent.core.model import Metric
from agent.framework.runtime import Agent
from config.loader import load_config
from tests.collectors.ssh.fakedevice import FakeDevices

CONFIG = """
agent:
  data_dir: data
  timeout_secs: 15
credentials:
  - {{name: ac-cli, type: ssh, username: huawei, password: "Huawei@123"}}
  - {{name: stale, type: ssh, username: huawei, password: "changed-since"}}
inputs:
  - type: ssh
    devices:
      ac-1: {{platform: huawei, kind: wlan_controller, commands: [version, ap_list]}}
      sw-9: {{platform: huawei}}
    targets:
      inventory: false
      static:
        - {{id: ac-1, ipv4: 127.0.0.1, port: {port}, credential: ac-cli}}
        - {{id: sw-9, ipv4: 127.0.0.1, port: {port}, credential: stale}}
"""


@pytest.mark.timeout(60)
async def test_once_through_the_agent(fake_devices: FakeDevices, tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(CONFIG.format(port=fake_devices.port), encoding="utf-8")
    cfg = load_config(path, builtin_registry())
    seen: list[Metric] = []
    await Agent(cfg, builtin_registry(), print_lines=seen.extend).once()

    aps = [m for m in seen if m.name == "wlan_ap"]
    assert len(aps) == 4 and {m.tags["target"] for m in aps} == {"ac-1"}
    assert not [m for m in seen if m.name == "ssh_interface_ipv6"]  # not in ac-1's commands
    polls = {m.tags["target"]: m for m in seen if m.name == "agent_poll"}
    assert polls["ac-1"].fields["up"] == 1
    assert polls["sw-9"].fields["up"] == 0 and polls["sw-9"].tags["error_type"] == "auth"
