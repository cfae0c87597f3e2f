"""The coap input inside the agent: an aiocoap device's values come back from the local store
and from VictoriaMetrics; stopped, it goes down on the second failed poll and comes back."""

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
from tests.collectors.coap.server import SERVED
from tests.collectors.coap.test_live import start_server
from tests.servers import VictoriaMetrics


@pytest.mark.timeout(120)
async def test_coap_values_reach_store_and_victoriametrics(
        victoria_metrics: VictoriaMetrics, tmp_path: Path) -> None:
    srv, port = start_server(tmp_path)
    campus = f"coap-{uuid.uuid4().hex[:6]}"
    inv = {"campus": {"code": campus, "name": "coap it"},
           "buildings": [{"id": "b", "name": "B", "rooms": [
               {"id": "b-1", "name": "机房", "kind": "machine_room", "devices": [
                   {"id": "air-1", "kind": "sensor", "ipv4": "127.0.0.1",
                    "labels": {"coap_port": str(port)}}]}]}]}
    cfg = write_config(tmp_path, inv, [{
        "type": "coap", "targets": {"devices": ["air-1"]},
        "resources": [{"path": "/sensors/air"}, {"path": "/senml", "format": "senml+json"}]}],
        victoria_metrics.url, interval_s=0.5, timeout_s=0.4)
    data = tmp_path / "data"
    try:
        async with running_agent(cfg):
            rows = await wait_until(lambda: stored(data, "coap_reading", device="air-1",
                                                   resource="/sensors/air"))
            assert rows[-1].fields == SERVED["/sensors/air"]
            assert rows[-1].tags["room"] == "b-1" and rows[-1].tags["campus"] == campus
            senml = stored(data, "coap_reading", device="air-1", resource="/senml")[-1]
            assert senml.fields == {"urn_dev_ow_10e2073a01080063_voltage": 120.1,
                                    "urn_dev_ow_10e2073a01080063_current": 1.2}
            vm = await wait_until(lambda: vm_last(victoria_metrics.url, "coap_reading_.*",
                                                  device="air-1", resource="/sensors/air"))
            assert vm == {f"coap_reading_{k}": float(v)
                          for k, v in SERVED["/sensors/air"].items()}
            srv.stop()
            downs = await wait_until(lambda: [e for e in stored(data, "event", device="air-1")
                                              if e.tags["event_kind"] == "device_down"])
            polls = stored(data, "agent_poll", device="air-1")
            assert failed_in_a_row_before(polls, downs[0].ts_ns) == 2
            srv.start()
            await wait_until(lambda: [e for e in stored(data, "event", device="air-1")
                                      if e.tags["event_kind"] == "device_up"])
            await wait_until(lambda: vm_last(victoria_metrics.url, "iot_device_up",
                                             device="air-1") == {"iot_device_up": 1.0})
    finally:
        srv.stop()
