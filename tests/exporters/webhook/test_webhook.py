"""Alert notifications to DingTalk, WeCom and a generic webhook, through the disk queue, into a
local receiver that stands in for the robots and verifies DingTalk's HMAC signature."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.core.errors import PermanentExportError, RetryableExportError
from agent.core.model import Event, EventState, Severity
from agent.core.plugin import Batch, BatchKind
from exporters.webhook.plugin import WebhookConfig, WebhookExporter
from exporters.webhook.robots import dingtalk_sign
from inventory.models import DeviceKind
from tests.agent.processors.alerts.helpers import FakeClock, campus, dev, icmp, processor
from tests.agent.processors.alerts.rig import Rig
from tests.exporters.webhook.receiver import RobotReceiver

INV = campus([dev(f"sw-{i}", DeviceKind.ACCESS_SWITCH) for i in range(300)])


@pytest.fixture
def robots() -> Iterator[RobotReceiver]:
    r = RobotReceiver().start()
    yield r
    r.stop()


def exporter(receiver: dict[str, Any], **kw: Any) -> WebhookExporter:
    return WebhookExporter(WebhookConfig.model_validate({"receiver": receiver, **kw}),
                           "webhook/test")


def dingtalk(robots: RobotReceiver, **kw: Any) -> WebhookExporter:
    return exporter({"kind": "dingtalk", "url": f"{robots.base}/robot/send",
                     "access_token": robots.dingtalk_token, "secret": robots.dingtalk_secret},
                    **kw)


def test_dingtalk_sign_matches_the_documented_example() -> None:
    """DingTalk's documented algorithm, step by step, on fixed input."""
    import base64
    import hashlib
    import hmac
    import urllib.parse
    ts, secret = 1700000000000, "SEC0123"
    digest = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    assert dingtalk_sign(ts, secret) == urllib.parse.quote_plus(base64.b64encode(digest))


@pytest.mark.timeout(60)
async def test_alerts_to_dingtalk_signed_through_the_disk_queue(
        tmp_path: Path, robots: RobotReceiver) -> None:
    clock = FakeClock(now_ns=time.time_ns())
    proc = processor(INV, clock, {"overrides": {"device_down_icmp": {"for_secs": 0}}},
                     rule_names=["device_down_icmp"])
    rig = Rig(tmp_path, proc, {"ding": dingtalk(robots, title_prefix="[校园网告警] ")})
    rig.submit([icmp(INV, "sw-1", False), icmp(INV, "sw-2", False)])
    await rig.flush()
    assert await rig.deliver("ding") == 2
    clock.advance(60)
    rig.submit([icmp(INV, "sw-1", True)])
    await rig.flush()
    assert await rig.deliver("ding") == 1
    assert [r.verdict for r in robots.received] == ["ok", "ok"]
    first, second = (r.body["markdown"] for r in robots.received)
    assert first["title"] == "[校园网告警] campusmon: 2 firing, 0 resolved"
    assert "sw-1 (access_switch, teach-a/teach-a-101) does not answer ping" in first["text"]
    assert "sw-2" in first["text"] and "告警 FIRING" in first["text"]
    assert "恢复 RESOLVED" in second["text"] and "sw-2" not in second["text"]
    rig.close()


@pytest.mark.timeout(60)
async def test_dingtalk_refusals_are_typed(robots: RobotReceiver) -> None:
    ev = Event("k", "rogue_dhcp", EventState.RAISED, Severity.CRITICAL, "rogue DHCP",
               labels={"alertname": "rogue_dhcp"})
    batch = Batch(BatchKind.EVENTS, ["{}"], events=[ev])
    robots.rate_limit_next = 1
    with pytest.raises(RetryableExportError) as info:
        await dingtalk(robots).write(batch)
    assert info.value.retry_after_s == 60.0
    bad = exporter({"kind": "dingtalk", "url": f"{robots.base}/robot/send",
                    "access_token": robots.dingtalk_token, "secret": "SECwrong"})
    with pytest.raises(PermanentExportError, match="310000"):
        await bad.write(batch)
    assert [r.verdict for r in robots.received] == ["rate limited", "bad signature"]


