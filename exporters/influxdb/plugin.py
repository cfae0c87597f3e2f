"""Influx line protocol to VictoriaMetrics (/api/v2/write) or InfluxDB 2.x/3.x."""

from __future__ import annotations

import asyncio

from pydantic import Field, SecretStr

from agent.plugin import Batch, BatchKind, BuildContext, PluginKind, PluginSpec
from config.base import SecretsFromFiles
from exporters.influxdb.client import LineWriter


class InfluxConfig(SecretsFromFiles):
    url: str = Field(pattern=r"^https?://")
    bucket: str = "campusmon"
    org: str = "campusmon"
    token: SecretStr | None = None
    timeout_secs: float = Field(default=10.0, gt=0)
    gzip: bool = True
    verify_tls: bool = True
    ca_file: str | None = None


class InfluxExporter:
    accepts = frozenset({BatchKind.METRICS})

    def __init__(self, cfg: InfluxConfig) -> None:
        self.cfg = cfg
        self._writer: LineWriter | None = None

    async def start(self) -> None:
        self._writer = LineWriter(
            url=self.cfg.url, token=self.cfg.token.get_secret_value() if self.cfg.token else "",
            org=self.cfg.org, bucket=self.cfg.bucket, timeout_s=self.cfg.timeout_secs,
            gzip=self.cfg.gzip, verify_ssl=self.cfg.verify_tls, ca_file=self.cfg.ca_file)

    async def write(self, batch: Batch) -> None:
        if self._writer is None:
            await self.start()
        assert self._writer is not None
        await asyncio.to_thread(self._writer.write, "\n".join(batch.lines))

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def build(cfg: InfluxConfig, ctx: BuildContext) -> InfluxExporter:
    return InfluxExporter(cfg)


SPEC = PluginSpec(
    name="influxdb", kind=PluginKind.PUSH_EXPORTER, config_model=InfluxConfig, build=build,
    description="Influx line protocol to VictoriaMetrics or InfluxDB, behind a disk queue",
    example={"type": "influxdb", "url": "http://127.0.0.1:8428"},
)
