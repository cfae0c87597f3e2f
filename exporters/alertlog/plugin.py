"""The local alert log: every alert event as a JSON line on the agent's own disk.

It needs nothing but the local disk, so while the centre is unreachable the campus still has a
record of every alert raised and resolved (`campusmon alerts` shows it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from agent.core.plugin import Batch, BatchKind, BuildContext, Capability, PluginKind, PluginSpec
from agent.shared.alertlog import AlertLogConfig
from agent.shared.alerts import is_alert

__all__ = ["SPEC", "AlertLogConfig", "AlertLogExporter"]


class AlertLogExporter:
    accepts = frozenset({BatchKind.EVENTS})
    wants_objects = True

    def __init__(self, cfg: AlertLogConfig, data_dir: Path) -> None:
        self.cfg = cfg
        self.log = cfg.log(data_dir)

    async def start(self) -> None:
        """The file is opened per batch."""

    async def write(self, batch: Batch) -> None:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        records = [{**e.to_json_dict(), "logged_at": now} for e in batch.events
                   if is_alert(e) or not self.cfg.only_alerts]
        if records:
            await asyncio.to_thread(self.log.append, records)

    async def close(self) -> None:
        """Nothing held open."""


def build(cfg: AlertLogConfig, ctx: BuildContext) -> AlertLogExporter:
    return AlertLogExporter(cfg, ctx.data_dir)


SPEC = PluginSpec(
    name="alertlog", kind=PluginKind.PUSH_EXPORTER, config_model=AlertLogConfig, build=build,
    description="local alert log: JSON lines on the agent's disk, size-bounded and rotated",
    example={"type": "alertlog"},
    capabilities=Capability.DECODED_BATCHES,
)
