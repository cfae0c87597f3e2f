"""Inventories read only their own folder and never expand ${ENV}."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.core.errors import ConfigError
from inventory.loader import load_inventory

HEAD = """\
campus: {code: hn-x, name: X}
buildings:
  - id: b1
    rooms:
      - {id: r1, kind: classroom}
"""


def test_an_import_outside_the_inventory_folder_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:SECRET-LINE-ONE:0:0\nmore\n")
    inv_dir = tmp_path / "inv"
    inv_dir.mkdir()
    for ref in ("../secret.txt", str(secret), "/etc/passwd"):
        (inv_dir / "inventory.yaml").write_text(HEAD + f"imports:\n  - csv: {ref}\n")
        with pytest.raises(ConfigError) as info:
            load_inventory(inv_dir / "inventory.yaml")
        text = str(info.value)
        assert "outside the inventory's folder" in text
        assert "SECRET-LINE-ONE" not in text and "root:" not in text


def test_a_non_csv_file_in_the_folder_is_not_printed_whole(tmp_path: Path) -> None:
    (tmp_path / "notes.csv").write_text("token=" + "A" * 500 + ",x,y,z,w,v,u\n1,2\n")
    (tmp_path / "inventory.yaml").write_text(HEAD + "imports:\n  - csv: notes.csv\n")
    with pytest.raises(ConfigError) as info:
        load_inventory(tmp_path / "inventory.yaml")
    assert "A" * 30 not in str(info.value) and "unknown column" in str(info.value)


def test_env_is_not_expanded_in_an_inventory(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPUSMON_SNMP_COMMUNITY", "SECRET-COMMUNITY")
    (tmp_path / "inventory.yaml").write_text(HEAD.replace(
        "{id: r1, kind: classroom}",
        "{id: r1, kind: classroom, name: '${CAMPUSMON_SNMP_COMMUNITY}'}"))
    inv = load_inventory(tmp_path / "inventory.yaml")
    assert inv.rooms[0].name == "${CAMPUSMON_SNMP_COMMUNITY}"
