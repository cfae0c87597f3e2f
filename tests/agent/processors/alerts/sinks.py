"""Every alert sink at once for end-to-end tests: Alertmanager, DingTalk and WeCom stand-ins,
MQTT (the mqtt exporter onto mosquitto, read back by a subscriber) and the local alert log."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from agent.core.plugin import PushExporter
from exporters.alertlog.plugin import AlertLogConfig, AlertLogExporter
from exporters.alertmanager.plugin import AlertmanagerConfig, AlertmanagerExporter
from exporters.mqtt.plugin import MqttEventsConfig, MqttEventsExporter
from exporters.webhook.plugin import WebhookConfig, WebhookExporter
from tests.exporters.alertmanager.amserver import Alertmanager
from tests.exporters.webhook.receiver import RobotReceiver
from tests.servers import Mosquitto

TOPIC = "campusmon/{campus}/alerts/{severity}/{kind}"


def all_sinks(tmp_path: Path, am: Alertmanager, robots: RobotReceiver,
              broker: Mosquitto, run: str) -> dict[str, PushExporter]:
    return {
        "am": AlertmanagerExporter(AlertmanagerConfig(url=am.url, extra_labels={"run": run})),
        "ding": WebhookExporter(WebhookConfig.model_validate({"receiver": {
            "kind": "dingtalk", "url": f"{robots.base}/robot/send",
            "access_token": robots.dingtalk_token, "secret": robots.dingtalk_secret}}),
            "webhook/ding"),
        "wecom": WebhookExporter(WebhookConfig.model_validate({"receiver": {
            "kind": "wecom", "url": f"{robots.base}/cgi-bin/webhook/send",
            "key": robots.wecom_key}}), "webhook/wecom"),
        "mqtt": MqttEventsExporter(MqttEventsConfig(
            host=broker.host, port=broker.port, topic=TOPIC, client_id=f"alerts-{run}")),
        "log": AlertLogExporter(AlertLogConfig(path=str(tmp_path / "alerts.jsonl")), tmp_path),
    }


@contextmanager
def mqtt_subscriber(broker: Mosquitto, topic: str) -> Iterator[list[dict[str, Any]]]:
    got: list[dict[str, Any]] = []
    ready = threading.Event()
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"sub-{time.time_ns()}")
    c.on_connect = lambda cl, *a: cl.subscribe(topic, qos=1)
    c.on_subscribe = lambda *a: ready.set()
    c.on_message = lambda cl, ud, msg: got.append({"topic": msg.topic,
                                                   **json.loads(msg.payload)})
    c.connect(broker.host, broker.port)
    c.loop_start()
    assert ready.wait(10), "subscription not acknowledged"
    try:
        yield got
    finally:
        c.disconnect()
        c.loop_stop()


def wait_until(cond: Any, secs: float = 10.0) -> None:
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline and not cond():
        time.sleep(0.05)


def alert_messages(got: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(m["key"], m["state"]) for m in got if "alertname" in m.get("labels", {})]


def logged(path: Path) -> list[tuple[str, str]]:
    if not path.exists():
        return []
    return [(r["key"], r["state"]) for r in map(json.loads, path.read_text().splitlines())]
