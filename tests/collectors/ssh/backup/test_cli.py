"""`campusmon config history|diff|show` on a repository written by ConfigRepo (real git)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from collectors.ssh.backup.cli import register
from collectors.ssh.backup.repo import ConfigRepo

V1 = ("#\nsysname core\n#\nvlan 10\n name staff\n#\ninterface Vlanif10\n"
      " ip address 10.0.10.1 24\n#\nreturn\n")
V2 = V1.replace(" name staff", " name teachers").replace("10.0.10.1 24", "10.0.10.254 24")


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="campusmon")
    register(parser.add_subparsers(), None)
    args = parser.parse_args(argv)
    rc: int = args.func(args)
    return rc


def _store(repo: ConfigRepo, tmp: Path, text: str, trigger: str) -> None:
    f = tmp / "incoming.cfg"
    f.write_text(text)
    repo.store("core-sw", f, trigger=trigger, platform="huawei")


@pytest.fixture
def repo(tmp_path: Path) -> ConfigRepo:
    r = ConfigRepo(tmp_path / "configs")
    _store(r, tmp_path, V1, "schedule")
    _store(r, tmp_path, V1, "schedule")  # unchanged: no commit
    _store(r, tmp_path, V2, "device_config_saved")
    return r


def test_history_diff_show(repo: ConfigRepo, capsys: pytest.CaptureFixture[str]) -> None:
    where = ("--repo", str(repo.path))
    assert _cli("config", "history", "core-sw", *where) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("core-sw: +2 -2: vlan 10, interface Vlanif10")
    assert lines[1].endswith("core-sw: first backup (10 lines)")
    first = lines[1].split()[0]

    assert _cli("config", "diff", "core-sw", *where) == 0
    out = capsys.readouterr().out
    assert "- name staff" in out and "+ name teachers" in out

    assert _cli("config", "show", "core-sw", *where) == 0
    assert capsys.readouterr().out == V2
    assert _cli("config", "show", "core-sw", first, *where) == 0
    assert capsys.readouterr().out == V1
    assert _cli("config", "diff", "core-sw", first, "HEAD", *where) == 0
    assert "+ ip address 10.0.10.254 24" in capsys.readouterr().out


def test_unknown_device_and_bad_revision(repo: ConfigRepo,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    where = ("--repo", str(repo.path))
    assert _cli("config", "history", "nope", *where) == 1
    assert "no backup of nope" in capsys.readouterr().err
    assert _cli("config", "show", "core-sw", "HEAD;rm", *where) == 2
    assert "not a revision" in capsys.readouterr().err
    assert _cli("config", "history", "core-sw") == 2  # neither --config nor --repo


def test_device_file_names_are_safe_and_distinct() -> None:
    from collectors.ssh.backup.repo import device_file

    assert device_file("core-sw") == "devices/core-sw.cfg"
    assert device_file("楼A-核心") == "devices/楼A-核心.cfg"
    names = {device_file(d) for d in ("a/b", "a_b", "a b", "../etc", "..")}
    assert len(names) == 5
    assert all(n.startswith("devices/") and "/" not in n[len("devices/"):] for n in names)
