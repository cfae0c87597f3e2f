"""The snmp plugin inside the real agent (`campusmon once`): config and inventory files,
pipeline tags, and per-device `agent_poll` with duration and error type."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.app.cli import main
from tests.collectors.snmp.conftest import SnmpAgent

INVENTORY = """\
campus: {code: hn-vc, name: Test Vocational College}
buildings:
  - id: b-admin
    name: Admin
    rooms:
      - id: r-mdf
        name: MDF
        kind: machine_room
        devices:
          - {id: ac-1, kind: wlan_controller, ipv4: 127.0.0.1, credential: ac, vendor: Huawei}
          - {id: sw-dead, kind: access_switch, ipv4: 127.0.0.2, credential: ac}
  - id: b-teach
    name: Teaching
    rooms:
      - id: r-101
        name: Classroom 101
        kind: classroom
        devices:
          - {id: ap-101, kind: ap, mac: "50:6f:77:ea:dc:a0"}
"""


@pytest.mark.timeout(60)
def test_once_tags_devices_and_reports_poll_outcomes(
        snmpsim_fixtures: SnmpAgent, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "inventory.yaml").write_text(INVENTORY)
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(f"""\
agent:
  inventory: inventory.yaml
  data_dir: data
  timeout_secs: 10
credentials:
  - {{name: ac, type: snmp_v2c, community: vrp_ac6605-26}}
inputs:
  - type: snmp
    port: {snmpsim_fixtures.port}
    transport: pysnmp
    request_timeout_secs: 1
    retries: 0
    targets: {{kinds: [wlan_controller, access_switch]}}
""")
    assert main(["once", "--config", str(cfg)]) == 0
    lines = capsys.readouterr().out.splitlines()
    polls = {ln.split(" ")[0]: ln for ln in lines if ln.startswith("agent_poll,")}
    ac = next(v for k, v in polls.items() if "device=ac-1" in k)
    dead = next(v for k, v in polls.items() if "device=sw-dead" in k)
    assert "up=1i" in ac and "error_type" not in ac.split(" ")[0]
    assert "error_type=timeout" in dead and "up=0i" in dead
    assert "duration_seconds=" in ac and "duration_seconds=" in dead
    info = next(ln for ln in lines if ln.startswith("snmp_device_info,"))
    assert "device=ac-1" in info and "building=b-admin" in info and "domestic=yes" in info
    ap = next(ln for ln in lines if ln.startswith("wlan_ap,"))
    # Placed in the AP's own room, not the controller's.
    assert "building=b-teach" in ap and "room=r-101" in ap and "device=ac-1" in ap
