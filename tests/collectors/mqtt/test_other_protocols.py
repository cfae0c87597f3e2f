"""Devices read by another IoT plugin (a Modbus meter, a LoRaWAN sensor behind ChirpStack, a
Sparkplug PLC …) are not the MQTT listener's: it never waits for their heartbeat, so they never
go "never_seen" down there while their own plugin reads them fine."""

from __future__ import annotations

import time

from agent.shared.iotclasses import other_protocol
from collectors.mqtt.classes import IotClass
from collectors.mqtt.config import MqttConfig
from collectors.mqtt.ingest import Ingest
from inventory.models import Device, DeviceKind
from tests.collectors.mqtt.helpers import inventory, iot_device, targets_of


def _sensor(dev_id: str, **labels: str) -> Device:
    return Device(id=dev_id, kind=DeviceKind.SENSOR, campus="test", building="a",
                  room="a-101", labels=labels)


def test_devices_of_other_protocols_are_left_to_their_plugins() -> None:
    devs = [iot_device("env-mqtt", IotClass.ENV_SENSOR),
            _sensor("meter", modbus_map="eastron_sdm630", iot_class="energy_meter"),
            _sensor("lora", lorawan_dev_eui="0101010101010101"),
            _sensor("zb", zigbee_name="aqara_th"),
            _sensor("plc", sparkplug_id="g/node", iot_class="plc"),
            _sensor("ahu", bacnet_instance="1001", iot_class="hvac")]
    assert [other_protocol(d) for d in devs] == [None, "modbus", "lorawan", "zigbee",
                                                 "sparkplug", "bacnet"]
    now = time.monotonic()
    ingest = Ingest(MqttConfig(), targets_of(inventory(devs)), now)
    assert set(ingest.devices) == {"env-mqtt"}
    # long after every heartbeat: only the MQTT device can be stale
    downs = ingest.liveness.tick(now + 10_000, time.time_ns())
    assert [e.device for e in downs] == ["env-mqtt"]
