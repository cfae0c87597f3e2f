"""Alert events to Alertmanager's v2 API (`POST /api/v2/alerts`).

Labels are the alert's identity (the same from raised to resolved, so Alertmanager matches
them); per-notification details go to annotations. A firing alert is sent with
`endsAt = now + firing_ttl_secs`: Alertmanager would otherwise resolve it after its own
`resolve_timeout` (5 min) because we send on change, not every 30 s like Prometheus does.
Keep `firing_ttl_secs` above the alerts processor's `renotify_secs`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re

from pydantic import Field, SecretStr

from agent.core.model import Event, EventState
from agent.core.plugin import Batch, BatchKind, BuildContext, Capability, PluginKind, PluginSpec
from agent.shared.alertorder import LatestPerKey
from agent.shared.alerts import identity_labels, is_alert, transient_labels
from config.base import SecretsFromFiles

_LABEL_RE = re.compile(r"[^a-zA-Z0-9_]")


class AlertmanagerConfig(SecretsFromFiles):
    url: str = Field(pattern=r"^https?://")  # base URL, e.g. http://alertmanager:9093
    firing_ttl_secs: float = Field(default=6 * 3600.0, gt=0)
    generator_url: str = ""
    extra_labels: dict[str, str] = Field(default_factory=dict)  # e.g. {source: campusmon}
    bearer_token: SecretStr | None = None
    timeout_secs: float = Field(default=10.0, gt=0)
    verify_tls: bool = True
    ca_file: str | None = None


def _rfc3339(ts_ns: int) -> str:
    return dt.datetime.fromtimestamp(ts_ns / 1e9, tz=dt.UTC).isoformat(timespec="milliseconds")


def label_name(name: str) -> str:
    """Prometheus label names are [a-zA-Z_][a-zA-Z0-9_]*."""
    out = _LABEL_RE.sub("_", name)
    return out if out and not out[0].isdigit() else f"_{out}"


def to_alertmanager(e: Event, cfg: AlertmanagerConfig) -> dict[str, object]:
    labels = {label_name(k): v for k, v in identity_labels(e).items() if v}
    labels.update(cfg.extra_labels)
    labels["severity"] = e.severity.value
    annotations = {"summary": e.summary, "key": e.key, **transient_labels(e)}
    alert: dict[str, object] = {"labels": labels, "annotations": annotations,
                                "startsAt": _rfc3339(e.ts_ns)}
    if e.state is EventState.RESOLVED:
        alert["endsAt"] = _rfc3339(e.ts_ns)
    else:
        alert["endsAt"] = _rfc3339(e.ts_ns + int(cfg.firing_ttl_secs * 1e9))
    if cfg.generator_url:
        alert["generatorURL"] = cfg.generator_url
    return alert


class AlertmanagerExporter:
    accepts = frozenset({BatchKind.EVENTS})
    wants_objects = True

    def __init__(self, cfg: AlertmanagerConfig) -> None:
        # httpjson (urllib.request, http.client) loads with the exporter, not with the SPEC
        from agent.shared.httpjson import tls_context

        self.cfg = cfg
        self._ctx = tls_context(cfg.verify_tls, cfg.ca_file)
        self._endpoint = cfg.url.rstrip("/") + "/api/v2/alerts"
        self.order = LatestPerKey()

    async def start(self) -> None:
        """One POST per batch; nothing to open."""

    async def write(self, batch: Batch) -> None:
        events = self.order.current([e for e in batch.events if is_alert(e)])
        if not events:
            return
        # one entry per alert: the newest state of each key in this batch
        newest = {e.key: e for e in events}
        alerts = [to_alertmanager(e, self.cfg) for e in newest.values()]
        headers = {}
        if self.cfg.bearer_token is not None:
            headers["Authorization"] = f"Bearer {self.cfg.bearer_token.get_secret_value()}"
        from agent.shared.httpjson import post_json

        await asyncio.to_thread(post_json, self._endpoint, alerts, headers=headers,
                                timeout_s=self.cfg.timeout_secs, context=self._ctx)
        self.order.delivered(events)

    async def close(self) -> None:
        """Nothing held open."""


def build(cfg: AlertmanagerConfig, ctx: BuildContext) -> AlertmanagerExporter:
    return AlertmanagerExporter(cfg)


SPEC = PluginSpec(
    name="alertmanager", kind=PluginKind.PUSH_EXPORTER, config_model=AlertmanagerConfig,
    build=build, description="alert events to Alertmanager's v2 API, behind a disk queue",
    example={"type": "alertmanager", "url": "http://127.0.0.1:9093"},
    capabilities=Capability.DECODED_BATCHES,
)
