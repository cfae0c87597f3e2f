"""The bacnet input inside the agent: a bacpypes3 device's points come back from the local
store and from VictoriaMetrics; stopped, it goes down on the second failed poll and back up."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.collectors.agentrun import (
    failed_in_a_row_before,
    running_agent,
    stored,
    vm_last,
    wait_until,
    write_config,
)
from tests.collectors.bacnet.helpers import local_address, start_device
from tests.servers import VictoriaMetrics


@pytest.mark.timeout(150)
async def test_bacnet_points_reach_store_and_victoriametrics(
        victoria_metrics: VictoriaMetrics, tmp_path: Path) -> None:
    dev = start_device(tmp_path)
    campus = f"bac-{uuid.uuid4().hex[:6]}"
    inv = {"campus": {"code": campus, "name": "bacnet it"},
           "buildings": [{"id": "lib", "name": "图书馆", "rooms": [
               {"id": "lib-plant", "name": "空调机房", "kind": "machine_room", "devices": [
                   {"id": "ahu-1", "kind": "sensor", "ipv4": "127.0.0.1",
                    "labels": {"bacnet_instance": "1001", "bacnet_map": "ahu",
                               "bacnet_port": str(dev.port), "iot_class": "hvac"}}]}]}]}
    cfg = write_config(tmp_path, inv, [{
        "type": "bacnet", "targets": {"devices": ["ahu-1"]}, "local_address": local_address(),
        "maps": {"ahu": [{"object": "analog-value,1", "name": "zone_temp_c"},
                         {"object": "binary-value,3", "name": "fan_run"}]}}],
        victoria_metrics.url, interval_s=1.0, timeout_s=0.9)
    data = tmp_path / "data"
    try:
        async with running_agent(cfg):
            rows = await wait_until(lambda: stored(data, "bacnet_point", device="ahu-1",
                                                   point="zone_temp_c"), 30)
            assert rows[-1].fields["present_value"] == 21.5
            assert rows[-1].tags["units"] == "degrees-celsius"
            assert rows[-1].tags["room"] == "lib-plant" and rows[-1].tags["campus"] == campus
            by_point: dict[str, dict[str, float]] = {}
            for point in ("zone_temp_c", "fan_run"):
                def read(point: str = point) -> dict[str, float]:
                    return vm_last(victoria_metrics.url, "bacnet_point_present_value",
                                   device="ahu-1", point=point)
                by_point[point] = await wait_until(read)
            assert by_point == {"zone_temp_c": {"bacnet_point_present_value": 21.5},
                                "fan_run": {"bacnet_point_present_value": 1.0}}
            dev.stop()
            downs = await wait_until(lambda: [e for e in stored(data, "event", device="ahu-1")
                                              if e.tags["event_kind"] == "device_down"], 30)
            assert downs[0].tags["iot_class"] == "hvac"
            polls = stored(data, "agent_poll", device="ahu-1")
            assert failed_in_a_row_before(polls, downs[0].ts_ns) == 2
            dev.start()
            await wait_until(lambda: [e for e in stored(data, "event", device="ahu-1")
                                      if e.tags["event_kind"] == "device_up"], 30)
    finally:
        dev.stop()
