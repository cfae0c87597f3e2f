"""Framework keys mean something only on some plugin kinds; elsewhere check-config refuses
them with file:line instead of ignoring them (issue 13)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agent.app.builtins import builtin_registry
from agent.core.errors import ConfigError
from config.loader import load_config
from exporters.influxdb.plugin import InfluxConfig

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "agent.app.cli"]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "agent.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, builtin_registry())
    return [str(p) for p in info.value.problems]


def test_check_config_refuses_interval_on_an_output_with_file_line(tmp_path: Path) -> None:
    path = write(tmp_path, "inputs:\n  - type: host\noutputs:\n  - type: prometheus\n"
                           "    port: 0\n    interval_secs: 15\n")
    r = subprocess.run([*CLI, "check-config", str(path)], capture_output=True, text=True,
                       cwd=REPO, timeout=120)
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{path}:6" in r.stderr, r.stderr
    assert "output 'prometheus' is a pull_exporter: 'interval_secs' means nothing" in r.stderr
    assert "Traceback" not in r.stderr


def test_check_config_refuses_interval_on_a_listener_without_ticks(tmp_path: Path) -> None:
    path = write(tmp_path, "inputs:\n  - type: mqtt\n    host: 127.0.0.1\n"
                           "    interval_secs: 30\n")
    r = subprocess.run([*CLI, "check-config", str(path)], capture_output=True, text=True,
                       cwd=REPO, timeout=120)
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{path}:4" in r.stderr, r.stderr
    assert "input 'mqtt' is a listener: 'interval_secs' means nothing here (a listener runs " \
        "continuously and has no ticks" in r.stderr


def test_every_misplaced_framework_key_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "inputs:\n  - type: host\n"
                           "processors:\n  - type: audit\n    interval_secs: 60\n"
                           "    tags: {team: x}\n"
                           "outputs:\n  - type: prometheus\n    port: 0\n"
                           "    targets: {kinds: [router]}\n    queue: {max_megabytes: 1}\n"
                           "  - type: influxdb\n    url: http://127.0.0.1:8428\n"
                           "    max_concurrency: 4\n")
    msgs = _problems(path)
    for line, key in ((5, "interval_secs"), (6, "tags"), (10, "targets"), (11, "queue"),
                      (14, "max_concurrency")):
        assert any(m.startswith(f"{path}:{line}") and f"'{key}' means nothing" in m
                   for m in msgs), (key, msgs)
    assert len(msgs) == 5, msgs


def test_a_key_the_plugin_defines_is_the_plugins(tmp_path: Path) -> None:
    """`timeout_secs` of an output is its request timeout (its own model's field): it reaches
    the plugin instead of vanishing into the framework options."""
    path = write(tmp_path, "inputs:\n  - type: host\n    interval_secs: 5\n"
                           "    timeout_secs: 2\n    tags: {rack: r1}\n"
                           "outputs:\n  - type: influxdb\n    url: http://127.0.0.1:8428\n"
                           "    timeout_secs: 3\n    queue: {max_megabytes: 8}\n")
    cfg = load_config(path, builtin_registry())
    (host,) = cfg.inputs
    assert (host.options.interval_secs, host.options.timeout_secs) == (5, 2)
    assert host.options.tags == {"rack": "r1"}
    (influx,) = cfg.outputs
    assert isinstance(influx.config, InfluxConfig) and influx.config.timeout_secs == 3
    assert influx.options.timeout_secs is None and influx.options.queue.max_megabytes == 8
