"""`campusmon identify` takes v3 keys from the environment or a file and never echoes a key."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.app.cli import main


def test_a_refused_key_is_never_echoed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["identify", "127.0.0.1", "--v3-user", "u", "--auth-proto", "SHA",
                 "--auth-key", "zKEY1"]) == 2  # too short for USM: refused
    err = capsys.readouterr().err
    assert "zKEY1" not in err and err.startswith("campusmon: identify")


def test_keys_from_env_and_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_V3_AUTH", "zENV2")
    assert main(["identify", "127.0.0.1", "--v3-user", "u", "--auth-proto", "SHA",
                 "--auth-key-env", "TEST_V3_AUTH"]) == 2  # read, then refused as too short
    err = capsys.readouterr().err
    assert "zENV2" not in err and "8 characters" in err
    key = tmp_path / "priv"
    key.write_text("zFIL3\n")
    key.chmod(0o644)
    assert main(["identify", "127.0.0.1", "--v3-user", "u", "--auth-proto", "SHA",
                 "--auth-key-env", "TEST_V3_AUTH", "--priv-proto", "AES",
                 "--priv-key-file", str(key)]) == 2  # a key file others can read: refused
    err = capsys.readouterr().err
    assert str(key) in err and "zFIL3" not in err
    assert main(["identify", "127.0.0.1", "--v3-user", "u", "--auth-proto", "SHA",
                 "--auth-key-env", "UNSET_VAR_X"]) == 2
    assert "UNSET_VAR_X" in capsys.readouterr().err
