"""ChirpStack v4, zigbee2mqtt and Sparkplug B messages, published to mosquitto as those systems
publish them (tests/collectors/iot_gateways/samples.py cites each), read by the listener."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from collectors.iot_gateways.client import decode_sparkplug
from tests.collectors.iot_gateways import samples
from tests.collectors.iot_gateways.helpers import Publisher, device, fleet, listening, until
from tests.servers import Mosquitto


@pytest.mark.timeout(60)
async def test_chirpstack_uplink_and_status(mosquitto: Mosquitto, tmp_path: Path) -> None:
    pub = Publisher(mosquitto.host, mosquitto.port)
    async with listening(mosquitto.host, mosquitto.port, fleet("-cs"), tmp_path) as (_, rec):
        pub.publish(samples.chirpstack_topic("up"), samples.chirpstack_up())
        pub.publish(samples.chirpstack_topic("status"), samples.chirpstack_status())
        pub.publish(samples.chirpstack_topic("txack"), b"{}")  # not about liveness
        up = (await until(lambda: rec.metrics("lorawan_uplink", "lora-th-cs")))[0]
        # the best of two gateways
        assert up.tags == {"gateway": "0016c001f153a14c"}
        assert up.fields == {"rssi_dbm": -36, "snr_db": 10.5, "gateways": 2,
                             "frame_count_total": 4, "data_rate": 1,
                             "frequency_hz": 867100000, "spreading_factor": 7}
        reading = rec.metrics("lorawan_reading", "lora-th-cs")[0]
        assert reading.fields == {"temperature": 21.5, "humidity": 48,
                                  "battery_voltage": 3.01}
        status = (await until(lambda: rec.metrics("lorawan_status", "lora-th-cs")))[0]
        assert status.fields == {"battery_percent": 71.5, "margin_db": 6, "external_power": 0}
        live = (await until(lambda: [m for m in rec.metrics("iot_device", "lora-th-cs")
                                     if m.fields.get("up") == 1]))[-1]
        assert live.tags == {"iot_class": "env_sensor", "protocol": "lorawan"}
    pub.stop()


@pytest.mark.timeout(60)
async def test_zigbee2mqtt_state_and_availability(mosquitto: Mosquitto, tmp_path: Path) -> None:
    pub = Publisher(mosquitto.host, mosquitto.port)
    name = "zigbee2mqtt/aqara_th_a101-zb"
    async with listening(mosquitto.host, mosquitto.port, fleet("-zb"), tmp_path) as (_, rec):
        pub.publish(name, samples.z2m_state())
        pub.publish(f"{name}/set", b'{"state":"ON"}')  # a command to it, not from it
        pub.publish("zigbee2mqtt/bridge/state", b'{"state":"online"}')
        r = (await until(lambda: rec.metrics("zigbee_reading", "zb-th-zb")))[0]
        assert r.fields == samples.Z2M_STATE
        pub.publish(f"{name}/availability", b'{"state":"offline"}', retain=True)
        down = (await until(lambda: rec.events("device_down", "zb-th-zb")))[0]
        assert down.labels == {"iot_class": "env_sensor", "reason": "offline_status"}
        pub.publish(f"{name}/availability", b"online", retain=True)  # the legacy payload
        await until(lambda: rec.events("device_up", "zb-th-zb"))
        assert len(rec.metrics("zigbee_reading", "zb-th-zb")) == 1
    pub.publish(f"{name}/availability", b"", retain=True)  # clear the retained message
    pub.stop()


@pytest.mark.timeout(60)
async def test_zigbee_device_silent_goes_stale_within_two_intervals_and_comes_back(
        mosquitto: Mosquitto, tmp_path: Path) -> None:
    pub = Publisher(mosquitto.host, mosquitto.port)
    name = "zigbee2mqtt/aqara_th_a101-st"
    devices = fleet("-st")
    # the device's own heartbeat label wins over the schema's default (one hour)
    devices[1] = device("zb-th-st", zigbee_name="aqara_th_a101-st", heartbeat_secs="0.6")
    async with listening(mosquitto.host, mosquitto.port, devices, tmp_path) as (lst, rec):
        pub.publish(name, samples.z2m_state())
        await until(lambda: rec.metrics("zigbee_reading", "zb-th-st"))
        down = (await until(lambda: rec.events("device_down", "zb-th-st")))[0]
        assert down.labels["reason"] == "stale"
        assert lst.ingest is not None
        heard = lst.ingest.live["zigbee2mqtt"].devices["zb-th-st"]
        assert heard.last_mono is not None
        # down at 1.5 intervals of silence plus at most one tick: within two intervals
        assert down.ts_ns > 0 and not rec.events("device_up", "zb-th-st")
        pub.publish(name, samples.z2m_state())
        await until(lambda: rec.events("device_up", "zb-th-st"))
    pub.stop()


@pytest.mark.timeout(60)
async def test_sparkplug_birth_alias_data_gap_rebirth_and_death(mosquitto: Mosquitto,
                                                                 tmp_path: Path) -> None:
    pub = Publisher(mosquitto.host, mosquitto.port)
    pub.subscribe(samples.sp_topic("NCMD"))
    async with listening(mosquitto.host, mosquitto.port, fleet("-sp"), tmp_path,
                         sparkplug={"rebirth_min_interval_secs": 0.1}) as (lst, rec):
        pub.publish(samples.sp_topic("NBIRTH"), samples.nbirth(bd_seq=3))
        pub.publish(samples.sp_topic("DBIRTH", samples.SP_DEVICE), samples.dbirth(1))
        pub.publish(samples.sp_topic("DDATA", samples.SP_DEVICE), samples.ddata(2, -7, 22.5))
        node = (await until(lambda: rec.metrics("sparkplug_reading", "plc-node-sp")))[0]
        # the string metric is left out; the Int16 -13 comes back signed; control metrics out
        assert node.fields == {"node_metric1": 1, "node_metric2": -13}
        dev = await until(lambda: rec.metrics("sparkplug_reading", "plc-dev-sp")[1:])
        assert rec.metrics("sparkplug_reading", "plc-dev-sp")[0].fields == {
            "input_device_metric1": 1, "output_device_metric2": 16,
            "output_device_metric3": 21.25}
        # DDATA by alias only: names from the DBIRTH
        assert dev[0].fields == {"output_device_metric2": -7, "output_device_metric3": 22.5}
        assert not pub.received
        # seq 3 and 4 lost: a gap, and a rebirth request to the node
        pub.publish(samples.sp_topic("DDATA", samples.SP_DEVICE), samples.ddata(5, 1, 1.0))
        topic, body = (await until(lambda: pub.received))[0]
        assert topic == samples.sp_topic("NCMD")
        req = decode_sparkplug(body)
        assert [(m.name, m.value) for m in req.metrics] == [("Node Control/Rebirth", True)]
        assert lst.ingest is not None
        st = lst.ingest.sparkplug.nodes[f"{samples.SP_GROUP}/{samples.SP_NODE}"]
        assert st.seq_gaps == 1 and st.rebirths == 1
        # an NDEATH of an older session (bdSeq 2) is not this node's death
        pub.publish(samples.sp_topic("NDEATH"), samples.ndeath(bd_seq=2))
        await until(lambda: st.stale_deaths == 1)
        assert not rec.events("device_down")
        pub.publish(samples.sp_topic("NDEATH"), samples.ndeath(bd_seq=3))
        downs = await until(lambda: rec.events("device_down")
                            if len(rec.events("device_down")) >= 2 else None)
        assert {e.device for e in downs} == {"plc-node-sp", "plc-dev-sp"}
        assert {e.labels["iot_class"] for e in downs} == {"plc"}
        pub.publish(samples.sp_topic("NBIRTH"), samples.nbirth(bd_seq=4))
        await until(lambda: rec.events("device_up", "plc-node-sp"))
        books = await until(lambda: [m for m in rec.metrics("sparkplug_node")
                                     if m.fields["births_total"] == 2])
        assert books[-1].fields["deaths_total"] == 1
        assert books[-1].fields["stale_deaths_total"] == 1
    pub.stop()


@pytest.mark.timeout(60)
async def test_malformed_frames_are_counted_never_a_crash(mosquitto: Mosquitto,
                                                          tmp_path: Path) -> None:
    pub = Publisher(mosquitto.host, mosquitto.port)
    async with listening(mosquitto.host, mosquitto.port, fleet("-bad"), tmp_path) as (lst, rec):
        pub.publish(samples.sp_topic("DDATA", samples.SP_DEVICE), b"\xff\xff\xff\x0f garbage")
        pub.publish(samples.chirpstack_topic("up"), b"{not json")
        pub.publish(samples.chirpstack_topic("up"), b'{"deviceInfo": {"devEui": "zz"}}')
        wrong = samples.chirpstack_up(eui="0202020202020202")  # body names another device
        pub.publish(samples.chirpstack_topic("up"), wrong)
        pub.publish("zigbee2mqtt/aqara_th_a101-bad", b"[1, 2]")
        pub.publish("zigbee2mqtt/aqara_th_a101-bad/availability", b"maybe")
        pub.publish("zigbee2mqtt/unknown_sensor", samples.z2m_state())
        pub.publish(samples.chirpstack_topic("up"), samples.chirpstack_up())  # still read
        await until(lambda: rec.metrics("lorawan_uplink", "lora-th-bad"))
        ingest = lst.ingest
        assert ingest is not None
        bad = await until(lambda: {(s, r.value): n for (s, r), n in ingest.books.bad.items()}
                          if sum(ingest.books.bad.values()) >= 6 else None)
        assert bad == {("sparkplug", "protobuf"): 1, ("chirpstack", "json"): 1,
                       ("chirpstack", "schema"): 2, ("zigbee2mqtt", "schema"): 1,
                       ("zigbee2mqtt", "json"): 1}
        assert ingest.unregistered == {"zigbee2mqtt:unknown_sensor": 1}
        # the client's counters reach the same figures (a report made between the sixth bad
        # payload and the unknown device's message rightly showed unregistered 0), and no
        # report ever counted more than happened
        await until(lambda: [m for m in rec.metrics("iot_gateways_client")
                             if m.fields["bad_payloads_total"] == 6
                             and m.fields["unregistered_messages_total"] == 1])
        assert all(m.fields["bad_payloads_total"] <= 6  # type: ignore[operator]
                   and m.fields["unregistered_messages_total"] <= 1  # type: ignore[operator]
                   for m in rec.metrics("iot_gateways_client"))
        assert not rec.errors
        await asyncio.sleep(0)
    pub.stop()
