"""The `mqtt` input inside the agent: config file → runtime → pipeline tags; never a silent stop."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from pathlib import Path

import pytest
import yaml

from agent.app.builtins import builtin_registry
from agent.core.errors import CollectError
from agent.core.model import Metric
from agent.framework.runtime import Agent
from collectors.mqtt.classes import IotClass
from collectors.mqtt.sim import generate_inventory
from config.loader import load_config
from inventory.loader import load_inventory
from tests.collectors.mqtt.helpers import (
    Recorder,
    inventory,
    iot_device,
    js,
    make_listener,
    publisher,
    targets_of,
    unique,
    wait_connected,
)
from tests.servers import Mosquitto


@pytest.mark.timeout(60)
async def test_agent_once_with_mqtt_input(mosquitto: Mosquitto, tmp_path: Path) -> None:
    inv_path = generate_inventory(tmp_path / "iot.yaml", per_class=1, campus="agent-it")
    inv = load_inventory(inv_path)
    g5 = next(d for d in inv.devices if d.kind.value == "5g_cpe")
    cfg_path = tmp_path / "agent.yaml"
    cfg_path.write_text(yaml.safe_dump({
        "agent": {"inventory": str(inv_path), "data_dir": str(tmp_path / "data")},
        "inputs": [{"type": "mqtt", "host": mosquitto.host, "port": mosquitto.port,
                    "client_id": unique("agent-it"), "report_interval_secs": 0.5}],
    }))
    cfg = load_config(cfg_path, builtin_registry())
    lines: list[Metric] = []
    agent = Agent(cfg, builtin_registry(), print_lines=lines.extend)
    topic = f"campus/agent-it/{g5.building}/5g_cpe/{g5.id}/telemetry"
    body = js({"rsrp_dbm": -101, "rsrq_db": -13, "sinr_db": 4, "band": "n78",
               "dl_mbps": 150.0, "ul_mbps": 20.0})
    stop = threading.Event()

    def keep_publishing() -> None:  # until the agent has subscribed, whenever that is
        pub = publisher(mosquitto.host, mosquitto.port)
        try:
            while not stop.wait(0.2):
                pub.publish(topic, body, 1)
        finally:
            pub.stop()

    t = threading.Thread(target=keep_publishing)
    t.start()
    try:
        await agent.once(listen_secs=2.5)
    finally:
        stop.set()
        await asyncio.to_thread(t.join, 10)
    g5_lines = [m for m in lines if m.name == "cellular_5g"]
    assert g5_lines
    tags = g5_lines[0].tags
    # the framework added the inventory device's place: campus, building, room, device, kind
    assert tags["campus"] == "agent-it" and tags["device"] == g5.id
    assert tags["building"] == g5.building and tags["room"] == g5.room
    assert tags["kind"] == "5g_cpe" and tags["band"] == "n78"
    assert any(m.name == "mqtt_client" for m in lines)


@pytest.mark.timeout(30)
async def test_network_thread_death_is_not_silent(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """If paho's thread ever ends, `run` raises so the framework restarts the listener."""
    inv = inventory([iot_device(unique("env"), IotClass.ENV_SENSOR)])
    lst = make_listener({"host": mosquitto.host, "port": mosquitto.port,
                         "liveness_tick_secs": 0.1}, inv, tmp_path)
    rec = Recorder(targets_of(inv))
    task = asyncio.create_task(lst.run(rec.context()))
    try:
        await wait_connected(lst)
        assert lst.subscriber is not None
        await asyncio.to_thread(lst.subscriber._client.loop_stop)  # the thread is gone
        t0 = time.monotonic()
        with pytest.raises(CollectError, match="network thread"):
            await asyncio.wait_for(task, 5)
        assert time.monotonic() - t0 < 5
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        await lst.close()
