"""Config: two-phase validation with file:line, secrets, and every example config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agent.app.builtins import builtin_registry
from agent.core.errors import ConfigError
from config.credentials import SnmpV3Credential
from config.loader import load_config

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "config/examples").glob("*.yaml"))
CLI = [sys.executable, "-m", "agent.app.cli"]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "agent.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_there_are_example_configs() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_check_config_accepts_every_example(path: Path) -> None:
    r = subprocess.run([*CLI, "check-config", str(path)], capture_output=True, text=True,
                       cwd=REPO, timeout=120)
    assert r.returncode == 0, r.stderr
    assert ": ok" in r.stdout


def test_misspelt_plugin_key_names_file_line_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, "agent:\n  interval_secs: 5\ninputs:\n  - type: host\n"
                           "    disk: false\n")
    r = subprocess.run([*CLI, "check-config", str(path)], capture_output=True, text=True,
                       cwd=REPO, timeout=60)
    assert r.returncode != 0
    assert f"{path}:5" in r.stderr and "unknown key 'disk'" in r.stderr
    assert "Traceback" not in r.stderr


def test_misspelt_framework_and_agent_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "agent:\n  intervall_secs: 5\ninputs:\n  - type: host\n"
                           "    interval_sec: 3\noutput: []\n")
    with pytest.raises(ConfigError) as ei:
        load_config(path, builtin_registry())
    msgs = [str(p) for p in ei.value.problems]
    assert any(f"{path}:2" in m and "intervall_secs" in m for m in msgs), msgs
    assert any(f"{path}:5" in m and "interval_sec" in m for m in msgs), msgs
    assert any(f"{path}:6" in m and "unknown top-level key 'output'" in m for m in msgs), msgs


def test_unknown_plugin_type_lists_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "inputs:\n  - type: hots\n")
    with pytest.raises(ConfigError) as ei:
        load_config(path, builtin_registry())
    msg = str(ei.value.problems[0])
    assert msg.startswith(f"{path}:2") and "unknown input type 'hots'" in msg and "host" in msg


def test_bad_yaml_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, "inputs:\n  - type: host\n   bad: [\n")
    with pytest.raises(ConfigError) as ei:
        load_config(path, builtin_registry())
    assert str(ei.value).startswith(f"{path}:")


def test_secrets_from_env_and_file_are_never_printed(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_AUTH_KEY", "auth-secret-123")
    (tmp_path / "priv.key").write_text("priv-secret-456\n")
    (tmp_path / "priv.key").chmod(0o600)  # secret files readable by others are refused
    path = write(tmp_path, f"""\
credentials:
  - name: v3
    type: snmp_v3
    user: mon
    auth_protocol: SHA256
    auth_key: ${{TEST_AUTH_KEY}}
    priv_protocol: AES
    priv_key_file: {tmp_path}/priv.key
inputs:
  - type: host
""")
    cfg = load_config(path, builtin_registry())
    cred = cfg.credentials["v3"]
    assert isinstance(cred, SnmpV3Credential)
    assert cred.auth_key is not None and cred.auth_key.get_secret_value() == "auth-secret-123"
    assert cred.priv_key is not None and cred.priv_key.get_secret_value() == "priv-secret-456"
    for shown in (repr(cfg), str(cred), repr(cred)):
        assert "auth-secret-123" not in shown and "priv-secret-456" not in shown
    r = subprocess.run([*CLI, "check-config", str(path)], capture_output=True, text=True,
                       cwd=REPO, timeout=60, env={"TEST_AUTH_KEY": "auth-secret-123",
                                                  "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert "secret-" not in r.stdout + r.stderr


def test_missing_env_variable_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, "credentials:\n  - name: c\n    type: snmp_v2c\n"
                           "    community: ${SURELY_NOT_SET_VAR_X}\n")
    with pytest.raises(ConfigError) as ei:
        load_config(path, builtin_registry())
    msg = str(ei.value.problems[0])
    assert msg.startswith(f"{path}:4") and "SURELY_NOT_SET_VAR_X" in msg


def test_v3_credential_rules(tmp_path: Path) -> None:
    path = write(tmp_path, "credentials:\n  - name: c\n    type: snmp_v3\n    user: u\n"
                           "    priv_protocol: AES\n    priv_key: longenough\n")
    with pytest.raises(ConfigError) as ei:
        load_config(path, builtin_registry())
    assert "privacy without authentication" in str(ei.value)


def test_inventory_problems_surface_through_the_config(tmp_path: Path) -> None:
    (tmp_path / "inv.yaml").write_text(
        "campus: {code: c, name: c}\ndevices:\n  - {id: a, kind: ap, ipv6: '2001:db8::1'}\n"
        "  - {id: b, kind: ap, ipv6: '2001:db8:0::1'}\n")
    path = write(tmp_path, "agent:\n  inventory: inv.yaml\ninputs:\n  - type: host\n")
    r = subprocess.run([*CLI, "check-config", str(path)], capture_output=True, text=True,
                       cwd=REPO, timeout=60)
    assert r.returncode == 2
    inv = tmp_path / "inv.yaml"
    assert f"{inv}:3" in r.stderr and f"{inv}:4" in r.stderr
    assert "duplicate address 2001:db8::1" in r.stderr
