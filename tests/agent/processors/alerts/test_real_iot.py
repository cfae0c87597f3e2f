"""Alert rules driven by the IoT simulator (engineer D's fleet) through the real MQTT listener
on mosquitto: all cameras go silent → one `iot_class_offline` page, the per-camera
`device_down_mqtt` alerts held back behind it; they come back → everything resolves.
Delivered to Alertmanager, the robots, MQTT and the log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from agent.core.model import Item
from agent.core.plugin import Target
from agent.processors.alerts.conditions import EvalContext
from agent.processors.alerts.plugin import AlertsConfig, AlertsProcessor, load_rules
from collectors.mqtt.classes import IotClass
from collectors.mqtt.sim import FleetOptions, generate_inventory, start_fleet
from inventory.loader import load_inventory
from tests.agent.processors.alerts.rig import Rig
from tests.agent.processors.alerts.sinks import alert_messages, all_sinks, logged, mqtt_subscriber
from tests.collectors.mqtt.helpers import make_listener, running, targets_of, wait_connected
from tests.exporters.alertmanager.amserver import Alertmanager
from tests.exporters.webhook.receiver import RobotReceiver
from tests.servers import Mosquitto


class _Ctx:
    """The listener's context, emitting into the alert rig as the runtime's sink would."""

    def __init__(self, rig: Rig, targets: list[Target]) -> None:
        from agent.core.plugin import ListenerContext

        def emit(items: Sequence[Item], target: Target | None = None) -> None:
            rig.submit(list(items), target)

        self.errors: list[str] = []
        self.ctx = ListenerContext(emit, targets, self.errors.append)

    def context(self) -> Any:
        return self.ctx


async def _pump(rig: Rig, until: Callable[[], bool], secs: float) -> bool:
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        await rig.flush()
        for name in rig.outputs:
            await rig.deliver(name)
        if until():
            return True
        await asyncio.sleep(0.2)
    return until()


@pytest.mark.timeout(90)
async def test_cameras_going_silent_in_bulk(tmp_path: Path, mosquitto: Mosquitto,
                                            alertmanager_e2e: Alertmanager,
                                            robots: RobotReceiver) -> None:
    run = f"iot-{time.time_ns()}"
    inv = load_inventory(generate_inventory(tmp_path / "iot.yaml", per_class=3,
                                            heartbeat_secs=1.0, campus="iot-alerts", seed=5))
    cfg = AlertsConfig.model_validate({
        "overrides": {"device_down_mqtt": {"for_secs": 0}, "iot_class_offline": {"for_secs": 0}},
        "topology": {"settle_secs": 5}})  # a device alert waits 5 s for its class's
    rules = [r for r in load_rules(cfg, tmp_path)
             if r.name in ("device_down_mqtt", "iot_class_offline")]
    proc = AlertsProcessor(rules, cfg, EvalContext(inv, {}))  # the real clock
    rig = Rig(tmp_path, proc, all_sinks(tmp_path, alertmanager_e2e, robots, mosquitto, run))
    listener = make_listener({"host": mosquitto.host, "port": mosquitto.port,
                              "report_interval_secs": 0.5, "liveness_tick_secs": 0.25},
                             inv, tmp_path)
    fleet = start_fleet(mosquitto.host, mosquitto.port, inv, None, FleetOptions(
        seed=5, outage_fraction=0.0, malformed_rate=0.0, event_rate=0.0, goodbye=False))
    cams = sorted(d.id for d in fleet.fleet.devices if d.cls is IotClass.CAMERA)

    def ours() -> dict[str, dict[str, Any]]:
        return {a["annotations"]["key"]: a for a in alertmanager_e2e.alerts()
                if a["labels"].get("run") == run}

    recorder = _Ctx(rig, targets_of(inv))
    try:
        with mqtt_subscriber(mosquitto, "campusmon/iot-alerts/alerts/#") as mqtt:
            async with running(listener, recorder):  # type: ignore[arg-type]
                await wait_connected(listener)
                await _pump(rig, lambda: False, 3.0)  # everyone online and reporting
                assert ours() == {}
                for d in fleet.fleet.devices:
                    if d.cls is IotClass.CAMERA:
                        d.muted = True  # silent, like a PoE switch losing power
                want = {"iot_class_offline:camera"}  # one page, not one per camera
                assert await _pump(rig, lambda: set(ours()) == want, 15.0), ours()
                await _pump(rig, lambda: False, 6.0)  # past the 5 s hold: still held back
                assert set(ours()) == want
                got = ours()["iot_class_offline:camera"]["annotations"]
                assert got["summary"] == "3 of 3 camera devices are offline"
                assert got["held_back"] == "3"
                assert {a.key for a in proc.book.alerts() if a.suppressed_by} == {
                    f"device_down_mqtt:{c}" for c in cams}
                for d in fleet.fleet.devices:
                    d.muted = False
                assert await _pump(rig, lambda: ours() == {}, 15.0), ours()
            await _pump(rig, lambda: len(alert_messages(mqtt)) >= 2, 5.0)
    finally:
        fleet.stop()
    states = {(k, s) for k, s in alert_messages(mqtt)}
    assert states == {(k, s) for k in want for s in ("raised", "resolved")}
    assert sorted(logged(tmp_path / "alerts.jsonl")) == sorted(alert_messages(mqtt))
    assert all(r.verdict == "ok" for r in robots.received)
    rig.close()
