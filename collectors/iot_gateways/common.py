"""What every gateway schema hands the listener: readings and liveness for one device key."""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from agent.core.model import FieldValue, Metric

NAMESPACE = "spBv1.0"  # Sparkplug B topic root (here: the plugin needs it without the codec)
MAX_FIELDS = 64  # readings per message kept (a bound on what a device can make us store)
_NOT_NAME = re.compile(r"[^a-z0-9_]+")


class BadReason(enum.StrEnum):
    JSON = "json"  # not JSON / not UTF-8
    SCHEMA = "schema"  # JSON, but not the shape the gateway publishes
    PROTOBUF = "protobuf"  # not a Sparkplug B payload
    OVERSIZED = "oversized"
    SEQUENCE = "sequence"  # Sparkplug: data before birth, unknown alias


class BadPayload(Exception):
    def __init__(self, reason: BadReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class Life(enum.Enum):
    DATA = "data"  # a sign of life that carries readings
    ONLINE = "online"  # the gateway says the device is online
    OFFLINE = "offline"  # the gateway says the device is gone (will, death, availability)


@dataclass(slots=True)
class Heard:
    """One device's part of one message."""

    key: str  # the device's id in its schema's namespace (DevEUI, friendly name, group/node)
    life: Life
    metrics: list[Metric] = field(default_factory=list)
    detail: str = ""  # why offline
    implied: bool = False  # a Sparkplug node's sign of life, read from its device's message


def field_name(raw: str) -> str:
    """A device-named reading as a field name: `Device Metric/Temp (C)` → `device_metric_temp_c`."""
    return _NOT_NAME.sub("_", raw.lower()).strip("_")[:64] or "value"


def numeric_fields(obj: Mapping[str, object], prefix: str = "", depth: int = 0,
                   out: dict[str, FieldValue] | None = None) -> dict[str, FieldValue]:
    """Numbers and booleans of a decoded JSON object, nested keys joined with `_` (two levels,
    at most MAX_FIELDS); strings, lists, NaN and infinities are left out."""
    out = {} if out is None else out
    for k, v in obj.items():
        if len(out) >= MAX_FIELDS:
            break
        name = field_name(f"{prefix}_{k}" if prefix else str(k))
        if isinstance(v, bool):
            out[name] = int(v)
        elif isinstance(v, int):
            if -(2**63) <= v < 2**63:
                out[name] = v
        elif isinstance(v, float):
            if math.isfinite(v):
                out[name] = v
        elif isinstance(v, Mapping) and depth < 2:
            numeric_fields(v, name, depth + 1, out)
    return out