@pytest.mark.timeout(60)
async def test_alert_storm_to_wecom_is_one_message_within_limits(
        tmp_path: Path, robots: RobotReceiver) -> None:
    clock = FakeClock(now_ns=time.time_ns())
    proc = processor(INV, clock, {"overrides": {"device_down_icmp": {"for_secs": 0}}},
                     rule_names=["device_down_icmp"])
    wecom = exporter({"kind": "wecom", "url": f"{robots.base}/cgi-bin/webhook/send",
                      "key": robots.wecom_key})
    rig = Rig(tmp_path, proc, {"wecom": wecom})
    rig.submit([icmp(INV, f"sw-{i}", False) for i in range(300)])
    await rig.flush()
    assert await rig.deliver("wecom") == 300
    assert len(robots.received) == 1 and robots.received[0].verdict == "ok"
    content = robots.received[0].body["markdown"]["content"]
    assert "campusmon: 300 firing" in content
    assert "more alerts (see the alert log)" in content
    rig.close()


@pytest.mark.timeout(60)
async def test_generic_webhook_and_min_severity(robots: RobotReceiver) -> None:
    exp = exporter({"kind": "generic", "url": f"{robots.base}/hook", "bearer_token":
                    robots.bearer}, min_severity="warning")
    events = [
        Event("a", "rogue_ra", EventState.RAISED, Severity.CRITICAL, "rogue RA",
              labels={"alertname": "rogue_ra", "notify_reason": "new", "campus": "hn-demo"}),
        Event("b", "audit_below_target", EventState.RAISED, Severity.INFO, "audit",
              labels={"alertname": "audit_below_target"}),
        Event("c", "rogue_ra", EventState.OBSERVED, Severity.CRITICAL, "raw producer event"),
    ]
    await exp.write(Batch(BatchKind.EVENTS, ["{}"] * 3, events=events))
    assert len(robots.received) == 1
    doc = robots.received[0].body
    assert [a["key"] for a in doc["alerts"]] == ["a"]
    assert doc["alerts"][0]["labels"] == {"alertname": "rogue_ra", "campus": "hn-demo"}
    assert doc["alerts"][0]["notify_reason"] == "new"
    unauth = exporter({"kind": "generic", "url": f"{robots.base}/hook"})
    with pytest.raises(PermanentExportError, match="401"):
        await unauth.write(Batch(BatchKind.EVENTS, ["{}"], events=events[:1]))


@pytest.mark.timeout(60)
async def test_superseded_raise_is_not_delivered_after_its_resolve(
        robots: RobotReceiver) -> None:
    """After an outage the queue sends live rows first: a resolve may go before the raise it
    ends. The raise, older than what was delivered for its key, is dropped."""
    exp = exporter({"kind": "generic", "url": f"{robots.base}/hook",
                    "bearer_token": robots.bearer})
    lab = {"alertname": "rogue_ra"}
    up = Event("k", "rogue_ra", EventState.RAISED, Severity.CRITICAL, "x", labels=lab, ts_ns=1)
    down = Event("k", "rogue_ra", EventState.RESOLVED, Severity.CRITICAL, "x", labels=lab,
                 ts_ns=2)
    await exp.write(Batch(BatchKind.EVENTS, ["{}"], events=[down]))
    await exp.write(Batch(BatchKind.EVENTS, ["{}"], events=[up]))
    assert len(robots.received) == 1 and exp.order.superseded == 1


def test_mentions_only_on_critical_raises() -> None:
    crit = Event("k", "rogue_dhcp", EventState.RAISED, Severity.CRITICAL, "rogue DHCP",
                 labels={"alertname": "rogue_dhcp"})
    warn = Event("k2", "insecure_telnet", EventState.RAISED, Severity.WARNING, "telnet",
                 labels={"alertname": "insecure_telnet"})
    ding = exporter({"kind": "dingtalk", "access_token": "t", "secret": "SECs",
                     "at_mobiles": ["13800000000"], "at_all_on_critical": True})
    url, body, _ = ding.request([crit], 1700000000000)
    assert url.startswith("https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=")
    assert body["at"] == {"atMobiles": ["13800000000"], "isAtAll": True}
    _, body, _ = ding.request([warn], 1700000000000)
    assert body["at"] == {"atMobiles": ["13800000000"], "isAtAll": False}
    wecom = exporter({"kind": "wecom", "key": "k", "mention_userids_on_critical": ["zhangsan"]})
    url, body, _ = wecom.request([crit], 0)
    assert url == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"
    assert body["markdown"]["content"].endswith("<@zhangsan>")  # type: ignore[index]
    _, body, _ = wecom.request([warn], 0)
    assert "<@zhangsan>" not in body["markdown"]["content"]  # type: ignore[index]
