"""Alert notifications to a generic webhook, a DingTalk (钉钉) or a WeCom (企业微信) group robot.

The receiver is a tagged union on `kind`. Each delivered batch becomes one request; only alert
events (label `alertname`) at or above `min_severity` are sent, the rest are acknowledged.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Literal

from pydantic import Field, SecretStr

from agent.core.model import Event, EventState, Severity
from agent.core.plugin import Batch, BatchKind, BuildContext, Capability, PluginKind, PluginSpec
from agent.shared.alertorder import LatestPerKey
from agent.shared.alerts import is_alert
from config.base import SecretsFromFiles, StrictModel
from exporters.webhook.message import generic_document, markdown, title
from exporters.webhook.robots import check_reply, dingtalk_url, wecom_url

_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
_URL = r"^https?://"


class GenericReceiver(SecretsFromFiles):
    kind: Literal["generic"]
    url: str = Field(pattern=_URL)
    bearer_token: SecretStr | None = None
    headers: dict[str, str] = Field(default_factory=dict)


class DingTalkReceiver(SecretsFromFiles):
    kind: Literal["dingtalk"]
    url: str = Field(default="https://oapi.dingtalk.com/robot/send", pattern=_URL)
    access_token: SecretStr
    secret: SecretStr | None = None  # 加签 secret (SEC…); strongly recommended
    at_mobiles: list[str] = Field(default_factory=list)
    at_all_on_critical: bool = False


class WeComReceiver(SecretsFromFiles):
    kind: Literal["wecom"]
    url: str = Field(default="https://qyapi.weixin.qq.com/cgi-bin/webhook/send", pattern=_URL)
    key: SecretStr
    # WeCom markdown mentions by userid (`<@userid>`), not by mobile number
    mention_userids_on_critical: list[str] = Field(default_factory=list)


Receiver = Annotated[GenericReceiver | DingTalkReceiver | WeComReceiver,
                     Field(discriminator="kind")]


class WebhookConfig(StrictModel):
    receiver: Receiver
    min_severity: Severity = Severity.INFO
    timeout_secs: float = Field(default=10.0, gt=0)
    verify_tls: bool = True
    ca_file: str | None = None
    timezone: str = "Asia/Shanghai"
    max_alerts_per_message: int = Field(default=20, ge=1)
    max_message_bytes: int = Field(default=4000, ge=512)  # WeCom markdown limit is 4096
    title_prefix: str = ""  # a DingTalk robot with a keyword check needs the keyword here


class WebhookExporter:
    accepts = frozenset({BatchKind.EVENTS})
    wants_objects = True

    def __init__(self, cfg: WebhookConfig, instance: str) -> None:
        self.cfg = cfg
        self.instance = instance
        # httpjson (urllib.request, http.client) loads with the exporter, not with the SPEC
        from agent.shared.httpjson import tls_context

        self._ctx = tls_context(cfg.verify_tls, cfg.ca_file)
        self.order = LatestPerKey()

    async def start(self) -> None:
        """One request per batch; nothing to open."""

    def select(self, events: list[Event] | tuple[Event, ...]) -> list[Event]:
        floor = _RANK[self.cfg.min_severity]
        return [e for e in events if is_alert(e) and _RANK[e.severity] >= floor]

    def request(self, events: list[Event], now_ms: int) -> tuple[str, dict[str, object],
                                                                 dict[str, str]]:
        """(url, body, headers) for one batch; pure, so tests check it without a server."""
        r = self.cfg.receiver
        if isinstance(r, GenericReceiver):
            headers = dict(r.headers)
            if r.bearer_token is not None:
                headers["Authorization"] = f"Bearer {r.bearer_token.get_secret_value()}"
            return r.url, generic_document(events, self.instance), headers
        text = markdown(events, tz=self.cfg.timezone, max_alerts=self.cfg.max_alerts_per_message,
                        max_bytes=self.cfg.max_message_bytes, prefix=self.cfg.title_prefix)
        critical = any(e.severity is Severity.CRITICAL and e.state is EventState.RAISED
                       for e in events)
        if isinstance(r, DingTalkReceiver):
            secret = r.secret.get_secret_value() if r.secret is not None else None
            url = dingtalk_url(r.url, r.access_token.get_secret_value(), secret, now_ms)
            mention = "".join(f" @{m}" for m in r.at_mobiles)
            return url, {
                "msgtype": "markdown",
                "markdown": {"title": f"{self.cfg.title_prefix}{title(events)}",
                             "text": text + (f"\n\n{mention}" if mention else "")},
                "at": {"atMobiles": r.at_mobiles,
                       "isAtAll": bool(r.at_all_on_critical and critical)},
            }, {}
        if r.mention_userids_on_critical and critical:
            text += "\n" + " ".join(f"<@{u}>" for u in r.mention_userids_on_critical)
        body: dict[str, object] = {"msgtype": "markdown", "markdown": {"content": text}}
        return wecom_url(r.url, r.key.get_secret_value()), body, {}

    async def write(self, batch: Batch) -> None:
        events = self.order.current(self.select(list(batch.events)))
        if not events:
            return
        url, body, headers = self.request(events, int(time.time() * 1000))
        from agent.shared.httpjson import post_json

        reply = await asyncio.to_thread(post_json, url, body, headers=headers,
                                        timeout_s=self.cfg.timeout_secs, context=self._ctx)
        kind = self.cfg.receiver.kind
        if kind != "generic":
            check_reply(kind, reply)
        self.order.delivered(events)

    async def close(self) -> None:
        """Nothing held open."""


def build(cfg: WebhookConfig, ctx: BuildContext) -> WebhookExporter:
    return WebhookExporter(cfg, ctx.instance)


SPEC = PluginSpec(
    name="webhook", kind=PluginKind.PUSH_EXPORTER, config_model=WebhookConfig, build=build,
    description="alert notifications to a generic webhook, DingTalk or WeCom group robot",
    example={"type": "webhook", "receiver": {"kind": "dingtalk", "access_token": "x",
                                             "secret": "SECx"}},
    capabilities=Capability.DECODED_BATCHES,
)
