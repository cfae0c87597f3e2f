"""The modbus input inside the agent: an Eastron SDM630 (pymodbus' server) read on every tick;
what the meter serves comes back from the local store and from VictoriaMetrics; the meter
stopped goes down within two polls and comes back."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.core.model import Metric
from collectors.modbus.regmap import shipped_maps
from tests.collectors.agentrun import (
    failed_in_a_row_before,
    running_agent,
    stored,
    vm_last,
    wait_until,
    write_config,
)
from tests.collectors.modbus.helpers import meter_spec, start_device
from tests.servers import VictoriaMetrics

SDM630 = shipped_maps()["eastron_sdm630"]


def _inventory(port: int) -> dict[str, object]:
    return {"campus": {"code": "mb-it", "name": "modbus it"},
            "buildings": [{"id": "dc", "name": "DC", "rooms": [
                {"id": "dc-101", "name": "机房", "kind": "machine_room", "devices": [
                    {"id": "dc-meter", "kind": "sensor", "ipv4": "127.0.0.1",
                     "labels": {"modbus_map": "eastron_sdm630", "modbus_port": str(port),
                                "iot_class": "energy_meter"}}]}]}]}


@pytest.mark.timeout(120)
async def test_meter_values_reach_store_and_victoriametrics_and_liveness_flips(
        victoria_metrics: VictoriaMetrics, tmp_path: Path) -> None:
    values = {r.field: 100.0 + i * 7.25 for i, r in enumerate(SDM630.registers)}
    spec, served = meter_spec(SDM630, values)
    dev = start_device(tmp_path / "dev", spec)
    cfg = write_config(tmp_path, _inventory(dev.port),
                       [{"type": "modbus", "targets": {"devices": ["dc-meter"]}}],
                       victoria_metrics.url, interval_s=0.5, timeout_s=0.4)
    data = tmp_path / "data"
    try:
        async with running_agent(cfg):
            rows = await wait_until(lambda: stored(data, "modbus_reading", device="dc-meter"))
            got: Metric = rows[-1]
            assert got.fields == served
            # the framework put the device in its place
            assert got.tags["campus"] == "mb-it" and got.tags["room"] == "dc-101"
            assert got.tags["map"] == "eastron_sdm630"
            dev.stop()
            downs = await wait_until(lambda: [
                e for e in stored(data, "event", device="dc-meter")
                if e.tags["event_kind"] == "device_down"])
            assert downs[0].tags["iot_class"] == "energy_meter"
            # down on the second failed poll in a row, not later
            polls = stored(data, "agent_poll", device="dc-meter")
            assert failed_in_a_row_before(polls, downs[0].ts_ns) == 2
            dev.start()
            ups = await wait_until(lambda: [
                e for e in stored(data, "event", device="dc-meter")
                if e.tags["event_kind"] == "device_up"])
            assert ups[0].ts_ns > downs[0].ts_ns
            live = stored(data, "iot_device", device="dc-meter")
            assert [m.fields.get("up") for m in live][-1] == 1
            assert {m.tags["protocol"] for m in live} == {"modbus"}
            # VictoriaMetrics has the same values, one series per map field
            vm = await wait_until(lambda: vm_last(
                victoria_metrics.url, "modbus_reading_.*", device="dc-meter", campus="mb-it"))
            assert vm == {f"modbus_reading_{k}": v for k, v in served.items()}
            await wait_until(lambda: vm_last(victoria_metrics.url, "iot_device_up",
                                             device="dc-meter") == {"iot_device_up": 1.0})
    finally:
        dev.stop()
