"""zigbee2mqtt: device state on `<base>/<FRIENDLY_NAME>`, availability on
`<base>/<FRIENDLY_NAME>/availability` (zigbee2mqtt docs, "Device availability": retained;
`{"state":"online"}` / `{"state":"offline"}`, plain `online` / `offline` with
`legacy_availability_payload`). `<base>/bridge/…` is the bridge's own (its `state` says whether
zigbee2mqtt itself runs); `/set`, `/get` are commands to devices, not from them.
"""

from __future__ import annotations

import json
from typing import Any

from agent.core.model import Metric
from collectors.iot_gateways.common import BadPayload, BadReason, Heard, Life, numeric_fields


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadPayload(BadReason.JSON, str(exc)[:200]) from None


def availability(data: bytes) -> str:
    plain = data.strip().lower()
    if plain in (b"online", b"offline"):
        return plain.decode()
    obj = _json(data)
    state = obj.get("state") if isinstance(obj, dict) else None
    if state not in ("online", "offline"):
        raise BadPayload(BadReason.SCHEMA, "availability is not {\"state\": online|offline}")
    return str(state)


def decode(rest: list[str], data: bytes, ts_ns: int) -> Heard | None:
    """`rest`: topic levels after the base topic. None: not about a device's state."""
    if not rest or rest[0] == "bridge":
        return None
    if len(rest) == 2 and rest[1] == "availability":
        state = availability(data)
        if state == "offline":
            return Heard(rest[0], Life.OFFLINE, detail="zigbee2mqtt availability offline")
        return Heard(rest[0], Life.ONLINE)
    if len(rest) != 1:
        return None  # commands (`/set`, `/get`) and others: not from the device
    obj = _json(data)
    if not isinstance(obj, dict):
        raise BadPayload(BadReason.SCHEMA, "device state is not a JSON object")
    fields = numeric_fields(obj)
    metrics = [Metric("zigbee_reading", {}, fields, ts_ns)] if fields else []
    return Heard(rest[0], Life.DATA, metrics)
