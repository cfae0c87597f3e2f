"""Decoding: a payload becomes metrics or a `BadPayload`. The models are collectors/mqtt/models.py
(one per device class, named by the class records of collectors/mqtt/classes.py).

Models are strict (a string where a number belongs is a wrong type, not a number to guess at)
and keep unknown fields (`extra="allow"`): the numeric ones are emitted beside the known ones,
so a firmware that adds a reading needs no code change here. Payloads are parsed straight from
bytes by pydantic-core (`model_validate_json`): one pass, no intermediate dicts.
"""

from __future__ import annotations

import enum
from typing import cast

from pydantic import ValidationError

from agent.core.model import FieldValue, Metric, make_metric
from collectors.mqtt.classes import CLASSES, IotClass
from collectors.mqtt.models import (
    Cpe5gTelemetry,
    EventPayload,
    Payload,
    StatusPayload,
    WifiSurveyTelemetry,
)


class BadReason(enum.StrEnum):
    OVERSIZED = "oversized"
    JSON = "json"  # not JSON / not UTF-8
    SCHEMA = "schema"  # JSON, but wrong types, out of range or missing fields
    STREAM = "stream"  # a stream this class does not have


class BadPayload(Exception):
    def __init__(self, reason: BadReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


_PLAIN_STATUS = {b"online": "online", b"1": "online", b"offline": "offline", b"0": "offline"}


# ------------------------------------------------------------------ decoding
# A number is a float64 or an int64/uint64 end to end (line protocol, Prometheus). JSON allows
# 400-digit integers, past even the float range: float() of one overflows in a scrape, so such a
# payload is bad here, at the edge. (1e999 parses as inf and is dropped as a reading, as NaN is.)
_INT_MIN, _UINT_MAX = -(2**63), 2**64 - 1


def _check_numbers(p: Payload) -> None:
    extra = p.__pydantic_extra__
    for values in (p.__dict__, extra) if extra else (p.__dict__,):
        for name, value in values.items():
            t = type(value)
            if t is int and not _INT_MIN <= value <= _UINT_MAX:
                raise BadPayload(BadReason.SCHEMA, f"{name[:64]}: integer of "
                                 f"{value.bit_length()} bits is outside the int64/uint64 range")


def _parse(model: type[Payload], data: bytes) -> Payload:
    """Validated by pydantic, or a `BadPayload` naming the first problem. The schema
    validator is called directly: `model_validate_json` only passes its defaults on to it, and
    that Python frame was ~0.4 µs of every message."""
    try:
        return cast(Payload, model.__pydantic_validator__.validate_json(data))
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        first = errors[0] if errors else {"type": "", "msg": str(exc), "loc": ()}
        reason = BadReason.JSON if first["type"] in ("json_invalid", "json_type") \
            else BadReason.SCHEMA
        loc = ".".join(str(p) for p in first["loc"])
        raise BadPayload(reason, f"{loc + ': ' if loc else ''}{first['msg']}") from None


def _validate(model: type[Payload], data: bytes) -> Payload:
    p = _parse(model, data)
    _check_numbers(p)
    return p


def decode_status(data: bytes) -> StatusPayload:
    plain = _PLAIN_STATUS.get(data.strip().lower())
    if plain is not None:
        return StatusPayload(state=plain)  # type: ignore[arg-type]
    p = _validate(StatusPayload, data)
    assert isinstance(p, StatusPayload)
    return p


def decode_event(data: bytes) -> EventPayload:
    p = _validate(EventPayload, data)
    assert isinstance(p, EventPayload)
    return p


def decode_telemetry(cls: IotClass, data: bytes) -> Payload:
    return _validate(CLASSES[cls].telemetry, data)


def _checked_fields(p: Payload) -> dict[str, FieldValue]:
    """`_check_numbers` and `p.numeric_fields()` in one pass over the payload (the hot path:
    once per telemetry message). Same checks in the same order, so the same payloads are
    rejected with the same detail, and the same readings come out."""
    out: dict[str, FieldValue] = {}
    extra = p.__pydantic_extra__
    for values in (p.__dict__, extra) if extra else (p.__dict__,):
        for name, value in values.items():
            t = type(value)
            if t is float:
                if -_INF < value < _INF:  # drops NaN and ±inf
                    out[name] = value
            elif t is int:
                if not _INT_MIN <= value <= _UINT_MAX:
                    raise BadPayload(BadReason.SCHEMA, f"{name[:64]}: integer of "
                                     f"{value.bit_length()} bits is outside the int64/uint64 "
                                     "range")
                out[name] = value
            elif t is bool:
                out[name] = int(value)
    # the names that are not readings go after the pass (a few pops, not a set lookup per
    # reading); a key is removed without moving the others, so the order is the same
    for name in p._not_fields:
        out.pop(name, None)
    return out


_INF = float("inf")


def decode_telemetry_fields(cls: IotClass, data: bytes) -> tuple[Payload, dict[str, FieldValue]]:
    """`decode_telemetry` and the payload's numeric readings, checked once."""
    return decode_model_fields(CLASSES[cls].telemetry, data)


def decode_model_fields(model: type[Payload],
                        data: bytes) -> tuple[Payload, dict[str, FieldValue]]:
    """`decode_telemetry_fields` for a caller that has the class's telemetry model already
    (the ingest path, once per message: a lookup keyed by the enum is a Python-level hash)."""
    p = _parse(model, data)
    return p, _checked_fields(p)


# payload model → 1 (5G CPE), 2 (Wi-Fi survey), 0 (the rest); isinstance on a pydantic
# model goes through ABCMeta (~0.4 µs), once per type is enough. Bounded by the models.
_SHAPES: dict[type[Payload], int] = {}


def _shape(t: type[Payload]) -> int:
    k = _SHAPES.get(t)
    if k is None:
        k = 1 if issubclass(t, Cpe5gTelemetry) else 2 if issubclass(t, WifiSurveyTelemetry) \
            else 0
        _SHAPES[t] = k
    return k


def telemetry_metrics(cls: IotClass, p: Payload, ts_ns: int,
                      numeric: dict[str, FieldValue] | None = None,
                      class_tag: str | None = None) -> list[Metric]:
    """`iot_telemetry` for every class; `cellular_5g` and `wifi_survey` for theirs.
    `numeric`: `p.numeric_fields()` if the caller has it already; `class_tag`: `cls.value`
    if the caller has it (an enum's `.value` is a Python-level descriptor, per message)."""
    out: list[Metric] = []
    shape = _shape(type(p))
    if class_tag is None:
        class_tag = cls.value
    if numeric is None:
        numeric = p.numeric_fields()
    if shape == 1:
        assert isinstance(p, Cpe5gTelemetry)
        fields: dict[str, FieldValue] = {
            "rsrp_dbm": p.rsrp_dbm, "rsrq_db": p.rsrq_db, "sinr_db": p.sinr_db}
        if p.dl_mbps is not None:
            fields["dl_mbps"] = p.dl_mbps
        if p.ul_mbps is not None:
            fields["ul_mbps"] = p.ul_mbps
        out.append(Metric("cellular_5g", {"band": p.band, "cell": p.cell}, fields, ts_ns))
        extra = {k: v for k, v in numeric.items() if k not in fields}
        if extra:
            out.append(Metric("iot_telemetry", {"iot_class": class_tag, "stream": "telemetry"},
                              extra, ts_ns))
        return out
    if shape == 2:
        assert isinstance(p, WifiSurveyTelemetry)
        for r in p.readings:
            tags: dict[str, str] = {"band": r.band}
            if r.ssid:
                tags["ssid"] = r.ssid
            wf: dict[str, FieldValue] = {"rssi_dbm": r.rssi_dbm}
            if r.channel is not None:
                wf["channel"] = r.channel
            if r.noise_dbm is not None:
                wf["noise_dbm"] = r.noise_dbm
            out.append(Metric("wifi_survey", tags, wf, ts_ns))
        extra = numeric
        if extra:
            out.append(Metric("iot_telemetry", {"iot_class": class_tag, "stream": "telemetry"},
                              extra, ts_ns))
        return out
    if numeric:
        out.append(make_metric("iot_telemetry", {"iot_class": class_tag, "stream": "telemetry"},
                               numeric, ts_ns))
    return out
