"""Polls in flight per poller: the plugin's own default (`PluginSpec.default_max_concurrency`)
bounds a tick's peak when the instance sets no `max_concurrency`; the instance key overrides
it. A tick's RSS follows the polls alive together (docs/performance.md, memory section)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from agent.app.builtins import BUILTIN_SPECS
from agent.core.catalogue import Measurement, gauge
from agent.core.model import Item, Metric
from agent.core.plugin import DefaultTargets, PluginKind, PluginSpec, Registry, Target
from agent.framework.runtime import Agent
from collectors.snmp.plugin import DEFAULT_MAX_CONCURRENCY
from collectors.snmp.plugin import SPEC as SNMP_SPEC
from config.base import StrictModel
from config.loader import load_config

DEVICES = 12


class _Cfg(StrictModel):
    pass


class _Counting:
    """Polls that hold their slot briefly and remember the most in flight at once."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self.polled = 0

    async def start(self) -> None:
        pass

    async def poll(self, target: Target) -> Sequence[Item]:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(0.01)
        finally:
            self.now -= 1
        self.polled += 1
        return [Metric("test_inflight", {}, {"value": 1.0}, 0)]

    async def close(self) -> None:
        pass


def _spec(default: int | None, made: list[_Counting]) -> PluginSpec:
    def build(cfg: _Cfg, ctx: object) -> _Counting:
        made.append(_Counting())
        return made[-1]

    return PluginSpec(
        name="test_inflight", kind=PluginKind.POLLER, config_model=_Cfg, build=build,
        description="test-only: counts polls in flight", default_targets=DefaultTargets.INVENTORY,
        default_max_concurrency=default,
        measurements=(Measurement("test_inflight", "test-only", fields=(
            gauge("value", "", "one"),)),))


def _config(tmp_path: Path, instance_limit: int | None) -> Path:
    inv = ["campus:", "  code: t", "  name: t", "buildings:", "  - id: b0", "    name: b0",
           "devices:"]
    for i in range(DEVICES):
        inv += [f"  - id: sw-{i:02d}", "    kind: access_switch", "    building: b0",
                f"    ipv4: 127.0.0.{i + 1}"]
    (tmp_path / "inventory.yaml").write_text("\n".join(inv) + "\n")
    limit = f"    max_concurrency: {instance_limit}\n" if instance_limit else ""
    cfg = tmp_path / "agent.yaml"
    cfg.write_text("agent:\n  inventory: inventory.yaml\n  data_dir: data\n"
                   "  max_concurrency: 256\n  local_store: {enabled: false}\n"
                   f"inputs:\n  - type: test_inflight\n{limit}")
    return cfg


@pytest.mark.parametrize(("default", "instance", "most"),
                         [(3, None, 3), (3, 5, 5), (None, None, DEVICES)])
async def test_the_plugins_default_bounds_polls_in_flight(
        tmp_path: Path, default: int | None, instance: int | None, most: int) -> None:
    made: list[_Counting] = []
    registry = Registry([*BUILTIN_SPECS, _spec(default, made)])
    agent = Agent(load_config(_config(tmp_path, instance), registry), registry)
    built = await agent.build(agent.cfg, for_once=True)
    try:
        (runner,) = built.pollers
        await runner.run_once()
    finally:
        await agent._close(built)
    (plugin,) = made
    assert plugin.polled == DEVICES  # every device polled in the tick, only fewer at once
    assert plugin.most == most


def test_snmp_polls_in_flight_are_bounded_by_default() -> None:
    """The snmp plugin's default: bounded (RSS), yet 1,000 switches fit a 60 s tick at up to
    2.8 s of wall time per poll."""
    assert SNMP_SPEC.default_max_concurrency == DEFAULT_MAX_CONCURRENCY
    assert 32 <= DEFAULT_MAX_CONCURRENCY <= 64
    assert DEFAULT_MAX_CONCURRENCY / 2.8 * 60 >= 950
