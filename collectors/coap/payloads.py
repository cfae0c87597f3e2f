"""CoAP payloads → fields: JSON, CBOR, SenML (RFC 8428, JSON and CBOR) and plain text numbers.

The format comes from the response's Content-Format (RFC 7252 12.3: 0 text/plain, 50 JSON,
60 CBOR, 110 SenML+JSON, 112 SenML+CBOR), or from the resource's config when a device sends
none. SenML: each record's full name (base name + name) becomes a field; the last value of a
name wins; string and data values are left out. Bounded: at most MAX_FIELDS per payload.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from agent.core.model import FieldValue
from collectors.coap.client import BadCbor, cbor_loads

TEXT, JSON, CBOR, SENML_JSON, SENML_CBOR = 0, 50, 60, 110, 112
FORMATS = {"text": TEXT, "json": JSON, "cbor": CBOR, "senml+json": SENML_JSON,
           "senml+cbor": SENML_CBOR}
MAX_FIELDS = 64
# SenML CBOR labels (RFC 8428 table 4)
_CBOR_LABELS = {-2: "bn", -3: "bt", -4: "bu", -5: "bv", 0: "n", 1: "u", 2: "v", 3: "vs",
                4: "vb", 5: "s", 6: "t", 7: "ut", 8: "vd"}
_NOT_NAME = re.compile(r"[^a-z0-9_]+")


class BadPayload(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason  # json / cbor / senml / text / format


def field_name(raw: str) -> str:
    return _NOT_NAME.sub("_", raw.lower()).strip("_")[:64] or "value"


def _number(v: Any) -> int | float | None:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v if -(2**63) <= v < 2**63 else None
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    return None


def _object(obj: Any, out: dict[str, FieldValue], prefix: str = "", depth: int = 0) -> None:
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            if len(out) >= MAX_FIELDS:
                return
            name = field_name(f"{prefix}_{k}" if prefix else str(k))
            n = _number(v)
            if n is not None:
                out[name] = n
            elif depth < 2:
                _object(v, out, name, depth + 1)
    elif prefix:
        n = _number(obj)
        if n is not None:
            out[prefix] = n


def senml(records: Any) -> dict[str, FieldValue]:
    if not isinstance(records, list) or not records:
        raise BadPayload("senml", "SenML is a non-empty array of records")
    out: dict[str, FieldValue] = {}
    base_name, base_value = "", 0.0
    for rec in records[:1024]:
        if not isinstance(rec, Mapping):
            raise BadPayload("senml", "a SenML record is a map")
        r = {_CBOR_LABELS.get(k, k) if isinstance(k, int) else k: v for k, v in rec.items()}
        if isinstance(r.get("bn"), str):
            base_name = r["bn"]
        bv = _number(r.get("bv"))
        if bv is not None:
            base_value = float(bv)
        name = base_name + (r["n"] if isinstance(r.get("n"), str) else "")
        if not name:
            raise BadPayload("senml", "a record without a name (RFC 8428 4.5.1)")
        value: FieldValue | None = None
        if "v" in r:
            v = _number(r["v"])
            if v is None or isinstance(r["v"], bool):
                raise BadPayload("senml", f"{name}: v is not a number")
            value = v + base_value if base_value else v
        elif "vb" in r:
            if not isinstance(r["vb"], bool):
                raise BadPayload("senml", f"{name}: vb is not a boolean")
            value = int(r["vb"])
        elif "s" in r:
            value = _number(r["s"])
        if value is not None and (len(out) < MAX_FIELDS or field_name(name) in out):
            out[field_name(name)] = value
    return out


def decode(content_format: int | None, payload: bytes) -> dict[str, FieldValue]:
    if content_format in (JSON, SENML_JSON):
        try:
            obj = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadPayload("json", str(exc)[:200]) from None
        if content_format == SENML_JSON:
            return senml(obj)
        out: dict[str, FieldValue] = {}
        _object(obj if isinstance(obj, Mapping) else {"value": obj}, out)
        return out
    if content_format in (CBOR, SENML_CBOR):
        try:
            obj = cbor_loads(payload)
        except BadCbor as exc:
            raise BadPayload("cbor", str(exc)) from None
        if content_format == SENML_CBOR:
            return senml(obj)
        out = {}
        _object(obj if isinstance(obj, Mapping) else {"value": obj}, out)
        return out
    if content_format in (TEXT, None):
        try:
            text = payload.decode("ascii").strip()
            v = float(text) if any(c in text for c in ".eE") else int(text)
        except (UnicodeDecodeError, ValueError):
            raise BadPayload("text", f"not a number: {payload[:32]!r}") from None
        if _number(v) is None:  # not finite, or an integer past int64
            raise BadPayload("text", "not a finite number within int64")
        return {"value": v}
    raise BadPayload("format", f"content format {content_format} is not read")
