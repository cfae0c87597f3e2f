"""The local alert log: every alert event as a JSON line on the agent's own disk.

It needs nothing but the local disk, so while the centre is unreachable the campus still has a
record of every alert raised and resolved (`campusmon alerts` shows it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from pydantic import Field

from agent.core.plugin import Batch, BatchKind, BuildContext, Capability, PluginKind, PluginSpec
from agent.shared.alerts import is_alert
from config.base import StrictModel
from exporters.alertlog.logfile import RotatingJsonLines


class AlertLogConfig(StrictModel):
    path: str = "alerts/alerts.jsonl"  # relative to the agent's data_dir
    max_megabytes: float = Field(default=16.0, gt=0)
    backups: int = Field(default=5, ge=0)
    fsync: bool = False
    only_alerts: bool = True  # False: also the raw events the alerts were derived from


class AlertLogExporter:
    accepts = frozenset({BatchKind.EVENTS})
    wants_objects = True

    def __init__(self, cfg: AlertLogConfig, data_dir: Path) -> None:
        self.cfg = cfg
        path = Path(cfg.path)
        self.log = RotatingJsonLines(path if path.is_absolute() else data_dir / path,
                                     int(cfg.max_megabytes * 2**20), cfg.backups, cfg.fsync)

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
