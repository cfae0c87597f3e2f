"""IoT device classes: they live in agent/shared/iotclasses.py (shared with the Modbus, CoAP,
BACnet and camera plugins); re-exported here for the MQTT plugin's modules."""

from __future__ import annotations

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

__all__ = [
    "CLASS_LABEL",
    "CLASS_TO_KIND",
    "HEARTBEAT_LABEL",
    "KIND_TO_CLASS",
    "WIFI_SURVEY_ROLE",
    "IotClass",
    "class_of",
    "heartbeat_override",
]
