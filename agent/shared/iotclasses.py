"""IoT device classes, shared by every IoT plugin (MQTT, Modbus, CoAP, BACnet, cameras …).

The inventory's `DeviceKind` says what a device is; the class says how its payloads read. They
differ only for sensors: a Wi-Fi survey sensor is a `sensor` in the inventory with the role
`wifi_survey` (or the label `iot_class: wifi_survey`), so coverage audits find it in its room.

Plugins that poll a device over another protocol (a Modbus energy meter, a BACnet air handler)
tag it with `class_name(device)`: the `IotClass` when there is one, else the device's own
`iot_class` label (e.g. `energy_meter`, `hvac`, `plc`), else its kind. So dashboards and audits
count devices by `iot_class` the same way whatever protocol the device speaks.
"""

from __future__ import annotations

import enum
import re

from agent.core.model import Event, EventState, Severity
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
_CLASS_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


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


def class_name(device: Device | None) -> str:
    """The `iot_class` tag of a device polled over any protocol (see the module docstring)."""
    if device is None:
        return "unknown"
    cls = class_of(device)
    if cls is not None:
        return cls.value
    label = device.labels.get(CLASS_LABEL, "")
    if _CLASS_NAME.match(label):
        return label
    return device.kind.value


# Labels that put a device behind another IoT plugin (its own protocol, or a gateway's schema):
# the MQTT listener leaves such devices alone instead of waiting for their heartbeat on its
# own topics (and calling them down when it never comes).
OTHER_PROTOCOL_LABELS: dict[str, str] = {
    "modbus_map": "modbus", "bacnet_instance": "bacnet", "lorawan_dev_eui": "lorawan",
    "zigbee_name": "zigbee", "sparkplug_id": "sparkplug",
}


def other_protocol(device: Device) -> str | None:
    """The protocol of another IoT plugin this device is read by, or None."""
    for label, protocol in OTHER_PROTOCOL_LABELS.items():
        if device.labels.get(label):
            return protocol
    return None


def is_iot_device(device: Device) -> bool:
    """An IoT device for audits and counts, whatever it speaks: an IoT kind, or any device the
    inventory gives an `iot_class` (a Modbus UPS, a BACnet air handler, a Sparkplug PLC)."""
    return device.kind.is_iot or bool(device.labels.get(CLASS_LABEL))


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


def device_down(device: str, iot_class: str, reason: str, ts_ns: int,
                detail: str = "") -> Event:
    """The same `device_down` event the MQTT listener raises (key `iot:<device>`), so alert
    rules and dashboards treat a device alike whatever it speaks."""
    return Event(
        key=f"iot:{device}", kind="device_down", state=EventState.RAISED,
        severity=Severity.WARNING, summary=f"{device} ({iot_class}) down: {detail or reason}",
        device=device, labels={"iot_class": iot_class, "reason": reason}, ts_ns=ts_ns)


def device_up(device: str, iot_class: str, ts_ns: int) -> Event:
    return Event(
        key=f"iot:{device}", kind="device_up", state=EventState.RESOLVED,
        severity=Severity.INFO, summary=f"{device} ({iot_class}) up again",
        device=device, labels={"iot_class": iot_class}, ts_ns=ts_ns)
