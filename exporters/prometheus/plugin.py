"""A Prometheus endpoint over the last-value snapshot (pull; no disk queue).

Bound to 127.0.0.1 unless configured: the campus LAN should not read the agent's view of
its own network by default. Optional basic auth and TLS for a scrape across the network.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr, model_validator

from agent.core.catalogue import Catalogue
from agent.core.errors import StartupError
from agent.core.model import Metric
from agent.core.plugin import BuildContext, PluginKind, PluginSpec
from config.base import SecretsFromFiles

if TYPE_CHECKING:  # prometheus_client and wsgiref load when the exporter starts, not with the
    # SPEC that every start imports
    from exporters.prometheus.client import MetricsServer


class PrometheusConfig(SecretsFromFiles):
    listen_address: str = "127.0.0.1"
    port: int = Field(default=9273, ge=0, le=65535)  # 0: any free port (tests)
    path: str = Field(default="/metrics", pattern=r"^/")
    basic_auth_username: str | None = None
    basic_auth_password: SecretStr | None = None  # basic_auth_password_file: also accepted
    tls_cert_file: str | None = None
    tls_key_file: str | None = None

    @model_validator(mode="after")
    def _pairs(self) -> PrometheusConfig:
        if (self.basic_auth_username is None) != (self.basic_auth_password is None):
            raise ValueError("give both basic_auth_username and basic_auth_password, or neither")
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("give both tls_cert_file and tls_key_file, or neither")
        return self


class PrometheusExporter:
    def __init__(self, cfg: PrometheusConfig, current: Callable[[], list[Metric]],
                 catalogue: Catalogue | None = None,
                 on_skip: Callable[[str, str | None, str], None] | None = None) -> None:
        self.cfg = cfg
        self._current = current
        self._on_skip = on_skip  # a series left out of a scrape is counted (agent_rejected)
        self._catalogue = catalogue  # types and units of every field
        self._server: MetricsServer | None = None

    @property
    def port(self) -> int:
        return self._server.port if self._server is not None else self.cfg.port

    async def start(self) -> None:
        if self._server is not None:
            return
        from exporters.prometheus.client import MetricsServer

        c = self.cfg
        auth = None
        if c.basic_auth_username is not None and c.basic_auth_password is not None:
            auth = (c.basic_auth_username, c.basic_auth_password.get_secret_value())
        tls = (c.tls_cert_file, c.tls_key_file) if c.tls_cert_file and c.tls_key_file else None
        try:
            self._server = await asyncio.to_thread(
                MetricsServer, self._current, host=c.listen_address, port=c.port, path=c.path,
                basic_auth=auth, tls=tls, catalogue=self._catalogue, on_skip=self._on_skip)
        except OSError as exc:
            raise StartupError(f"prometheus: cannot listen on {c.listen_address}:{c.port}: "
                               f"{exc.strerror or exc}", retry=False) from None

    async def close(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            await asyncio.to_thread(server.close)


def build(cfg: PrometheusConfig, ctx: BuildContext) -> PrometheusExporter:
    snapshot = ctx.snapshot
    return PrometheusExporter(cfg, snapshot.current if snapshot is not None else list,
                              ctx.catalogue, ctx.reject)


SPEC = PluginSpec(
    name="prometheus", kind=PluginKind.PULL_EXPORTER, config_model=PrometheusConfig,
    build=build, description="Prometheus /metrics over the last value of every series",
    example={"type": "prometheus", "listen_address": "127.0.0.1", "port": 9273},
)
