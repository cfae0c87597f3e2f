"""One record per IoT class: the simulator's readings validate against the class's own model,
its wrong-type payload is refused by it, and its inventory kind maps back to the class."""

from __future__ import annotations

import json
import random

import pytest

from collectors.mqtt.classes import CLASSES, KIND_TO_CLASS, IotClass
from collectors.mqtt.payloads import BadPayload, decode_telemetry
from collectors.mqtt.readings import DeviceState, RoomRadio, malformed


@pytest.mark.parametrize("cls", list(IotClass))
def test_record_is_consistent(cls: IotClass) -> None:
    rec = CLASSES[cls]
    assert rec.iot_class is cls and rec.heartbeat_secs > 0
    if cls is not IotClass.WIFI_SURVEY:  # a sensor with the wifi_survey role
        assert KIND_TO_CLASS[rec.kind] is cls
    assert rec.sim.typed_field in rec.telemetry.model_fields
    state = DeviceState(cls, random.Random(1), RoomRadio.for_room("r", 1))
    reading = rec.sim.readings(state)
    decode_telemetry(cls, json.dumps(reading).encode())  # the simulator speaks the model
    with pytest.raises(BadPayload):
        decode_telemetry(cls, json.dumps({rec.sim.typed_field: "n/a"}).encode())
    assert malformed("wrong_type", random.Random(0), rec.sim.typed_field)
