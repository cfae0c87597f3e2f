"""Liveness against a real mosquitto: stale heartbeats, last wills, retained status."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from collectors.mqtt.classes import IotClass
from inventory.models import Device
from tests.collectors.mqtt.helpers import (
    Recorder,
    inventory,
    iot_device,
    js,
    make_listener,
    publisher,
    running,
    targets_of,
    topic,
    unique,
    wait_connected,
    wait_for,
)
from tests.servers import Mosquitto


@pytest.mark.timeout(60)
async def test_stale_heartbeat_goes_down_within_2x_and_comes_back(
        mosquitto: Mosquitto, tmp_path: Path) -> None:
    interval = 1.0
    dev = iot_device(unique("env"), IotClass.ENV_SENSOR, heartbeat_secs=interval)
    other = iot_device(unique("cam"), IotClass.CAMERA, heartbeat_secs=interval)
    inv = inventory([dev, other])
    rec = Recorder(targets_of(inv))
    lst = make_listener({"host": mosquitto.host, "port": mosquitto.port,
                         "report_interval_secs": 0.5, "liveness_tick_secs": 0.1}, inv, tmp_path)
    pub = publisher(mosquitto.host, mosquitto.port)
    try:
        async with running(lst, rec):
            await wait_connected(lst)

            async def beat(d: Device | None, n: int) -> float:
                last = 0.0
                for _ in range(n):
                    for x in (dev, other) if d is None else (d,):
                        pub.publish(topic(x, "status"), js({"state": "online"}), 1)
                    last = time.time()
                    await asyncio.sleep(interval)
                return last

            last_beat = await beat(None, 3)
            assert not rec.events("device_down")
            # dev falls silent; other keeps beating
            other_task = asyncio.create_task(beat(other, 4))
            assert await wait_for(lambda: bool(rec.events("device_down", dev.id)), 5)
            down = rec.events("device_down", dev.id)[0]
            assert down.labels["reason"] == "stale"
            assert down.ts_ns / 1e9 - last_beat <= 2 * interval
            rows = rec.metrics("iot_device", dev.id)
            assert await wait_for(lambda: rec.metrics("iot_device", dev.id)[-1].fields["up"] == 0,
                                  2)
            await other_task
            assert not rec.events("device_down", other.id)  # unaffected
            # and back
            pub.publish(topic(dev, "status"), js({"state": "online"}), 1)
            assert await wait_for(lambda: bool(rec.events("device_up", dev.id)), 5)
            assert await wait_for(lambda: rec.metrics("iot_device", dev.id)[-1].fields["up"] == 1,
                                  2)
            assert rows  # reported all along
    finally:
        pub.stop()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
async def test_last_will_marks_down_at_once(mosquitto: Mosquitto, tmp_path: Path,
                                            protocol: str) -> None:
    dev = iot_device(unique("door"), IotClass.DOOR_ACCESS, heartbeat_secs=300)
    inv = inventory([dev])
    rec = Recorder(targets_of(inv))
    lst = make_listener({"host": mosquitto.host, "port": mosquitto.port, "protocol": protocol,
                         "liveness_tick_secs": 0.1}, inv, tmp_path)
    will = js({"state": "offline", "reason": "last_will"})
    device = publisher(mosquitto.host, mosquitto.port, client_id=f"dev-{dev.id}",
                       protocol=protocol, will=(topic(dev, "status"), will, 1, True),
                       keepalive_secs=60)
    try:
        async with running(lst, rec):
            await wait_connected(lst)
            device.publish(topic(dev, "status"), js({"state": "online", "ts": time.time()}),
                           1, True)
            assert await wait_for(lambda: lst.ingest is not None
                                  and lst.ingest.liveness.devices[dev.id].up is True, 5)
            t0 = time.time()
            device.kill()  # the connection drops without DISCONNECT: the broker sends the will
            assert await wait_for(lambda: bool(rec.events("device_down", dev.id)), 5)
            down = rec.events("device_down", dev.id)[0]
            # at once: the heartbeat is 300 s, so only the will can explain this
            assert down.ts_ns / 1e9 - t0 < 3.0
            assert down.labels["reason"] == "offline_status"
            assert "last_will" in down.summary
    finally:
        device.stop()
        cleaner = publisher(mosquitto.host, mosquitto.port)  # the retained will, for others
        cleaner.wait_published([cleaner.publish(topic(dev, "status"), b"", 1, True)], 5)
        cleaner.stop()


@pytest.mark.timeout(60)
async def test_retained_status_at_subscription(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """Retained state is history: offline → down at once; an old online → not up; a fresh
    stamped online → up; an unstamped retained online proves nothing."""
    hb = 2.0
    dead = iot_device(unique("nvr"), IotClass.NVR, heartbeat_secs=hb)
    old = iot_device(unique("bc"), IotClass.BROADCAST, heartbeat_secs=hb)
    fresh = iot_device(unique("pos"), IotClass.PAYMENT, heartbeat_secs=hb)
    plain = iot_device(unique("bio"), IotClass.BIOMETRIC, heartbeat_secs=hb)
    inv = inventory([dead, old, fresh, plain])
    pub = publisher(mosquitto.host, mosquitto.port)
    now = time.time()
    infos = [
        pub.publish(topic(dead, "status"), js({"state": "offline", "ts": now - 60}), 1, True),
        pub.publish(topic(old, "status"), js({"state": "online", "ts": now - 3600}), 1, True),
        pub.publish(topic(fresh, "status"), js({"state": "online", "ts": now}), 1, True),
        pub.publish(topic(plain, "status"), b"online", 1, True),
    ]
    assert pub.wait_published(infos, 5)
    rec = Recorder(targets_of(inv))
    lst = make_listener({"host": mosquitto.host, "port": mosquitto.port,
                         "liveness_tick_secs": 0.1}, inv, tmp_path)
    try:
        async with running(lst, rec):
            await wait_connected(lst)
            assert await wait_for(lambda: bool(rec.events("device_down", dead.id)), 3)
            assert await wait_for(lambda: bool(rec.events("device_down", old.id)), 3)
            assert lst.ingest is not None
            lv = lst.ingest.liveness.devices
            assert lv[fresh.id].up is True
            assert lv[plain.id].up is None  # unknown until it speaks or goes stale
            assert rec.events("device_down", old.id)[0].labels["reason"] == "stale"
            assert not rec.events(device=fresh.id)
    finally:
        for d in (dead, old, fresh, plain):  # clear the retained messages for other tests
            pub.publish(topic(d, "status"), b"", 1, True)
        pub.stop()


@pytest.mark.timeout(90)
async def test_1000_malformed_payloads(mosquitto: Mosquitto, tmp_path: Path,
                                       caplog: pytest.LogCaptureFixture) -> None:
    good = [iot_device(unique("env"), IotClass.ENV_SENSOR, heartbeat_secs=60)
            for _ in range(3)]
    g5 = iot_device(unique("cpe"), IotClass.CPE_5G, heartbeat_secs=60)
    bad_a = iot_device(unique("cam"), IotClass.CAMERA, heartbeat_secs=60)
    bad_b = iot_device(unique("wifi"), IotClass.WIFI_SURVEY, heartbeat_secs=60)
    inv = inventory([*good, g5, bad_a, bad_b])
    rec = Recorder(targets_of(inv))
    lst = make_listener({"host": mosquitto.host, "port": mosquitto.port, "telemetry_qos": 1,
                         "max_payload_bytes": 4096, "report_interval_secs": 0.5},
                        inv, tmp_path)
    malformed = [
        b'{"fps": 25',                         # broken JSON
        b"\xff\xfe\x00garbage",                # not UTF-8
        b"",                                   # empty
        js({"fps": "twenty-five"}),            # wrong type
        js([1, 2, 3]),                         # not an object
        # invalid for both classes: fps out of range for the camera, no such band for Wi-Fi
        js({"fps": -1, "readings": [{"band": "7GHz", "rssi_dbm": -50}]}),
        js({"temperature_c": 1e9}),            # out of range
        b'{"blob": "' + b"x" * 5000 + b'"}',   # oversized
    ]
    pub = publisher(mosquitto.host, mosquitto.port)
    try:
        with caplog.at_level("INFO", logger="campusmon.mqtt"):
            async with running(lst, rec) as task:
                await wait_connected(lst)
                infos = []
                for i in range(1000):
                    dev = bad_a if i % 2 else bad_b
                    infos.append(pub.publish(topic(dev, "telemetry"),
                                             malformed[i % len(malformed)], 1))
                    if i % 100 == 0:  # good devices in between
                        for g in good:
                            infos.append(pub.publish(topic(g, "telemetry"),
                                                     js({"temperature_c": 21.5, "seq": i}), 1))
                        infos.append(pub.publish(topic(g5, "telemetry"), js(
                            {"rsrp_dbm": -90, "rsrq_db": -10, "sinr_db": 15, "band": "n78",
                             "dl_mbps": 300.0, "ul_mbps": 50.0}), 1))
                assert pub.wait_published(infos, 30)
                assert lst.ingest is not None
                ing = lst.ingest
                assert await wait_for(lambda: ing.totals.bad_payloads == 1000, 20), ing.totals
                # then a good message on a bad topic: the topic recovers
                pub.publish(topic(bad_a, "telemetry"), js({"fps": 25}), 1)
                await wait_for(lambda: not ing.devices[bad_a.id].topics[
                    topic(bad_a, "telemetry")].bad, 5)
                await asyncio.sleep(0.7)
                assert not task.done()  # still running
        assert ing.devices[bad_a.id].bad_total + ing.devices[bad_b.id].bad_total == 1000
        books = ing.devices[bad_a.id].topics[topic(bad_a, "telemetry")]
        assert sum(books.by_reason.values()) == 500
        assert set(books.by_reason) == {"json", "schema", "oversized"}
        for g in good:
            assert len(rec.metrics("iot_telemetry", g.id)) == 10
            assert ing.devices[g.id].bad_total == 0
        assert len(rec.metrics("cellular_5g", g5.id)) == 10
        # logged once per change of state: bad_a bad, bad_b bad, bad_a recovered
        bad_logs = [r for r in caplog.records if "bad payload on" in r.getMessage()]
        assert len(bad_logs) == 2
        assert len([r for r in caplog.records if "valid again" in r.getMessage()]) == 1
        last = {m.tags["reason"]: int(m.fields["count_total"]) for m in
                rec.metrics("iot_bad_payload", bad_b.id)}
        assert sum(last.values()) == 500
        assert rec.metrics("iot_device", bad_a.id)[-1].fields["bad_payloads_total"] == 500
    finally:
        pub.stop()


def test_json_helper() -> None:
    assert json.loads(js({"a": 1})) == {"a": 1}
