"""Pure parts without a broker: topic templates, payload models, hand-over, liveness, config."""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.core.errors import ConfigError
from agent.core.model import Event, Metric
from collectors.mqtt.classes import IotClass, class_of
from collectors.mqtt.client import BrokerOptions, Subscriber
from collectors.mqtt.config import MqttConfig
from collectors.mqtt.handover import HandOver, Received
from collectors.mqtt.ingest import Ingest
from collectors.mqtt.liveness import Liveness
from collectors.mqtt.payloads import (
    BadPayload,
    BadReason,
    decode_status,
    decode_telemetry,
    decode_telemetry_fields,
    telemetry_metrics,
)
from collectors.mqtt.plugin import subscriptions_for
from collectors.mqtt.topics import TopicTemplate
from config.credentials import SnmpV2cCredential
from inventory.models import Device, DeviceKind
from tests.collectors.mqtt.helpers import (
    inventory,
    iot_device,
    js,
    make_listener,
    targets_of,
    wait_for,
)


def test_topic_template_match_render_and_filters() -> None:
    t = TopicTemplate("campus/{campus}/{building}/{kind}/{device}/{stream}")
    m = t.match("campus/hn/teach-a/camera/cam-1/status")
    assert m is not None and (m.device, m.stream, m.kind) == ("cam-1", "status", "camera")
    assert t.match("campus/hn/teach-a/camera/cam-1") is None  # too short
    assert t.match("other/hn/teach-a/camera/cam-1/status") is None
    assert t.match("campus/hn/teach-a/camera//status") is None  # empty device
    assert t.subscription() == "campus/+/+/+/+/+"
    assert t.subscription("status") == "campus/+/+/+/+/status"
    assert t.render(campus="c", building="b", kind="k", device="d", stream="s") == \
        "campus/c/b/k/d/s"
    plain = TopicTemplate("iot/{device}", default_stream="telemetry")
    m2 = plain.match("iot/env-1")
    assert m2 is not None and m2.stream == "telemetry" and not plain.has_stream


@pytest.mark.parametrize("bad", ["campus/{device", "campus/+/{device}", "campus/{nope}/{device}",
                                 "campus/{campus}", "campus/x{device}"])
def test_topic_template_errors(bad: str) -> None:
    with pytest.raises(ConfigError):
        TopicTemplate(bad)


def test_default_subscriptions_put_status_at_qos1() -> None:
    subs = dict(subscriptions_for(MqttConfig()))
    assert subs == {"campus/+/+/+/+/status": 1, "campus/+/+/+/+/event": 1,
                    "campus/+/+/+/+/telemetry": 0}
    cfg = MqttConfig.model_validate({"subscriptions": [{"topic": "x/#", "qos": 2}]})
    assert subscriptions_for(cfg) == [("x/#", 2)]


def test_payload_models() -> None:
    p = decode_telemetry(IotClass.ENV_SENSOR, b'{"temperature_c": 21, "fw_build": 7, '
                                              b'"ratio": 0.5, "name": "x", "flag": true, '
                                              b'"nested": {"a": 1}, "ts": 1.0}')
    assert p.numeric_fields() == {"temperature_c": 21, "fw_build": 7, "ratio": 0.5, "flag": 1}
    with pytest.raises(BadPayload) as e:
        decode_telemetry(IotClass.ENV_SENSOR, b'{"temperature_c": "21"}')  # strict: no coercion
    assert e.value.reason is BadReason.SCHEMA
    with pytest.raises(BadPayload) as e:
        decode_telemetry(IotClass.CPE_5G, b'{"rsrp_dbm": -90')
    assert e.value.reason is BadReason.JSON
    with pytest.raises(BadPayload):
        decode_telemetry(IotClass.CPE_5G, b'{"rsrp_dbm": -20, "rsrq_db": -10, "sinr_db": 5, '
                                          b'"band": "n78"}')  # RSRP above -31 dBm
    with pytest.raises(BadPayload):
        decode_telemetry(IotClass.PAYMENT, b'{"amount_fen_total": 12.5}')  # fen are integers
    assert decode_status(b"offline").state == "offline"
    assert decode_status(b" ONLINE ").state == "online"
    assert decode_status(b'{"state": "online", "uptime_s": 5}').numeric_fields() == \
        {"uptime_s": 5}
    with pytest.raises(BadPayload):
        decode_status(b'{"state": "sleeping"}')


def test_nan_and_infinity_are_dropped() -> None:
    p = decode_telemetry(IotClass.CAMERA, b'{"fps": 25, "x": 1e999}')
    assert p.numeric_fields() == {"fps": 25}
    assert all(not (isinstance(v, float) and math.isinf(v)) for v in p.numeric_fields().values())


