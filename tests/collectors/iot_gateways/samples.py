"""Messages as ChirpStack v4, zigbee2mqtt and a Sparkplug B edge node publish them.

Sources (documentation of each system; values kept, ids changed only where a test needs two):
- ChirpStack v4: topic `application/APPLICATION_ID/device/DEV_EUI/event/EVENT` (docs,
  "Integrations › MQTT"); the `up` body is modelled on the `up` example of "Integrations ›
  Event types" — the Protobuf JSON mapping of integration.proto `UplinkEvent` (deviceInfo,
  devAddr, dr, fCnt, fPort, data, rxInfo[gatewayId, uplinkId, rssi, snr, context], txInfo
  with LoRa modulation) — with a second receiving gateway and a decoded `object` as a
  device-profile codec adds; `status` follows `StatusEvent` (margin, externalPowerSource,
  batteryLevelUnavailable, batteryLevel). rxInfo's shape is also that of the Gateway Bridge
  docs' `up` example.
- zigbee2mqtt: `zigbee2mqtt/FRIENDLY_NAME` with the exposes of the Aqara WSDCGQ11LM
  temperature/humidity/pressure sensor (docs, "Supported devices"), and
  `zigbee2mqtt/FRIENDLY_NAME/availability` `{"state":"online"}` (docs, "Device availability").
- Sparkplug B: Eclipse Sparkplug 3.0 topics and payloads (`sparkplug_b.proto` field numbers),
  with the metric names of the Eclipse Tahu Python example edge node ("Node Control/Rebirth",
  "Node Metric0", "input/Device Metric0" …); DDATA by alias only, as that example sends it.
  Encoded here with a wire-format writer of the test's own, not with the collector's schema.
"""

from __future__ import annotations

import json
import struct

CS_APP = "17c82e96-be03-4f38-aef3-f83d48582d97"
CS_EUI = "0101010101010101"


def chirpstack_up(eui: str = CS_EUI, f_cnt: int = 4) -> bytes:
    return json.dumps({
        "deduplicationId": "3ac7e3c4-4401-4b8d-9386-a5c902f9202d",
        "time": "2022-07-18T09:34:15.775023242+00:00",
        "deviceInfo": {
            "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242", "tenantName": "ChirpStack",
            "applicationId": CS_APP, "applicationName": "Test application",
            "deviceProfileId": "14855bf7-d10d-4aee-b618-ebfcb64dc7ad",
            "deviceProfileName": "E2E test", "deviceName": "Test device", "devEui": eui,
            "tags": {}},
        "devAddr": "00189440", "adr": True, "dr": 1, "fCnt": f_cnt, "fPort": 1,
        "confirmed": False, "data": "qg==",
        "object": {"temperature": 21.5, "humidity": 48, "battery": {"voltage": 3.01},
                   "label": "text is dropped"},
        "rxInfo": [
            {"gatewayId": "0016c001f153a14c", "uplinkId": 4217106255, "rssi": -36,
             "snr": 10.5, "context": "E3OWOQ==",
             "metadata": {"region_name": "eu868", "region_common_name": "EU868"}},
            {"gatewayId": "0016c001f1500812", "uplinkId": 1234567, "rssi": -87, "snr": -2.25,
             "context": "AAAAAA=="}],
        "txInfo": {"frequency": 867100000, "modulation": {"lora": {
            "bandwidth": 125000, "spreadingFactor": 7, "codeRate": "CR_4_5"}}},
    }).encode()


def chirpstack_status(eui: str = CS_EUI) -> bytes:
    return json.dumps({
        "deduplicationId": "7ee4d5c0-9d88-44e4-8c86-6b2ad0a9e0d7",
        "time": "2022-07-18T09:40:00+00:00",
        "deviceInfo": {"tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
                       "applicationId": CS_APP, "deviceName": "Test device", "devEui": eui},
        "margin": 6, "externalPowerSource": False, "batteryLevelUnavailable": False,
        "batteryLevel": 71.5}).encode()


