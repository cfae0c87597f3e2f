"""Every device class, published to a real mosquitto, parsed into metrics."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from collectors.mqtt.classes import IotClass
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

TELEMETRY: dict[IotClass, dict[str, object]] = {
    IotClass.CAMERA: {"fps": 25, "bitrate_kbps": 4096.5, "recording": True, "temperature_c": 41.5},
    IotClass.NVR: {"channels_total": 32, "channels_recording": 30, "disks_failed": 0,
                   "storage_used_percent": 71.2},
    IotClass.DOOR_ACCESS: {"door_open": False, "locked": True, "swipes_total": 1042},
    IotClass.ATTENDANCE: {"punches_total": 388, "failed_total": 3, "users_enrolled": 950},
    IotClass.BROADCAST: {"playing": True, "volume_percent": 60, "zones_active": 4},
    IotClass.PAYMENT: {"transactions_total": 5120, "amount_fen_total": 3120050,
                       "failed_total": 2},
    IotClass.BIOMETRIC: {"matches_total": 77, "rejects_total": 1, "match_ms": 180.0},
    IotClass.ENV_SENSOR: {"temperature_c": 23.4, "humidity_percent": 55, "co2_ppm": 780,
                          "pm25_ugm3": 18, "firmware_build": 20240101, "note": "kept out"},
    IotClass.SMART_CLASSROOM: {"projector_on": True, "power_w": 410.0, "occupancy": 42},
    IotClass.CPE_5G: {"rsrp_dbm": -92.5, "rsrq_db": -11, "sinr_db": 14.2, "band": "n78",
                      "cell": "PCI-301", "dl_mbps": 512.3, "ul_mbps": 61.0, "temp_c": 48},
    IotClass.WIFI_SURVEY: {"readings": [
        {"band": "2.4GHz", "rssi_dbm": -58, "ssid": "campus", "channel": 6},
        {"band": "5GHz", "rssi_dbm": -66, "ssid": "campus", "channel": 149},
    ]},
}


@pytest.mark.timeout(60)
async def test_every_class_parsed(mosquitto: Mosquitto, tmp_path: Path) -> None:
    devs = {cls: iot_device(unique(cls.value), cls) for cls in IotClass}
    inv = inventory(list(devs.values()))
    rec = Recorder(targets_of(inv))
    lst = make_listener({"host": mosquitto.host, "port": mosquitto.port, "protocol": "3.1.1",
                         "report_interval_secs": 0.5}, inv, tmp_path)
    async with running(lst, rec):
        await wait_connected(lst)
        pub = publisher(mosquitto.host, mosquitto.port)
        try:
            for cls, dev in devs.items():
                pub.publish(topic(dev, "status"), js({"state": "online", "uptime_s": 100}), 1)
                pub.publish(topic(dev, "telemetry"), js(TELEMETRY[cls]), 1)
            assert await wait_for(lambda: all(
                rec.metrics("iot_telemetry", d.id) or rec.metrics("cellular_5g", d.id)
                or rec.metrics("wifi_survey", d.id) for d in devs.values()), 10)
            await asyncio.sleep(0.8)  # one report
        finally:
            pub.stop()

    cam = next(m for m in rec.metrics("iot_telemetry", devs[IotClass.CAMERA].id)
           if m.tags["stream"] == "telemetry")
    assert cam.fields == {"fps": 25, "bitrate_kbps": 4096.5, "recording": 1,
                          "temperature_c": 41.5}
    assert cam.tags["iot_class"] == "camera"
    env = next(m for m in rec.metrics("iot_telemetry", devs[IotClass.ENV_SENSOR].id)
           if m.tags["stream"] == "telemetry")
    assert env.fields["firmware_build"] == 20240101  # unknown numeric field kept
    assert "note" not in env.fields
    pay = next(m for m in rec.metrics("iot_telemetry", devs[IotClass.PAYMENT].id)
           if m.tags["stream"] == "telemetry")
    assert pay.fields["amount_fen_total"] == 3120050 and isinstance(
        pay.fields["amount_fen_total"], int)
    for cls in (IotClass.NVR, IotClass.DOOR_ACCESS, IotClass.ATTENDANCE, IotClass.BROADCAST,
                IotClass.BIOMETRIC, IotClass.SMART_CLASSROOM):
        got = [m for m in rec.metrics("iot_telemetry", devs[cls].id)
               if m.tags["stream"] == "telemetry"]
        assert got and got[0].tags["iot_class"] == cls.value, cls
        expected = {k: (int(v) if isinstance(v, bool) else v) for k, v in TELEMETRY[cls].items()}
        assert got[0].fields == expected, cls

    g5 = rec.metrics("cellular_5g", devs[IotClass.CPE_5G].id)[0]
    assert g5.tags == {"band": "n78", "cell": "PCI-301"}
    assert g5.fields == {"rsrp_dbm": -92.5, "rsrq_db": -11, "sinr_db": 14.2, "dl_mbps": 512.3,
                         "ul_mbps": 61.0}
    extra = [m for m in rec.metrics("iot_telemetry", devs[IotClass.CPE_5G].id)
             if m.tags["stream"] == "telemetry"]
    assert extra[0].fields == {"temp_c": 48}

    wifi = rec.metrics("wifi_survey", devs[IotClass.WIFI_SURVEY].id)
    assert {(m.tags["band"], m.fields["rssi_dbm"]) for m in wifi} == {("2.4GHz", -58),
                                                                     ("5GHz", -66)}
    # the framework's tags come from the inventory device, the room included
    tags = next(t for i, t in rec.items if i is wifi[0])
    assert tags["room"] == "a-101" and tags["kind"] == "sensor"

    status = rec.metrics("iot_telemetry", devs[IotClass.CAMERA].id)
    assert any(m.tags["stream"] == "status" and m.fields == {"uptime_s": 100} for m in status)
    for dev in devs.values():
        rows = rec.metrics("iot_device", dev.id)
        assert rows and rows[-1].fields["up"] == 1, dev.id
        assert rows[-1].fields["bad_payloads_total"] == 0
    assert rec.metrics("mqtt_client")[-1].fields["connected"] == 1