def test_wifi_and_5g_metrics() -> None:
    p = decode_telemetry(IotClass.WIFI_SURVEY, b'{"readings": [{"band": "6GHz", '
                                               b'"rssi_dbm": -70, "noise_dbm": -95}]}')
    ms = telemetry_metrics(IotClass.WIFI_SURVEY, p, 1)
    assert [(m.name, dict(m.tags), dict(m.fields)) for m in ms] == [
        ("wifi_survey", {"band": "6GHz"}, {"rssi_dbm": -70, "noise_dbm": -95})]


def test_class_of_devices() -> None:
    wifi = iot_device("w", IotClass.WIFI_SURVEY)
    assert class_of(wifi) is IotClass.WIFI_SURVEY
    assert class_of(iot_device("e", IotClass.ENV_SENSOR)) is IotClass.ENV_SENSOR
    sw = Device(id="sw", kind=DeviceKind.ACCESS_SWITCH, campus="c", building=None, room=None)
    assert class_of(sw) is None
    labelled = Device(id="x", kind=DeviceKind.SENSOR, campus="c", building=None, room=None,
                      labels={"iot_class": "wifi_survey"})
    assert class_of(labelled) is IotClass.WIFI_SURVEY


async def test_handover_bounded_and_drops_counted() -> None:
    loop = asyncio.get_running_loop()
    got: list[Received] = []
    h = HandOver(loop, maxlen=100, consume=got.extend, batch_max=30)

    # 250 messages while the event loop cannot drain (it is running this code)
    for i in range(250):
        h.put(Received("t", str(i).encode(), False, 0, i))
    assert h.dropped == 150 and h.accepted == 100
    assert await wait_for(lambda: len(got) == 100, 5)
    assert [r.ts_ns for r in got] == list(range(100))  # order kept
    # from another thread after the queue ran dry: delivered (no lost wake-up)
    await asyncio.sleep(0.05)
    await asyncio.to_thread(h.put, Received("t", b"x", False, 0, 999))
    assert await wait_for(lambda: len(got) == 101, 5)
    assert got[-1].ts_ns == 999


async def test_handover_put_many_is_put_of_each_in_turn() -> None:
    """paho's thread hands over one read buffer's messages at once: the same messages are
    kept, in order, the same ones dropped and counted, as with `put` one at a time."""
    loop = asyncio.get_running_loop()
    got: list[Received] = []
    h = HandOver(loop, maxlen=100, consume=got.extend, batch_max=30)
    msgs = [Received("t", str(i).encode(), False, 0, i) for i in range(250)]
    h.put_many(msgs[:60])
    h.put_many([])
    h.put_many(msgs[60:130])  # 40 fit
    h.put_many(msgs[130:])  # none fit
    assert h.dropped == 150 and h.accepted == 100
    assert await wait_for(lambda: len(got) == 100, 5)
    assert [r.ts_ns for r in got] == list(range(100))
    await asyncio.sleep(0.05)  # ran dry: a batch from another thread still wakes it
    await asyncio.to_thread(h.put_many, msgs[:3])
    assert await wait_for(lambda: len(got) == 103, 5)
    h.closed = True
    h.put_many(msgs[:3])
    assert h.accepted == 103


def test_liveness_logic() -> None:
    lv = Liveness(stale_factor=1.5)
    lv.track("d", IotClass.CAMERA, 10.0, now_mono=0.0)
    assert lv.tick(14.0, 0) == []  # never seen, but within 1.5 × 10 s of the start
    [ev] = lv.tick(15.1, 0)
    assert ev.kind == "device_down" and ev.labels["reason"] == "never_seen"
    up = lv.seen("d", 16.0, 1)
    assert up is not None and up.kind == "device_up"
    assert lv.seen("d", 17.0, 2) is None
    assert lv.tick(31.0, 3) == []
    [ev] = lv.tick(32.1, 4)
    assert ev.labels["reason"] == "stale"
    assert lv.tick(40.0, 5) == []  # one event per transition
    # an offline stamped before the last sign of life is history
    lv.seen("d", 41.0, 10_000)
    assert lv.offline("d", "offline_status", 10_001, device_wall_ns=9_000) is None
    assert lv.offline("d", "offline_status", 10_002, device_wall_ns=10_001) is not None


