"""The `info_systems` poller: the school's information systems listed in the inventory (a
device's labels `system` and `system_url`: the system it hosts and where users reach it) are
fetched over HTTP(S) for what they run on — the Server / X-Powered-By headers or the error page
name the middleware (agent/shared/platforms.py d.4 rules), the TLS certificate's issuer is
kept, an SM2 (国密) certificate is flagged. One `info_system_http` row per system; the
localization audit joins it with the hosting server's facts (`server_platform`).

Targets are the inventory devices; one without `system_url` yields nothing. The URL's host is
resolved by the system resolver; the fetch is bounded (timeout, body size, redirects).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

from pydantic import Field

from agent.core.catalogue import Measurement, state, tag
from agent.core.errors import CollectError
from agent.core.model import Item, Metric
from agent.core.plugin import BuildContext, DefaultTargets, PluginKind, PluginSpec, Target
from agent.shared.platforms import software_from_http
from config.base import StrictModel
from probes.common import Endpoint, Family, ProbeFailure
from probes.http import fetch
from probes.resolve import Resolver

MEASUREMENTS: tuple[Measurement, ...] = (
    Measurement(
        "info_system_http", "an information system's web front: what it runs on (HTTP headers "
        "or error page, d.4 rules) and its TLS certificate (issuer, SM2/国密)",
        tags=(tag("system", "the system (inventory label `system`)"),
              tag("url", "the URL fetched (inventory label `system_url`)"),
              tag("server_header", "Server header (bounded)"),
              tag("powered_by", "X-Powered-By header (bounded)"),
              tag("platform_vendor", "middleware vendor by the catalogue, unknown when none"),
              tag("product", "middleware product named by the headers or page"),
              tag("domestic", "yes / no / unknown"),
              tag("rule", "the d.4 rule that decided, none otherwise"),
              tag("tls_issuer", "issuer DN of the TLS certificate (https)")),
        fields=(state("up", "1 an HTTP answer arrived, 0 none"),
                state("tls_sm2", "1 the certificate has an SM2 key or SM3withSM2 signature"))),
)


class InfoSystemsConfig(StrictModel):
    verify_tls: bool = False  # a school's self-signed or 国密 certificate is still a finding
    resolvers: list[str] = Field(default_factory=list)  # empty: the system resolver
    max_body_bytes: int = Field(default=65536, ge=1024, le=2**20)


class InfoSystemsPoller:
    def __init__(self, cfg: InfoSystemsConfig, timeout_s: float) -> None:
        self.cfg = cfg
        self.timeout_s = timeout_s
        self.resolver = Resolver(cfg.resolvers)

    async def start(self) -> None:
        return None

    async def poll(self, target: Target) -> Sequence[Item]:
        dev = target.device
        url = dev.labels.get("system_url", "") if dev is not None else ""
        if dev is None or not url:
            return []
        system = dev.labels.get("system", target.id)
        host = urlsplit(url).hostname or ""
        try:
            ip = ipaddress.ip_address(host)
            ep = Endpoint(Family.IPV6 if ip.version == 6 else Family.IPV4, host)
        except ValueError:
            try:
                ep = Endpoint(Family.IPV4, await self.resolver.resolve(host, Family.IPV4), host)
            except ProbeFailure as exc:
                raise CollectError(exc.error_type, f"{target.id}: {url}: {exc}") from None
        try:
            res = await fetch(url, ep, self.resolver.resolve, timeout_s=self.timeout_s,
                              verify_tls=self.cfg.verify_tls,
                              max_body_bytes=self.cfg.max_body_bytes)
        except ProbeFailure:
            return [Metric("info_system_http", {"system": system, "url": url[:256]},
                           {"up": 0, "tls_sm2": 0})]
        server = res.headers.get("server", "")[:128]
        powered = res.headers.get("x-powered-by", "")[:128]
        body = res.body[:4096].decode("utf-8", errors="replace")
        v = software_from_http(f"{server}\n{powered}\n{body}")
        tags = {"system": system, "url": url[:256], "server_header": server,
                "powered_by": powered, "platform_vendor": v.vendor if v else "unknown",
                "product": v.product if v else "", "domestic": v.domestic if v else "unknown",
                "rule": v.rule if v else "no d.4 rule matched", "tls_issuer": res.tls_issuer}
        return [Metric("info_system_http", tags, {"up": 1, "tls_sm2": int(res.tls_sm2)})]

    async def close(self) -> None:
        return None


def build(cfg: InfoSystemsConfig, ctx: BuildContext) -> InfoSystemsPoller:
    return InfoSystemsPoller(cfg, ctx.timeout_s or 10.0)


SPEC = PluginSpec(
    name="info_systems", kind=PluginKind.POLLER, config_model=InfoSystemsConfig, build=build,
    description="the inventory's information systems over HTTP(S): middleware by headers, "
                "TLS issuer, SM2 (国密) certificates, for the 国产化 audit",
    example={"type": "info_systems", "interval_secs": 3600},
    default_targets=DefaultTargets.INVENTORY,
    measurements=MEASUREMENTS,
)
