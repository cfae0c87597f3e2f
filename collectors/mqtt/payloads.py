"""One pydantic model per device class; a payload becomes metrics or a `BadPayload`.

Models are strict (a string where a number belongs is a wrong type, not a number to guess at)
and keep unknown fields (`extra="allow"`): the numeric ones are emitted beside the known ones,
so a firmware that adds a reading needs no code change here. Payloads are parsed straight from
bytes by pydantic-core (`model_validate_json`): one pass, no intermediate dicts.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.core.model import FieldValue, Metric
from collectors.mqtt.classes import IotClass


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


Percent = Annotated[float, Field(ge=0, le=100)]
Count = Annotated[int, Field(ge=0)]
NonNeg = Annotated[float, Field(ge=0)]


class Payload(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    # Fields that are not readings (identifiers, the device clock) and never become fields.
    _not_fields: ClassVar[frozenset[str]] = frozenset({"ts"})

    ts: float | None = None  # device clock, Unix seconds; used only when plausible

    def numeric_fields(self) -> dict[str, FieldValue]:
        """Known and unknown numeric readings; booleans as 0/1, strings and nesting dropped.

        On the hot path (once per message): exact type checks over the model's own dicts
        rather than iterating the model, about 3× cheaper."""
        out: dict[str, FieldValue] = {}
        skip = self._not_fields
        extra = self.__pydantic_extra__
        for values in (self.__dict__, extra) if extra else (self.__dict__,):
            for name, value in values.items():
                t = type(value)
                if t is int:
                    if name not in skip:
                        out[name] = value
                elif t is float:
                    if -_INF < value < _INF and name not in skip:  # drops NaN and ±inf
                        out[name] = value
                elif t is bool and name not in skip:
                    out[name] = int(value)
        return out


_INF = float("inf")


# ------------------------------------------------------------------ streams every class has
class StatusPayload(Payload):
    """Heartbeat, birth and last-will: `{"state": "online"}`; plain `online`/`offline` too."""

    _not_fields: ClassVar[frozenset[str]] = frozenset({"ts", "state"})
    state: Literal["online", "offline"]


_PLAIN_STATUS = {b"online": "online", b"1": "online", b"offline": "offline", b"0": "offline"}


class EventPayload(Payload):
    event: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    severity: Literal["info", "warning", "critical"] = "info"
    message: str = Field(default="", max_length=512)


# ------------------------------------------------------------------ telemetry per class
class CameraTelemetry(Payload):
    fps: Annotated[float, Field(ge=0, le=240)] | None = None
    bitrate_kbps: NonNeg | None = None
    recording: bool | None = None
    temperature_c: Annotated[float, Field(ge=-40, le=120)] | None = None
    packet_loss_percent: Percent | None = None


class NvrTelemetry(Payload):
    channels_total: Count | None = None
    channels_recording: Count | None = None
    disks_total: Count | None = None
    disks_failed: Count | None = None
    storage_used_percent: Percent | None = None
    retention_days: NonNeg | None = None


class DoorAccessTelemetry(Payload):
    door_open: bool | None = None
    locked: bool | None = None
    tamper: bool | None = None
    swipes_total: Count | None = None
    denied_total: Count | None = None


class AttendanceTelemetry(Payload):
    punches_total: Count | None = None
    failed_total: Count | None = None
    users_enrolled: Count | None = None


class BroadcastTelemetry(Payload):
    playing: bool | None = None
    volume_percent: Percent | None = None
    zones_active: Count | None = None
    amplifier_temp_c: Annotated[float, Field(ge=-40, le=150)] | None = None


class PaymentTelemetry(Payload):
    transactions_total: Count | None = None
    amount_fen_total: Count | None = None  # 分: integers, never floating yuan
    failed_total: Count | None = None
    offline_pending: Count | None = None


class BiometricTelemetry(Payload):
    matches_total: Count | None = None
    rejects_total: Count | None = None
    templates_enrolled: Count | None = None
    match_ms: NonNeg | None = None


class EnvSensorTelemetry(Payload):
    temperature_c: Annotated[float, Field(ge=-40, le=85)] | None = None
    humidity_percent: Percent | None = None
    co2_ppm: Annotated[float, Field(ge=0, le=40000)] | None = None
    pm25_ugm3: Annotated[float, Field(ge=0, le=2000)] | None = None
    noise_db: Annotated[float, Field(ge=0, le=150)] | None = None
    illuminance_lux: NonNeg | None = None


class SmartClassroomTelemetry(Payload):
    projector_on: bool | None = None
    display_on: bool | None = None
    power_w: NonNeg | None = None
    occupancy: Count | None = None
    lamp_hours: NonNeg | None = None


class Cpe5gTelemetry(Payload):
    """A 5G CPE or indoor small cell. Ranges are those the 3GPP measurement reports can carry."""

    _not_fields: ClassVar[frozenset[str]] = frozenset({"ts", "band", "cell"})
    rsrp_dbm: Annotated[float, Field(ge=-156, le=-31)]
    rsrq_db: Annotated[float, Field(ge=-43, le=20)]
    sinr_db: Annotated[float, Field(ge=-23, le=40)]
    band: str = Field(pattern=r"^[nB]\d{1,3}$")  # n78, n41, B3 (LTE anchor) …
    cell: str = Field(default="", max_length=64)  # PCI or NCGI as the device reports it
    dl_mbps: NonNeg | None = None
    ul_mbps: NonNeg | None = None


WifiBand = Literal["2.4GHz", "5GHz", "6GHz"]


class WifiReading(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)
    band: WifiBand
    rssi_dbm: Annotated[float, Field(ge=-120, le=0)]
    ssid: str | None = Field(default=None, max_length=32)
    channel: Annotated[int, Field(ge=1, le=233)] | None = None
    noise_dbm: Annotated[float, Field(ge=-130, le=0)] | None = None


class WifiSurveyTelemetry(Payload):
    """Per-room coverage: the strongest campus signal per band the sensor hears."""

    _not_fields: ClassVar[frozenset[str]] = frozenset({"ts", "readings"})
    readings: list[WifiReading] = Field(min_length=1, max_length=64)


TELEMETRY_MODELS: Mapping[IotClass, type[Payload]] = {
    IotClass.CAMERA: CameraTelemetry,
    IotClass.NVR: NvrTelemetry,
    IotClass.DOOR_ACCESS: DoorAccessTelemetry,
    IotClass.ATTENDANCE: AttendanceTelemetry,
    IotClass.BROADCAST: BroadcastTelemetry,
    IotClass.PAYMENT: PaymentTelemetry,
    IotClass.BIOMETRIC: BiometricTelemetry,
    IotClass.ENV_SENSOR: EnvSensorTelemetry,
    IotClass.SMART_CLASSROOM: SmartClassroomTelemetry,
    IotClass.CPE_5G: Cpe5gTelemetry,
    IotClass.WIFI_SURVEY: WifiSurveyTelemetry,
}


# ------------------------------------------------------------------ decoding
def _validate(model: type[Payload], data: bytes) -> Payload:
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        first = errors[0] if errors else {"type": "", "msg": str(exc), "loc": ()}
        reason = BadReason.JSON if first["type"] in ("json_invalid", "json_type") \
            else BadReason.SCHEMA
        loc = ".".join(str(p) for p in first["loc"])
        raise BadPayload(reason, f"{loc + ': ' if loc else ''}{first['msg']}") from None


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
    return _validate(TELEMETRY_MODELS[cls], data)


def telemetry_metrics(cls: IotClass, p: Payload, ts_ns: int) -> list[Metric]:
    """`iot_telemetry` for every class; `cellular_5g` and `wifi_survey` for theirs."""
    out: list[Metric] = []
    if isinstance(p, Cpe5gTelemetry):
        fields: dict[str, FieldValue] = {
            "rsrp_dbm": p.rsrp_dbm, "rsrq_db": p.rsrq_db, "sinr_db": p.sinr_db}
        if p.dl_mbps is not None:
            fields["dl_mbps"] = p.dl_mbps
        if p.ul_mbps is not None:
            fields["ul_mbps"] = p.ul_mbps
        out.append(Metric("cellular_5g", {"band": p.band, "cell": p.cell}, fields, ts_ns))
        extra = {k: v for k, v in p.numeric_fields().items() if k not in fields}
        if extra:
            out.append(Metric("iot_telemetry", {"iot_class": cls.value, "stream": "telemetry"},
                              extra, ts_ns))
        return out
    if isinstance(p, WifiSurveyTelemetry):
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
        extra = p.numeric_fields()
        if extra:
            out.append(Metric("iot_telemetry", {"iot_class": cls.value, "stream": "telemetry"},
                              extra, ts_ns))
        return out
    fields = p.numeric_fields()
    if fields:
        out.append(Metric("iot_telemetry", {"iot_class": cls.value, "stream": "telemetry"},
                          fields, ts_ns))
    return out
