"""The `alerts` processor's options and its rule set (built-in rules, rule files, overrides):
what the processor builds from and what `campusmon alerts --rules` prints."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from agent.processors.alerts.mute import MaintenanceWindow, Silence
from agent.processors.alerts.rules import (
    Rule,
    RuleOverride,
    builtin_rules,
    load_rule_file,
    merge_rules,
)
from config.base import StrictModel


class FlapOptions(StrictModel):
    window_secs: float = Field(default=600.0, gt=0)
    start_transitions: int = Field(default=4, ge=2)  # this many changes in the window: flapping
    stop_transitions: int = Field(default=1, ge=0)  # at most this many: calm again


class TopologyOptions(StrictModel):
    enabled: bool = True
    lldp: bool = True
    fdb: bool = True
    settle_secs: float = Field(default=30.0, ge=0)  # wait for an upstream alert before paging
    release_grace_secs: float = Field(default=60.0, ge=0)  # after the root clears
    fact_ttl_secs: float = Field(default=3600.0, gt=0)  # LLDP/FDB facts kept this long


class AlertsConfig(StrictModel):
    builtin_rules: bool = True
    rule_files: list[str] = Field(default_factory=list)  # relative to the config file
    overrides: dict[str, RuleOverride] = Field(default_factory=dict)
    renotify_secs: float = Field(default=4 * 3600.0, gt=0)
    flap: FlapOptions = FlapOptions()
    topology: TopologyOptions = TopologyOptions()
    silences: list[Silence] = Field(default_factory=list)
    maintenance: list[MaintenanceWindow] = Field(default_factory=list)
    metrics_interval_secs: float = Field(default=30.0, gt=0)
    # notified alerts are saved on shutdown/reload and reopened at start, so their resolve is
    # still sent; one not seen again within this time resolves
    restore_grace_secs: float = Field(default=300.0, ge=0)


def load_rules(cfg: AlertsConfig, config_dir: Path) -> list[Rule]:
    base = builtin_rules() if cfg.builtin_rules else []
    extra: list[Rule] = []
    for name in cfg.rule_files:
        extra.extend(load_rule_file((config_dir / name).resolve()))
    return merge_rules(base, extra, cfg.overrides, "processor alerts: overrides")
