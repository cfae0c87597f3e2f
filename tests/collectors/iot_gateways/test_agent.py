"""The iot_gateways input inside the agent: what ChirpStack, zigbee2mqtt and a Sparkplug B node
published comes back from the local store and from VictoriaMetrics, in the device's place."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.collectors.agentrun import running_agent, stored, vm_last, wait_until, write_config
from tests.collectors.iot_gateways import samples
from tests.collectors.iot_gateways.helpers import Publisher
from tests.servers import Mosquitto, VictoriaMetrics

SP_NODE_ID = f"{samples.SP_GROUP}/{samples.SP_NODE}"


def _inventory(campus: str) -> dict[str, object]:
    def dev(i: str, room: str, **labels: str) -> dict[str, object]:
        return {"id": i, "kind": "sensor", "labels": labels}

    return {"campus": {"code": campus, "name": "gateways it"},
            "buildings": [{"id": "a", "name": "教学楼A", "rooms": [
                {"id": "a-101", "name": "A101", "kind": "classroom", "devices": [
                    dev("lora-th", "a-101", lorawan_dev_eui=samples.CS_EUI),
                    dev("zb-th", "a-101", zigbee_name="aqara_th_agent")]},
                {"id": "lab-1", "name": "实训室", "kind": "lab", "devices": [
                    dev("plc-node", "lab-1", iot_class="plc", sparkplug_id=SP_NODE_ID),
                    dev("plc-dev", "lab-1", iot_class="plc",
                        sparkplug_id=f"{SP_NODE_ID}/{samples.SP_DEVICE}")]}]}]}


@pytest.mark.timeout(120)
async def test_gateway_readings_reach_store_and_victoriametrics(
        mosquitto: Mosquitto, victoria_metrics: VictoriaMetrics, tmp_path: Path) -> None:
    campus = f"gw-{uuid.uuid4().hex[:6]}"
    cfg = write_config(tmp_path, _inventory(campus), [{
        "type": "iot_gateways", "host": mosquitto.host, "port": mosquitto.port,
        "client_id": f"it-{campus}", "tick_secs": 0.1, "report_interval_secs": 0.5}],
        victoria_metrics.url, interval_s=1.0, timeout_s=0.5)
    data = tmp_path / "data"
    pub = Publisher(mosquitto.host, mosquitto.port)
    try:
        async with running_agent(cfg):
            async def publish_until(measurement: str, device: str, topic: str,
                                    body: bytes) -> list[object]:
                def check() -> list[object]:
                    got = stored(data, measurement, device=device)
                    if not got:  # the agent may not have subscribed yet
                        pub.publish(topic, body)
                    return list(got)
                return list(await wait_until(check, 30, 0.5))

            await publish_until("lorawan_uplink", "lora-th", samples.chirpstack_topic("up"),
                                samples.chirpstack_up())
            await publish_until("zigbee_reading", "zb-th", "zigbee2mqtt/aqara_th_agent",
                                samples.z2m_state())
            pub.publish(samples.sp_topic("NBIRTH"), samples.nbirth(bd_seq=0))
            pub.publish(samples.sp_topic("DBIRTH", samples.SP_DEVICE), samples.dbirth(1))
            pub.publish(samples.sp_topic("DDATA", samples.SP_DEVICE),
                        samples.ddata(2, 1234, 55.5))
            up = (await wait_until(lambda: stored(data, "lorawan_uplink", device="lora-th")))[-1]
            assert up.fields["rssi_dbm"] == -36 and up.fields["snr_db"] == 10.5
            assert up.tags["campus"] == campus and up.tags["room"] == "a-101"
            zb = stored(data, "zigbee_reading", device="zb-th")[-1]
            assert zb.fields == samples.Z2M_STATE
            sp = await wait_until(lambda: [m for m in stored(data, "sparkplug_reading",
                                                              device="plc-dev")
                                           if m.fields.get("output_device_metric2") == 1234])
            assert sp[-1].fields == {"output_device_metric2": 1234,
                                     "output_device_metric3": 55.5}
            assert sp[-1].tags["room"] == "lab-1"
            pub.publish(samples.sp_topic("NDEATH"), samples.ndeath(bd_seq=0))
            downs = await wait_until(lambda: [e for e in stored(data, "event")
                                              if e.tags["event_kind"] == "device_down"
                                              and e.tags["device"] in ("plc-node", "plc-dev")])
            assert {e.tags["iot_class"] for e in downs} == {"plc"}
            pub.publish(samples.sp_topic("NBIRTH"), samples.nbirth(bd_seq=1))
            await wait_until(lambda: [e for e in stored(data, "event", device="plc-node")
                                      if e.tags["event_kind"] == "device_up"])
            vm = await wait_until(lambda: vm_last(victoria_metrics.url, "zigbee_reading_.*",
                                                  device="zb-th", campus=campus))
            assert vm == {f"zigbee_reading_{k}": float(v)
                          for k, v in samples.Z2M_STATE.items()}
            lora = await wait_until(lambda: vm_last(
                victoria_metrics.url, "lorawan_(uplink|reading)_.*", device="lora-th"))
            assert lora["lorawan_uplink_rssi_dbm"] == -36.0
            assert lora["lorawan_reading_temperature"] == 21.5
            spv = await wait_until(lambda: vm_last(victoria_metrics.url,
                                                   "sparkplug_reading_output_.*",
                                                   device="plc-dev"))
            assert spv == {"sparkplug_reading_output_device_metric2": 1234.0,
                           "sparkplug_reading_output_device_metric3": 55.5}
    finally:
        pub.stop()
