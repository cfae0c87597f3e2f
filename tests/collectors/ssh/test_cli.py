"""`campusmon ssh-templates` and `campusmon ssh-parse`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.app.cli import main

DATA = Path(__file__).resolve().parent / "data"


def test_ssh_templates_lists_every_platform(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ssh-templates"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"huawei", "hp_comware", "ruijie_os", "zte_zxros", "cisco_ios", "aruba_os"} <= set(doc)
    ap = next(c for c in doc["huawei"] if c["kind"] == "ap_list")
    assert ap["command"] == "display ap all" and ap["device_kinds"] == ["wlan_controller"]
    assert all(Path(c["template"]).is_file() for cmds in doc.values() for c in cmds)


def test_ssh_parse_rows_and_failure(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ssh-parse", "cisco_ios", "version", str(DATA / "cisco_show_version.raw")]) == 0
    [row] = json.loads(capsys.readouterr().out)["rows"]
    assert row["type"] == "VersionInfo" and row["model"] == "WS-C4948E"
    assert main(["ssh-parse", "ruijie_os", "version",
                 str(DATA / "huawei_display_version.raw")]) == 1
    err = capsys.readouterr().err
    assert "show version: unexpected output line 'Huawei Versatile Routing" in err
