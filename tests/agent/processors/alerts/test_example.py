"""The shipped example (config/examples/alerts.yaml) loads, and its alerts processor builds with
its site rule file (rule files are read when the processor is built, not by check-config)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.app.builtins import builtin_registry
from agent.core.errors import ConfigError
from agent.core.plugin import BuildContext
from agent.processors.alerts.plugin import AlertsProcessor
from config.loader import load_config

EXAMPLE = Path(__file__).resolve().parents[4] / "config" / "examples" / "alerts.yaml"


def _build(path: Path, tmp_path: Path) -> AlertsProcessor:
    cfg = load_config(path, builtin_registry())
    inst = next(p for p in cfg.processors if p.spec.name == "alerts")
    proc = inst.spec.build(inst.config, BuildContext(
        instance=inst.instance_id, inventory=cfg.inventory, credentials=cfg.credentials,
        data_dir=tmp_path, config_dir=cfg.config_dir))
    assert isinstance(proc, AlertsProcessor)
    return proc


def test_example_builds_with_site_rules(tmp_path: Path) -> None:
    names = {r.name for r in _build(EXAMPLE, tmp_path).rules}
    assert {"library_uplink_busy", "payment_terminal_down", "device_down_icmp",
            "rogue_ra"} <= names
    assert "audit_below_target" not in names  # disabled by the example's overrides


def test_bad_site_rule_file_fails_the_build_naming_it(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text("rules:\n  - name: x\n    summary: s\n"
                                         "    condition: {type: event}\n")
    (tmp_path / "agent.yaml").write_text(
        "processors:\n  - type: alerts\n    rule_files: [rules.yaml]\n")
    with pytest.raises(ConfigError, match=r"rules\.yaml:4: .*kinds"):
        _build(tmp_path / "agent.yaml", tmp_path)
