"""A Modbus meter that stops answering raises the same IoT alert as an MQTT device
(`device_down_mqtt` matches `iot_device.up == 0` whatever the protocol), and resolves when it
answers again: real pymodbus server, real poller, the built-in rule in the alerts processor."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from agent.core.errors import PartialCollect
from agent.core.model import Event, EventState, Item, Metric
from agent.core.plugin import BuildContext, Target
from agent.shared.alerts import is_alert
from collectors.modbus.plugin import ModbusConfig, build
from collectors.modbus.regmap import shipped_maps
from inventory.models import Device, DeviceKind
from tests.agent.processors.alerts.helpers import FakeClock, campus, processor
from tests.collectors.modbus.helpers import meter_spec, start_device


def _enrich(items: list[Item], d: Device) -> list[Item]:
    """What the pipeline does: the device's place tags on every metric."""
    return [Metric(i.name, {**d.tags(), **i.tags}, i.fields, i.ts_ns)
            if isinstance(i, Metric) else i for i in items]


@pytest.mark.timeout(60)
async def test_a_silent_meter_pages_like_any_iot_device(tmp_path: Path) -> None:
    sdm = shipped_maps()["eastron_sdm120"]
    spec, _ = meter_spec(sdm, {r.field: 1.0 for r in sdm.registers})
    dev = start_device(tmp_path / "dev", spec)
    meter = Device(id="meter-a", kind=DeviceKind.SENSOR, campus="hn-demo", building="teach-a",
                   room="teach-a-101", ipv4="127.0.0.1", vendor="Eastron",
                   labels={"iot_class": "energy_meter", "modbus_map": "eastron_sdm120",
                           "modbus_port": str(dev.port)})
    inv = campus([meter])
    ctx = BuildContext(instance="modbus/t", inventory=inv, credentials={}, data_dir=tmp_path,
                       config_dir=tmp_path, timeout_s=2.0, logger=logging.getLogger("t"))
    poller = build(ModbusConfig(), ctx)
    clock = FakeClock()
    alerts = processor(inv, clock, {"overrides": {"device_down_mqtt": {"for_secs": 0}}},
                       rule_names=["device_down_mqtt"])
    t = Target(id=meter.id, device=meter, ipv4=meter.ipv4)

    async def tick() -> list[Event]:
        try:
            items = list(await poller.poll(t))
        except PartialCollect as exc:
            items = list(exc.items)
        clock.advance(10)
        out = alerts.process(_enrich(items, meter))
        return [e for e in out if isinstance(e, Event) and is_alert(e)]

    try:
        assert await tick() == []
        dev.stop()
        assert await tick() == []  # one missed poll is not an outage
        raised = await tick()
        assert [(e.kind, e.state) for e in raised] == [("device_down_mqtt", EventState.RAISED)]
        assert "(energy_meter, teach-a/teach-a-101)" in raised[0].summary
        assert raised[0].device == "meter-a"
        dev.start()
        resolved = await tick()
        assert [(e.kind, e.state) for e in resolved] == [
            ("device_down_mqtt", EventState.RESOLVED)]
    finally:
        await poller.close()
        dev.stop()