def chirpstack_topic(event: str, eui: str = CS_EUI) -> str:
    return f"application/{CS_APP}/device/{eui}/event/{event}"


Z2M_STATE = {"battery": 100, "humidity": 51.85, "linkquality": 134, "pressure": 1012.3,
             "temperature": 23.41, "voltage": 3005}


def z2m_state() -> bytes:
    return json.dumps(Z2M_STATE).encode()


# ------------------------------------------------------------------ Sparkplug B wire format
def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _key(num: int, wire: int) -> bytes:
    return _varint(num << 3 | wire)


def _len(num: int, data: bytes) -> bytes:
    return _key(num, 2) + _varint(len(data)) + data


# Sparkplug DataType → (value field number, how to write it)
INT16, INT64, UINT32, FLOAT, DOUBLE, BOOLEAN, STRING = 2, 4, 7, 9, 10, 11, 12


def metric(name: str | None, datatype: int, value: object, alias: int | None = None) -> bytes:
    out = b""
    if name is not None:
        out += _len(1, name.encode())
    if alias is not None:
        out += _key(2, 0) + _varint(alias)
    out += _key(4, 0) + _varint(datatype)
    if datatype in (INT16, UINT32):  # int_value (uint32); negatives as two's complement
        assert isinstance(value, int)
        out += _key(10, 0) + _varint(value & 0xFFFFFFFF)
    elif datatype == INT64:
        assert isinstance(value, int)
        out += _key(11, 0) + _varint(value & 0xFFFFFFFFFFFFFFFF)
    elif datatype == FLOAT:
        assert isinstance(value, float)
        out += _key(12, 5) + struct.pack("<f", value)
    elif datatype == DOUBLE:
        assert isinstance(value, float)
        out += _key(13, 1) + struct.pack("<d", value)
    elif datatype == BOOLEAN:
        out += _key(14, 0) + _varint(1 if value else 0)
    elif datatype == STRING:
        assert isinstance(value, str)
        out += _len(15, value.encode())
    return out


def payload(seq: int | None, metrics: list[bytes], timestamp: int = 1_700_000_000_000) -> bytes:
    out = _key(1, 0) + _varint(timestamp)
    for m in metrics:
        out += _len(2, m)
    if seq is not None:
        out += _key(3, 0) + _varint(seq)
    return out


SP_GROUP, SP_NODE, SP_DEVICE = "Sparkplug B Devices", "Python Edge Node 1", "Emulated Device"


def sp_topic(mtype: str, device: str | None = None) -> str:
    return "/".join(["spBv1.0", SP_GROUP, mtype, SP_NODE, *([device] if device else [])])


def nbirth(bd_seq: int = 0) -> bytes:
    return payload(0, [metric("bdSeq", INT64, bd_seq),
                       metric("Node Control/Rebirth", BOOLEAN, False, alias=1),
                       metric("Node Metric0", STRING, "hello node", alias=4),
                       metric("Node Metric1", BOOLEAN, True, alias=5),
                       metric("Node Metric2", INT16, -13, alias=6)])


def dbirth(seq: int) -> bytes:
    return payload(seq, [metric("input/Device Metric0", STRING, "hello device", alias=10),
                         metric("input/Device Metric1", BOOLEAN, True, alias=11),
                         metric("output/Device Metric2", INT16, 16, alias=12),
                         metric("output/Device Metric3", DOUBLE, 21.25, alias=13)])


def ddata(seq: int, m2: int, m3: float) -> bytes:
    """By alias only, as the Tahu example's DDATA."""
    return payload(seq, [metric(None, INT16, m2, alias=12), metric(None, DOUBLE, m3, alias=13)])


def ndeath(bd_seq: int = 0) -> bytes:
    return payload(None, [metric("bdSeq", INT64, bd_seq)])
