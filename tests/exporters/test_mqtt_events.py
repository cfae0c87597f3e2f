"""The mqtt exporter against a real mosquitto: events as JSON on templated topics, QoS 1,
kept in the disk queue while the broker is down."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from agent.core.model import Event, EventState, Severity
from agent.core.plugin import BatchKind
from exporters.mqtt.plugin import MqttEventsConfig, MqttEventsExporter, topic_for
from tests.exporters.helpers import drain_all, make_output, self_signed
from tests.servers import Mosquitto, free_port, require_binary, start_mosquitto


@contextmanager
def subscriber(host: str, port: int, topic: str) -> Iterator[list[paho.MQTTMessage]]:
    got: list[paho.MQTTMessage] = []
    ready = threading.Event()
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{time.time_ns()}")
    c.on_connect = lambda cl, *a: cl.subscribe(topic, qos=1)
    c.on_subscribe = lambda *a: ready.set()
    c.on_message = lambda cl, ud, msg: got.append(msg)
    c.connect(host, port)
    c.loop_start()
    assert ready.wait(10)
    try:
        yield got
    finally:
        c.disconnect()
        c.loop_stop()


def _events(n: int) -> list[Event]:
    return [Event(key=f"rule:sw-{i}", kind="interface_down" if i % 2 else "rogue_dhcp",
                  state=EventState.RAISED, severity=Severity.CRITICAL,
                  summary=f"端口 GE0/0/{i} 断开", device=f"sw/{i}",
                  labels={"campus": "hnvc", "building": "教学楼A"}) for i in range(n)]


def _lines(events: list[Event]) -> list[str]:
    return [json.dumps(e.to_json_dict(), ensure_ascii=False) for e in events]


def _wait(cond: object, secs: float = 10) -> None:
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline and not cond():  # type: ignore[operator]
        time.sleep(0.05)


def test_topic_template_keeps_one_level_per_value() -> None:
    e = _events(2)[1]
    assert topic_for("campusmon/{campus}/events/{kind}/{device}", e) == \
        "campusmon/hnvc/events/interface_down/sw_1"
    with pytest.raises(ValueError):
        MqttEventsConfig(topic="campusmon/{nope}")
    with pytest.raises(ValueError):
        MqttEventsConfig(topic="campusmon/#")


@pytest.mark.timeout(60)
async def test_events_arrive_as_json_on_their_topics(mosquitto: Mosquitto, tmp_path: Path) -> None:
    events = _events(6)
    exp = MqttEventsExporter(MqttEventsConfig(host=mosquitto.host, port=mosquitto.port))
    out = make_output(tmp_path, exp, decode=True)
    with subscriber(mosquitto.host, mosquitto.port, "campusmon/hnvc/events/#") as got:
        out.sink.queue.put(BatchKind.EVENTS, _lines(events))
        await drain_all(out)
        _wait(lambda: len(got) >= 6)
        await exp.close()
    assert sorted((m.topic, json.loads(m.payload)["key"]) for m in got) == sorted(
        (f"campusmon/hnvc/events/{e.kind}", e.key) for e in events)
    first = next(json.loads(m.payload) for m in got if json.loads(m.payload)["key"] == "rule:sw-0")
    assert first == events[0].to_json_dict()
    assert all(m.qos == 1 for m in got)
    assert out.sink.stats.sent == 6


@pytest.mark.timeout(90)
async def test_broker_outage_keeps_events_until_it_returns(tmp_path: Path) -> None:
    port = free_port()
    broker = start_mosquitto(tmp_path / "broker", port=port)
    exp = MqttEventsExporter(MqttEventsConfig(host=broker.host, port=port, timeout_secs=2))
    out = make_output(tmp_path, exp, decode=True)
    try:
        await exp.start()
        broker.stop()
        events = _events(10)
        out.sink.queue.put(BatchKind.EVENTS, _lines(events))
        assert await out.deliver_once() == 0
        assert out.sink.queue.stats().items == 10  # nothing lost while the broker is down
        broker.start()
        with subscriber(broker.host, port, "campusmon/#") as got:
            await drain_all(out, limit_s=40)
            _wait(lambda: len(got) >= 10)
        keys = [json.loads(m.payload)["key"] for m in got]
        assert sorted(keys) == sorted(e.key for e in events)
        assert len(keys) == len(set(keys))
    finally:
        await exp.close()
        broker.stop()


def _tls_files() -> tuple[Path, Path, Path, Path]:
    """(dir, cert, key, passwd) in a world-readable directory: mosquitto drops root for its
    own user before it reads them."""
    shared = Path(tempfile.mkdtemp(prefix="campusmon-mqtt-exp-"))
    shared.chmod(0o755)
    cert, key = self_signed(shared)
    passwd = shared / "passwd"
    subprocess.run([require_binary("mosquitto_passwd"), "-b", "-c", str(passwd), "campusmon",
                    "s3cret-pw"], check=True, capture_output=True, timeout=30)
    for f in (cert, key, passwd):
        f.chmod(0o644)
    return shared, cert, key, passwd


@pytest.mark.timeout(90)
async def test_tls_and_password(tmp_path: Path) -> None:
    shared, cert, key, passwd = await asyncio.to_thread(_tls_files)
    try:
        port = free_port()
        broker = start_mosquitto(tmp_path / "broker", port=port, extra_conf=(
            f"certfile {cert}\nkeyfile {key}\ntls_version tlsv1.2\n"
            f"allow_anonymous false\npassword_file {passwd}\n"))
        try:
            exp = MqttEventsExporter(MqttEventsConfig.model_validate(
                {"host": "127.0.0.1", "port": port, "ca_file": str(cert),
                 "username": "campusmon", "password": "s3cret-pw", "timeout_secs": 5}))
            out = make_output(tmp_path / "q", exp, decode=True)
            out.sink.queue.put(BatchKind.EVENTS, _lines(_events(3)))
            await drain_all(out, limit_s=30)
            await exp.close()
            assert out.sink.stats.sent == 3
            wrong = MqttEventsExporter(MqttEventsConfig.model_validate(
                {"host": "127.0.0.1", "port": port, "ca_file": str(cert),
                 "username": "campusmon", "password": "nope", "timeout_secs": 2}))
            out2 = make_output(tmp_path / "q2", wrong, decode=True)
            out2.sink.queue.put(BatchKind.EVENTS, _lines(_events(2)))
            assert await out2.deliver_once() == 0  # refused login: kept, retried later
            assert out2.sink.queue.stats().items == 2
            await wrong.close()
        finally:
            broker.stop()
    finally:
        shutil.rmtree(shared, ignore_errors=True)
