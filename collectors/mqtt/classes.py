"""IoT device classes and how an inventory device maps to one.

The inventory's `DeviceKind` says what a device is; the class says how its payloads read. They
differ only for sensors: a Wi-Fi survey sensor is a `sensor` in the inventory with the role
`wifi_survey` (or the label `iot_class: wifi_survey`), so coverage audits find it in its room.
"""

from __future__ import annotations

import enum

from inventory.models import Device, DeviceKind


class IotClass(enum.StrEnum):
    CAMERA = "camera"
    NVR = "nvr"
    DOOR_ACCESS = "door_access"
    ATTENDANCE = "attendance"
    BROADCAST = "broadcast"
    PAYMENT = "payment"
    BIOMETRIC = "biometric"
    ENV_SENSOR = "env_sensor"
    SMART_CLASSROOM = "smart_classroom"
    CPE_5G = "cpe_5g"
    WIFI_SURVEY = "wifi_survey"


KIND_TO_CLASS: dict[DeviceKind, IotClass] = {
    DeviceKind.CAMERA: IotClass.CAMERA,
    DeviceKind.NVR: IotClass.NVR,
    DeviceKind.DOOR_ACCESS: IotClass.DOOR_ACCESS,
    DeviceKind.ATTENDANCE: IotClass.ATTENDANCE,
    DeviceKind.BROADCAST: IotClass.BROADCAST,
    DeviceKind.PAYMENT: IotClass.PAYMENT,
    DeviceKind.BIOMETRIC: IotClass.BIOMETRIC,
    DeviceKind.SENSOR: IotClass.ENV_SENSOR,
    DeviceKind.SMART_CLASSROOM: IotClass.SMART_CLASSROOM,
    DeviceKind.CPE_5G: IotClass.CPE_5G,
}

CLASS_TO_KIND: dict[IotClass, DeviceKind] = {c: k for k, c in KIND_TO_CLASS.items()}
CLASS_TO_KIND[IotClass.WIFI_SURVEY] = DeviceKind.SENSOR

WIFI_SURVEY_ROLE = "wifi_survey"
CLASS_LABEL = "iot_class"
HEARTBEAT_LABEL = "heartbeat_secs"


def class_of(device: Device) -> IotClass | None:
    """The payload class of an inventory device, or None when it is not an IoT device."""
    label = device.labels.get(CLASS_LABEL)
    if label:
        try:
            return IotClass(label)
        except ValueError:
            return None
    if device.kind is DeviceKind.SENSOR and WIFI_SURVEY_ROLE in device.roles:
        return IotClass.WIFI_SURVEY
    return KIND_TO_CLASS.get(device.kind)


def heartbeat_override(device: Device) -> float | None:
    """A per-device heartbeat interval from the inventory label `heartbeat_secs`."""
    raw = device.labels.get(HEARTBEAT_LABEL)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value > 0 else None
