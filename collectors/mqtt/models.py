"""The payload models: the base (`Payload`: strict, unknown numeric readings kept), the status
and event streams every class has, and one telemetry model per device class. Which class uses
which model is said once, in the class records (collectors/mqtt/classes.py).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.core.model import FieldValue

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
