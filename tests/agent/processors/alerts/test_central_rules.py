"""The central rules (config/central) pass `promtool check rules` and their own
`promtool test rules` cases, the example Alertmanager config passes `amtool check-config`, and
every built-in agent rule has a central rule of the same name."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from agent.processors.alerts.rules import builtin_rules
from tests.servers import require_binary

CENTRAL = Path(__file__).resolve().parents[4] / "config" / "central"


def _run(*argv: str) -> str:
    res = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=CENTRAL)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


@pytest.mark.timeout(90)
def test_promtool_check_and_test_rules() -> None:
    promtool = require_binary("promtool")
    assert "SUCCESS: 41 rules found" in _run(promtool, "check", "rules",
                                             "campusmon-alerts.yml")
    assert "SUCCESS" in _run(promtool, "test", "rules", "campusmon-alerts.test.yml")


@pytest.mark.timeout(60)
def test_amtool_check_config() -> None:
    amtool = require_binary("amtool")
    assert "SUCCESS" in _run(amtool, "check-config", "alertmanager.yml")


def test_same_conditions_centrally() -> None:
    doc = yaml.safe_load((CENTRAL / "campusmon-alerts.yml").read_text())
    central = {r["alert"] for g in doc["groups"] for r in g["rules"]}
    assert {r.name for r in builtin_rules()} <= central
