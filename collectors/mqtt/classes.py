"""One record per IoT device class: its payload model, inventory kind, default heartbeat and
how the simulator makes one (readings, ids, placement, vendors, events).

A new class is one `IotClass` member (agent/shared/iotclasses.py, with its inventory kind) and
one record here — plus its telemetry model (collectors/mqtt/models.py) and simulated readings
(collectors/mqtt/readings.py) when it has readings of its own. Everything else (decoding,
liveness, the simulator's inventory and fleet) reads these records.

The class vocabulary itself (`IotClass`, inventory kind ↔ class, `class_of`) lives in
agent/shared/iotclasses.py, shared with the plugins of other IoT protocols; re-exported here for
the MQTT plugin's modules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from agent.shared.iotclasses import (
    CLASS_LABEL,
    CLASS_TO_KIND,
    HEARTBEAT_LABEL,
    KIND_TO_CLASS,
    WIFI_SURVEY_ROLE,
    IotClass,
    class_of,
    heartbeat_override,
)
from collectors.mqtt import readings as sim
from collectors.mqtt.models import (
    AttendanceTelemetry,
    BiometricTelemetry,
    BroadcastTelemetry,
    CameraTelemetry,
    Cpe5gTelemetry,
    DoorAccessTelemetry,
    EnvSensorTelemetry,
    NvrTelemetry,
    Payload,
    PaymentTelemetry,
    SmartClassroomTelemetry,
    WifiSurveyTelemetry,
)
from inventory.models import DeviceKind

__all__ = [
    "CLASSES",
    "CLASS_LABEL",
    "CLASS_TO_KIND",
    "HEARTBEAT_LABEL",
    "KIND_TO_CLASS",
    "WIFI_SURVEY_ROLE",
    "ClassRecord",
    "IotClass",
    "SimSpec",
    "class_of",
    "heartbeat_override",
]


@dataclass(frozen=True, slots=True)
class SimSpec:
    """How `campusmon sim-iot` makes devices of a class."""

    readings: Callable[[sim.DeviceState], dict[str, Any]]
    # a reading the class must have as a number (or list): the wrong-type payload sets it to text
    typed_field: str
    id_prefix: str  # inventory ids: <prefix>-001 …
    room_kinds: frozenset[str]  # room kinds it is placed in
    vendors: tuple[str, ...]  # makers, assigned round-robin
    slow: bool = False  # heartbeat twice the simulator's base
    event: tuple[str, str] | None = None  # (event, severity) published now and then


@dataclass(frozen=True, slots=True)
class ClassRecord:
    iot_class: IotClass
    telemetry: type[Payload]  # the model its telemetry stream is validated against
    heartbeat_secs: float  # expected heartbeat when neither config nor inventory label says
    sim: SimSpec

    @property
    def kind(self) -> DeviceKind:
        """The inventory kind of a device of this class."""
        return CLASS_TO_KIND[self.iot_class]


_TEACHING = frozenset({"classroom", "lab", "library", "hall"})


def _rooms(*kinds: str) -> frozenset[str]:
    return frozenset(kinds)


_RECORDS: tuple[ClassRecord, ...] = (
    ClassRecord(IotClass.CAMERA, CameraTelemetry, 30.0, SimSpec(
        sim.camera, "fps", "cam", _rooms("corridor", "lab", "hall", "canteen"),
        ("Hikvision", "Dahua", "Uniview"), event=("video_loss", "warning"))),
    ClassRecord(IotClass.NVR, NvrTelemetry, 60.0, SimSpec(
        sim.nvr, "storage_used_percent", "nvr", _rooms("corridor"), ("Hikvision", "Dahua"),
        slow=True)),
    ClassRecord(IotClass.DOOR_ACCESS, DoorAccessTelemetry, 30.0, SimSpec(
        sim.door, "swipes_total", "door", _rooms("corridor", "lab", "dorm"),
        ("Hikvision", "ZKTeco"), event=("door_held_open", "warning"))),
    ClassRecord(IotClass.ATTENDANCE, AttendanceTelemetry, 60.0, SimSpec(
        sim.attendance, "punches_total", "att", _rooms("classroom", "lab", "corridor"),
        ("ZKTeco", "Deli"), slow=True)),
    ClassRecord(IotClass.BROADCAST, BroadcastTelemetry, 60.0, SimSpec(
        sim.broadcast, "volume_percent", "bc", _rooms("classroom", "hall", "corridor"),
        ("ITC", "Hikvision"))),
    ClassRecord(IotClass.PAYMENT, PaymentTelemetry, 30.0, SimSpec(
        sim.payment, "amount_fen_total", "pos", _rooms("canteen", "library"),
        ("Newcapec", "Sunwin"))),
    ClassRecord(IotClass.BIOMETRIC, BiometricTelemetry, 60.0, SimSpec(
        sim.biometric, "matches_total", "bio", _rooms("corridor", "dorm"),
        ("ZKTeco", "Hikvision"))),
    ClassRecord(IotClass.ENV_SENSOR, EnvSensorTelemetry, 60.0, SimSpec(
        sim.env, "temperature_c", "env", _rooms("classroom", "lab", "library", "dorm"),
        ("Huawei", "Xiaomi"))),
    ClassRecord(IotClass.SMART_CLASSROOM, SmartClassroomTelemetry, 60.0, SimSpec(
        sim.smart, "power_w", "sc", _rooms("classroom", "lab", "hall"),
        ("Seewo", "Hitevision"))),
    ClassRecord(IotClass.CPE_5G, Cpe5gTelemetry, 30.0, SimSpec(
        sim.cpe5g, "rsrp_dbm", "cpe5g", _TEACHING, ("Huawei", "ZTE"))),
    ClassRecord(IotClass.WIFI_SURVEY, WifiSurveyTelemetry, 60.0, SimSpec(
        sim.wifi, "readings", "wifi", _TEACHING, ("Ruijie", "H3C"), slow=True)),
)

CLASSES: Mapping[IotClass, ClassRecord] = {r.iot_class: r for r in _RECORDS}

# Every class has its record (a new IotClass member without one fails at import, not later).
if set(CLASSES) != set(IotClass) or len(CLASSES) != len(_RECORDS):
    raise ValueError(f"IoT class records: {sorted(set(IotClass) ^ set(CLASSES))} "
                     "need exactly one record each")
