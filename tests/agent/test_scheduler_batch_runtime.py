"""The runtime builds a batched runner for a poller whose spec declares BATCH_POLLS: through a
real agent build (config file, inventory, registry), one tick calls `poll_many` in chunks of
the instance's concurrency limit and every device's point reaches the pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from agent.app.builtins import BUILTIN_SPECS
from agent.core.catalogue import Measurement, gauge
from agent.core.model import Item, Metric
from agent.core.plugin import (
    BatchReport,
    Capability,
    DefaultTargets,
    PluginKind,
    PluginSpec,
    Registry,
    Target,
)
from agent.framework.runtime import Agent
from config.base import StrictModel
from config.loader import load_config

DEVICES = 12


class _Cfg(StrictModel):
    pass


class _Batching:
    def __init__(self) -> None:
        self.batches: list[int] = []
        self.single = 0

    async def start(self) -> None:
        pass

    async def poll(self, target: Target) -> Sequence[Item]:
        self.single += 1
        return [Metric("test_batch", {}, {"value": 1.0}, 0)]

    async def poll_many(self, targets: Sequence[Target], report: BatchReport) -> None:
        self.batches.append(len(targets))
        for i in range(len(targets)):
            report(i, [Metric("test_batch", {}, {"value": 1.0}, 0)])

    async def close(self) -> None:
        pass


def _spec(made: list[_Batching], caps: Capability) -> PluginSpec:
    def build(cfg: _Cfg, ctx: object) -> _Batching:
        made.append(_Batching())
        return made[-1]

    return PluginSpec(
        name="test_batch", kind=PluginKind.POLLER, config_model=_Cfg, build=build,
        description="test-only: a batch poller", default_targets=DefaultTargets.INVENTORY,
        capabilities=caps, measurements=(Measurement("test_batch", "test-only", fields=(
            gauge("value", "", "one"),)),))


def _config(tmp_path: Path) -> Path:
    inv = ["campus:", "  code: t", "  name: t", "buildings:", "  - id: b0", "    name: b0",
           "devices:"]
    for i in range(DEVICES):
        inv += [f"  - id: sw-{i:02d}", "    kind: access_switch", "    building: b0",
                f"    ipv4: 127.0.0.{i + 1}"]
    (tmp_path / "inventory.yaml").write_text("\n".join(inv) + "\n")
    cfg = tmp_path / "agent.yaml"
    cfg.write_text("agent:\n  inventory: inventory.yaml\n  data_dir: data\n"
                   "  max_concurrency: 256\n  local_store: {enabled: false}\n"
                   "inputs:\n  - type: test_batch\n    max_concurrency: 5\n")
    return cfg


async def _tick(tmp_path: Path, caps: Capability) -> tuple[_Batching, list[str]]:
    made: list[_Batching] = []
    registry = Registry([*BUILTIN_SPECS, _spec(made, caps)])
    agent = Agent(load_config(_config(tmp_path), registry), registry)
    built = await agent.build(agent.cfg, for_once=True)
    try:
        (runner,) = built.pollers
        await runner.run_once()
        devices = sorted(m.tags["device"] for m in built.pipeline._metrics
                         if m.name == "test_batch")
    finally:
        await agent._close(built)
    (plugin,) = made
    return plugin, devices


async def test_a_batch_spec_gets_poll_many_in_chunks_of_its_concurrency(tmp_path: Path) -> None:
    plugin, devices = await _tick(tmp_path, Capability.BATCH_POLLS)
    assert plugin.batches == [5, 5, 2] and plugin.single == 0
    assert devices == [f"sw-{i:02d}" for i in range(DEVICES)]


async def test_without_the_capability_every_target_is_its_own_poll(tmp_path: Path) -> None:
    plugin, devices = await _tick(tmp_path, Capability.NONE)
    assert plugin.batches == [] and plugin.single == DEVICES
    assert len(devices) == DEVICES
