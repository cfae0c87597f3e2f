from pathlib import Path

import pytest

from agent.app.cli import main
from agent.processors.audit.cli import parse_window


def test_report_needs_a_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--out", str(tmp_path)]) == 2
    assert "--config FILE" in capsys.readouterr().err


def test_report_bad_window(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--from", "http://127.0.0.1:9", "--window", "soon",
                 "--out", str(tmp_path)]) == 2
    assert "--window takes a duration" in capsys.readouterr().err


def test_report_unreachable_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--from", "http://127.0.0.1:9", "--window", "1h",
                 "--out", str(tmp_path)]) == 2
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err


def test_report_config_without_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "a.yaml"
    cfg.write_text(f"agent:\n  data_dir: {tmp_path / 'nodata'}\ninputs:\n  - type: host\n")
    assert main(["report", "--config", str(cfg), "--out", str(tmp_path / "r")]) == 2
    assert "no local store" in capsys.readouterr().err


def test_parse_window() -> None:
    assert parse_window("90m") == 90 * 60 * 10**9
    assert parse_window("1.5h") == int(1.5 * 3600 * 10**9)
