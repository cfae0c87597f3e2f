"""The `web_ipv6` poller: the national website IPv6-support test per site, every interval.

Targets are sites: static targets with a `hostname` (and `port` 443 for https), or inventory
devices offering `http`/`https`; `urls` overrides the homepage URL per target id. Emits the
`web_ipv6_support` metric; the full JSON result (result.py) is kept per site in `last` for
the audit and report, and written to `<data_dir>/web_ipv6/<site>.json` when `save_json`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from pathlib import Path

from pydantic import Field

from agent.core.errors import CollectError
from agent.core.model import ErrorType, Item
from agent.core.plugin import BuildContext, DefaultTargets, PluginKind, PluginSpec, Target
from probes.web_ipv6.cli import register as register_cli
from probes.web_ipv6.config import WebIpv6Options
from probes.web_ipv6.measurements import MEASUREMENTS
from probes.web_ipv6.result import WebIpv6Result


class WebIpv6Config(WebIpv6Options):
    urls: dict[str, str] = Field(default_factory=dict)  # target id → homepage URL
    save_json: bool = True


def homepage_of(target: Target, urls: dict[str, str]) -> str | None:
    if target.id in urls:
        return urls[target.id]
    host = target.hostname or target.ipv4 or (f"[{target.ipv6}]" if target.ipv6 else None)
    if host is None:
        return None
    services = target.device.services if target.device is not None else frozenset()
    https = target.port == 443 or ("https" in services and "http" not in services)
    port = "" if target.port in (None, 80, 443) else f":{target.port}"
    return f"{'https' if https else 'http'}://{host}{port}/"


class WebIpv6Poller:
    def __init__(self, cfg: WebIpv6Config, out_dir: Path | None) -> None:
        self.cfg = cfg
        self.out_dir = out_dir
        self.last: dict[str, WebIpv6Result] = {}

    async def start(self) -> None:
        return None

    async def poll(self, target: Target) -> Sequence[Item]:
        url = homepage_of(target, self.cfg.urls)
        if url is None:
            raise CollectError(ErrorType.PARSE, f"{target.id}: no hostname or URL to test")
        from probes.web_ipv6.check import SiteCheck  # dnspython/cryptography only when used
        result = await SiteCheck(url, self.cfg).run()
        self.last[target.id] = result
        if self.out_dir is not None and self.cfg.save_json:
            name = re.sub(r"[^A-Za-z0-9._-]", "_", result.site or target.id)
            await asyncio.to_thread(self._save, self.out_dir / f"{name}.json", result.to_json())
        return [result.metric()]

    @staticmethod
    def _save(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)

    async def close(self) -> None:
        return None


def build(cfg: WebIpv6Config, ctx: BuildContext) -> WebIpv6Poller:
    return WebIpv6Poller(cfg, ctx.data_dir / "web_ipv6")


SPEC = PluginSpec(
    name="web_ipv6", kind=PluginKind.POLLER, config_model=WebIpv6Config, build=build,
    description="website IPv6-support test (AAAA, IPv6 homepage, NS, content, links, latency)",
    example={"type": "web_ipv6", "interval_secs": 3600, "timeout_secs": 120,
             "targets": {"inventory": False, "static": [
                 {"id": "portal", "hostname": "www.example.edu.cn", "port": 443}]}},
    default_targets=DefaultTargets.NONE,
    measurements=MEASUREMENTS,
    cli=register_cli,
)