def test_config_validation(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        MqttConfig.model_validate({"tls": {"ca_file": "ca.pem", "cert_file": "c.pem"}})
    with pytest.raises(ValidationError):
        MqttConfig(reconnect_min_secs=10, reconnect_max_secs=5)
    with pytest.raises(ValidationError):
        MqttConfig.model_validate({"heartbeat_secs": {"toaster": 5}})
    assert MqttConfig.model_validate({"tls": {"ca_file": "x"}}).effective_port == 8883
    inv = inventory([])
    with pytest.raises(ConfigError, match="unknown credential"):
        make_listener({"credential": "nope"}, inv, tmp_path)
    v2c = SnmpV2cCredential.model_validate({"name": "v2c", "type": "snmp_v2c",
                                            "community": "public"})
    with pytest.raises(ConfigError, match="user_password"):
        make_listener({"credential": "v2c"}, inv, tmp_path, credentials={"v2c": v2c})
    with pytest.raises(ConfigError, match="does not exist"):
        make_listener({"tls": {"ca_file": "missing.pem"}}, inv, tmp_path)


def test_ingest_unregistered_unmatched_and_retained() -> None:
    dev = iot_device("env-x", IotClass.ENV_SENSOR, heartbeat_secs=10)
    inv = inventory([dev])
    ing = Ingest(MqttConfig(max_unregistered_tracked=2), targets_of(inv), now_mono=0.0)
    now = time.time_ns()

    def msg(topic: str, payload: bytes, retained: bool = False) -> Received:
        return Received(topic, payload, retained, 0, now)

    base = "campus/t-campus/a/sensor"
    out = ing.process([
        msg(f"{base}/ghost-1/telemetry", b"{}"), msg(f"{base}/ghost-1/status", b"online"),
        msg(f"{base}/ghost-2/telemetry", b"{}"), msg(f"{base}/ghost-3/telemetry", b"{}"),
        msg("elsewhere/x", b"{}"),
        msg(f"{base}/env-x/telemetry", b'{"co2_ppm": 500}', retained=True),  # no ts: skipped
        msg(f"{base}/env-x/telemetry", js({"co2_ppm": 600, "ts": now / 1e9 - 5}), True),
        msg(f"{base}/env-x/config", b"{}"),
    ], now_mono=1.0)
    t = ing.totals
    assert (t.unregistered_messages, t.unregistered_overflow, t.unmatched_topics) == (4, 1, 1)
    assert t.retained_skipped == 1
    events = [i for _, items in out.values() for i in items if isinstance(i, Event)]
    assert sorted(e.labels["device_id"] for e in events) == ["ghost-1", "ghost-2"]  # once each
    metrics = [i for i in out["env-x"][1] if isinstance(i, Metric)]
    assert [m.fields["co2_ppm"] for m in metrics] == [600]
    assert abs(metrics[0].ts_ns - (now - 5 * 10**9)) < 10**6  # stamped by the device
    assert ing.devices["env-x"].topics[f"{base}/env-x/config"].by_reason == {BadReason.STREAM: 1}
    report = ing.report(2.0, now)
    assert [getattr(m, "name", "") for m in report[""][1]] == ["iot_unregistered"] * 2


def test_other_campus_on_a_shared_broker() -> None:
    inv = inventory([iot_device("env-x", IotClass.ENV_SENSOR)])
    ing = Ingest(MqttConfig(), targets_of(inv), 0.0, campus="t-campus")
    ing.process([Received("campus/other/a/sensor/env-x/telemetry", b"{}", False, 0, 1),
                 Received("campus/other/a/sensor/ghost/telemetry", b"{}", False, 0, 1)], 1.0)
    assert ing.totals.other_campus == 2 and not ing.unregistered
    assert ing.devices["env-x"].messages == 0


def test_network_thread_callback_never_raises() -> None:
    """A message paho cannot decode is counted and dropped; the callback returns normally."""
    got: list[Received] = []
    sub = Subscriber(BrokerOptions("127.0.0.1", 1, "x"), [("t/#", 0)], got.append)

    class BadTopic:
        @property
        def topic(self) -> str:
            raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")

        payload, retain, qos = b"{}", 0, 0

    sub._on_message(sub._client, None, BadTopic())  # type: ignore[arg-type]
    assert sub.stats.undecodable == 1 and got == []


def test_integers_past_int64_and_float_range_are_a_bad_payload() -> None:
    huge = b"1" + b"0" * 400  # 401 digits: past the float range too
    with pytest.raises(BadPayload) as info:
        decode_telemetry(IotClass.CAMERA, b'{"fps": 25, "x": ' + huge + b"}")
    assert info.value.reason is BadReason.SCHEMA and "int64" in info.value.detail
    with pytest.raises(BadPayload):
        decode_telemetry(IotClass.PAYMENT, b'{"amount_fen_total": ' + huge + b"}")
    assert decode_telemetry(IotClass.CAMERA, b'{"x": 18446744073709551615}').numeric_fields() \
        == {"x": 2**64 - 1}


def test_ingest_decoding_matches_decode_telemetry() -> None:
    """The ingest path checks numbers and collects readings in one pass
    (`decode_telemetry_fields`); it accepts, rejects (reason and detail) and yields exactly
    what `decode_telemetry` + `numeric_fields` + `telemetry_metrics` do."""
    huge = b"1" + b"0" * 400
    cases = [
        (IotClass.ENV_SENSOR, b'{"temperature_c": 21, "fw_build": 7, "ratio": 0.5, '
                              b'"flag": true, "name": "x", "nested": {"a": 1}, "ts": 5}'),
        (IotClass.CAMERA, b'{"fps": 25, "x": 1e999, "y": -1e999}'),
        (IotClass.CAMERA, b'{"fps": 25, "x": ' + huge + b"}"),
        (IotClass.CAMERA, b'{"ts": ' + huge + b"}"),
        (IotClass.CAMERA, b'{"x": 18446744073709551615, "z": -9223372036854775808}'),
        (IotClass.CAMERA, b'{"x": 18446744073709551616}'),
        (IotClass.PAYMENT, b'{"amount_fen_total": 12.5}'),
        (IotClass.ENV_SENSOR, b'{"temperature_c": "21"}'),
        (IotClass.CPE_5G, b'{"rsrp_dbm": -90'),
        (IotClass.CPE_5G, b'{"rsrp_dbm": -90, "rsrq_db": -10, "sinr_db": 5, "band": "n78", '
                          b'"cell": "PCI-1", "dl_mbps": 300, "extra_db": 2}'),
        (IotClass.WIFI_SURVEY, b'{"readings": [{"band": "5GHz", "rssi_dbm": -60, '
                               b'"channel": 36}], "scan_ms": 40}'),
        (IotClass.ENV_SENSOR, b"[1, 2]"),
        (IotClass.ENV_SENSOR, b"\xff\xfe"),
        # every declared field a float (the usual telemetry), with extras
        (IotClass.ENV_SENSOR, b'{"temperature_c": 21.5, "humidity_percent": 50.1, "co2_ppm": 700, '
                              b'"pm25_ugm3": 8, "noise_db": 40.5, "illuminance_lux": 300, '
                              b'"ts": 1.5, "seq": 7, "fw": "v1", "big": 18446744073709551616}'),
        (IotClass.ENV_SENSOR, b'{"temperature_c": 21.5, "humidity_percent": 50.1, "co2_ppm": 700, '
                              b'"pm25_ugm3": 8, "noise_db": 40.5, "illuminance_lux": 300, '
                              b'"ts": 1.5, "seq": 7, "x": 0.5}'),
        # … with an infinite reading, and finite ones whose sum overflows
        (IotClass.ENV_SENSOR, b'{"temperature_c": 21.5, "humidity_percent": 50.1, "co2_ppm": 700, '
                              b'"pm25_ugm3": 8, "noise_db": 40.5, "illuminance_lux": 1e999, '
                              b'"ts": 1.5}'),
        (IotClass.ENV_SENSOR, b'{"temperature_c": 21.5, "humidity_percent": 50.1, "co2_ppm": 700, '
                              b'"pm25_ugm3": 8, "noise_db": 40.5, "illuminance_lux": 1.7e308, '
                              b'"ts": 1.7e308}'),
    ]
    for cls, data in cases:
        try:
            p = decode_telemetry(cls, data)
        except BadPayload as exc:
            with pytest.raises(BadPayload) as info:
                decode_telemetry_fields(cls, data)
            assert (info.value.reason, info.value.detail) == (exc.reason, exc.detail), data
            continue
        q, numeric = decode_telemetry_fields(cls, data)
        assert q == p and numeric == p.numeric_fields(), data
        assert list(numeric) == list(p.numeric_fields()), data  # the same order too
        assert telemetry_metrics(cls, q, 9, numeric) == telemetry_metrics(cls, p, 9), data


def test_topic_match_cache_keeps_no_long_topics() -> None:
    """Topics may be 64 KiB: long ones are matched every time, never kept, so random long
    topics from any publisher cannot fill the agent's memory; short ones are cached."""
    inv = inventory([iot_device("env-x", IotClass.ENV_SENSOR)])
    ing = Ingest(MqttConfig(), targets_of(inv), 0.0, campus="t-campus")
    long_topic = "campus/t-campus/a/sensor/" + "x" * 60_000 + "/telemetry"
    ing.process([Received(long_topic, b"{}", False, 0, 1),
                 Received("campus/t-campus/a/sensor/ghost/telemetry", b"{}", False, 0, 1)], 1.0)
    assert long_topic not in ing._matches
    assert "campus/t-campus/a/sensor/ghost/telemetry" in ing._matches
    assert ing.totals.messages == 2
