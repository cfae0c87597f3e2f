"""A test-only poller that counts: each poll emits `points` metrics `test_seq` whose value is
a unique, increasing sequence number, and remembers what it produced, so a test can compare
the store with what the agent collected, point by point."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import Field

from agent.app.builtins import BUILTIN_SPECS
from agent.core.catalogue import Measurement, counter, tag, text
from agent.core.model import Item, Metric
from agent.core.plugin import DefaultTargets, PluginKind, PluginSpec, Registry, Target
from config.base import StrictModel
from config.loader import LoadedConfig, load_config


class SeqConfig(StrictModel):
    points: int = Field(default=1, ge=1)
    # bytes of random padding (a text field; random because the disk queue compresses), to
    # fill a queue quickly
    pad: int = Field(default=0, ge=0)


class SeqSource:
    def __init__(self, cfg: SeqConfig) -> None:
        self.cfg = cfg
        self.produced: list[int] = []
        SeqSource.last = self

    last: SeqSource | None = None

    async def start(self) -> None:
        pass

    async def poll(self, target: Target) -> Sequence[Item]:
        now = time.time_ns()
        out: list[Item] = []
        pad = self.cfg.pad
        for slot in range(self.cfg.points):
            seq = len(self.produced)
            self.produced.append(seq)
            # `points` series, one sample each per poll: equal timestamps never collide,
            # and the set of series stays fixed (like real devices)
            fields: dict[str, int | float | bool | str] = {"value": seq}
            if pad:
                fields["pad"] = base64.b64encode(os.urandom(pad)).decode()[:pad]
            out.append(Metric("test_seq", {"slot": str(slot)}, fields, now))
        return out

    async def close(self) -> None:
        pass


SEQ_SPEC = PluginSpec(
    name="test_seq", kind=PluginKind.POLLER, config_model=SeqConfig,
    build=lambda cfg, ctx: SeqSource(cfg), description="test-only counting source",
    default_targets=DefaultTargets.SELF,
    measurements=(Measurement(
        "test_seq", "a unique, increasing sequence number per point",
        tags=(tag("slot", "which of the poll's points"),),
        fields=(counter("value", "", "the sequence number"),
                text("pad", "random padding to fill a queue"))),))


def registry() -> Registry:
    return Registry([*BUILTIN_SPECS, SEQ_SPEC])


def load(path: Path) -> LoadedConfig:
    return load_config(path, registry())


