"""ChirpStack v4 application events over MQTT (the MQTT integration, JSON marshaler).

Topic `application/<APPLICATION_ID>/device/<DEV_EUI>/event/<EVENT>` (ChirpStack v4 docs,
"Integrations › MQTT"); payloads are the Protobuf JSON mapping of `integration.proto`
(`UplinkEvent`, `StatusEvent`, `JoinEvent`: lowerCamelCase keys, `deviceInfo.devEui` as hex).
`up` gives RSSI/SNR of the best receiving gateway and the codec's decoded `object`; `status`
the battery level and link margin; `join` is a sign of life. Other events (ack, txack, log,
location, integration) are counted, not read.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.core.model import FieldValue, Metric
from collectors.iot_gateways.common import BadPayload, BadReason, Heard, Life, numeric_fields

LIFE_EVENTS = frozenset({"up", "status", "join"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class DeviceInfo(_Model):
    dev_eui: str = Field(alias="devEui", pattern=r"^[0-9a-fA-F]{16}$")
    device_name: str = Field(default="", alias="deviceName", max_length=256)


class RxInfo(_Model):
    gateway_id: str = Field(default="", alias="gatewayId", max_length=64)
    rssi: int | None = Field(default=None, ge=-200, le=50)
    snr: float | None = Field(default=None, ge=-50, le=50)


class LoraModulation(_Model):
    spreading_factor: int | None = Field(default=None, alias="spreadingFactor", ge=5, le=12)
    bandwidth: int | None = Field(default=None, ge=0)


class Modulation(_Model):
    lora: LoraModulation | None = None


class TxInfo(_Model):
    frequency: int | None = Field(default=None, ge=0)
    modulation: Modulation | None = None


class UplinkEvent(_Model):
    device_info: DeviceInfo = Field(alias="deviceInfo")
    f_cnt: int | None = Field(default=None, alias="fCnt", ge=0)
    f_port: int | None = Field(default=None, alias="fPort", ge=0, le=255)
    dr: int | None = Field(default=None, ge=0, le=15)
    rx_info: list[RxInfo] = Field(default_factory=list, alias="rxInfo", max_length=64)
    tx_info: TxInfo | None = Field(default=None, alias="txInfo")
    object: dict[str, Any] | None = None


class StatusEvent(_Model):
    device_info: DeviceInfo = Field(alias="deviceInfo")
    margin: int | None = Field(default=None, ge=-50, le=50)
    external_power_source: bool = Field(default=False, alias="externalPowerSource")
    battery_level_unavailable: bool = Field(default=False, alias="batteryLevelUnavailable")
    battery_level: float | None = Field(default=None, alias="batteryLevel", ge=0, le=100)


class OtherEvent(_Model):
    device_info: DeviceInfo = Field(alias="deviceInfo")


def _parse(model: type[_Model], data: bytes) -> Any:
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        reason = BadReason.JSON if err["type"] in ("json_invalid", "json_type") \
            else BadReason.SCHEMA
        loc = ".".join(str(p) for p in err["loc"])
        raise BadPayload(reason, f"{loc + ': ' if loc else ''}{err['msg']}") from None


def decode(event: str, topic_eui: str, data: bytes, ts_ns: int) -> Heard | None:
    """One ChirpStack event → the device's readings; None for events that say nothing of it."""
    if event not in LIFE_EVENTS:
        return None
    if event == "up":
        up = _parse(UplinkEvent, data)
        assert isinstance(up, UplinkEvent)
        eui = _check_eui(up.device_info, topic_eui)
        metrics: list[Metric] = []
        fields: dict[str, FieldValue] = {}
        tags: dict[str, str] = {}
        heard = [r for r in up.rx_info if r.rssi is not None]
        if heard:
            best = max(heard, key=lambda r: (r.rssi or -999, r.snr or -99.0))
            assert best.rssi is not None
            fields["rssi_dbm"] = best.rssi
            if best.snr is not None:
                fields["snr_db"] = best.snr
            if best.gateway_id:
                tags["gateway"] = best.gateway_id.lower()
        fields["gateways"] = len(up.rx_info)
        if up.f_cnt is not None:
            fields["frame_count_total"] = up.f_cnt
        if up.dr is not None:
            fields["data_rate"] = up.dr
        if up.tx_info is not None:
            if up.tx_info.frequency:
                fields["frequency_hz"] = up.tx_info.frequency
            lora = up.tx_info.modulation.lora if up.tx_info.modulation else None
            if lora is not None and lora.spreading_factor is not None:
                fields["spreading_factor"] = lora.spreading_factor
        metrics.append(Metric("lorawan_uplink", tags, fields, ts_ns))
        if up.object:
            decoded = numeric_fields(up.object)
            if decoded:
                metrics.append(Metric("lorawan_reading", {}, decoded, ts_ns))
        return Heard(eui, Life.DATA, metrics)
    if event == "status":
        st = _parse(StatusEvent, data)
        assert isinstance(st, StatusEvent)
        eui = _check_eui(st.device_info, topic_eui)
        sf: dict[str, FieldValue] = {"external_power": int(st.external_power_source)}
        if st.margin is not None:
            sf["margin_db"] = st.margin
        if not st.battery_level_unavailable and st.battery_level is not None:
            sf["battery_percent"] = st.battery_level
        return Heard(eui, Life.DATA, [Metric("lorawan_status", {}, sf, ts_ns)])
    other = _parse(OtherEvent, data)
    assert isinstance(other, OtherEvent)
    return Heard(_check_eui(other.device_info, topic_eui), Life.DATA)


def _check_eui(info: DeviceInfo, topic_eui: str) -> str:
    eui = info.dev_eui.lower()
    if eui != topic_eui.lower():
        raise BadPayload(BadReason.SCHEMA, f"deviceInfo.devEui {eui} is not the topic's "
                                           f"{topic_eui}")
    return eui
