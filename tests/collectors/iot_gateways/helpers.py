"""A running `iot_gateways` listener against the session mosquitto, and a publisher."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from agent.core.model import Event, Item, Metric
from agent.core.plugin import BuildContext, ListenerContext, Target
from collectors.iot_gateways.plugin import GatewaysConfig, GatewaysListener, build
from inventory.models import Device, DeviceKind, Inventory
from tests.collectors.iot_gateways import samples

CAMPUS = "gw-test"


def device(dev_id: str, room: str = "a-101", **labels: str) -> Device:
    return Device(id=dev_id, kind=DeviceKind.SENSOR, campus=CAMPUS, building="a", room=room,
                  labels=labels)


def fleet(suffix: str = "") -> list[Device]:
    return [
        device(f"lora-th{suffix}", lorawan_dev_eui=samples.CS_EUI.upper()),
        device(f"zb-th{suffix}", zigbee_name=f"aqara_th_a101{suffix}"),
        device(f"plc-node{suffix}", room="lab-1", iot_class="plc",
               sparkplug_id=f"{samples.SP_GROUP}/{samples.SP_NODE}"),
        device(f"plc-dev{suffix}", room="lab-1", iot_class="plc",
               sparkplug_id=f"{samples.SP_GROUP}/{samples.SP_NODE}/{samples.SP_DEVICE}"),
    ]


@dataclass
class Recorder:
    targets: Sequence[Target]
    got: list[tuple[str | None, Item]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def context(self) -> ListenerContext:
        def emit(items: Sequence[Item], target: Target | None = None) -> None:
            self.got.extend((target.id if target else None, i) for i in items)

        return ListenerContext(emit=emit, targets=self.targets, count_error=self.errors.append)

    def metrics(self, name: str, target: str | None = None) -> list[Metric]:
        return [i for t, i in self.got if isinstance(i, Metric) and i.name == name
                and (target is None or t == target)]

    def events(self, kind: str, target: str | None = None) -> list[Event]:
        return [i for t, i in self.got if isinstance(i, Event) and i.kind == kind
                and (target is None or t == target)]


async def until(what: Callable[[], Any], limit_s: float = 10.0) -> Any:
    for _ in range(int(limit_s / 0.05)):
        got = what()
        if got:
            return got
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {limit_s}s")


@contextlib.asynccontextmanager
async def listening(host: str, port: int, devices: list[Device], tmp: Any,
                    credentials: dict[str, Any] | None = None, connect_limit_s: float = 10.0,
                    **cfg: Any) -> AsyncIterator[tuple[GatewaysListener, Recorder]]:
    inv = Inventory.build(Inventory.empty(CAMPUS).campus, (), (), devices)
    targets = [Target(id=d.id, device=d) for d in devices]
    conf = GatewaysConfig.model_validate({"host": host, "port": port, "tick_secs": 0.1,
                                          "report_interval_secs": 0.3,
                                          "client_id": f"gw-{uuid.uuid4().hex[:8]}", **cfg})
    ctx = BuildContext(instance="iot_gateways/test", inventory=inv,
                       credentials=credentials or {},
                       data_dir=tmp, config_dir=tmp, logger=logging.getLogger("test.gw"))
    lst = build(conf, ctx)
    rec = Recorder(targets)
    task = asyncio.create_task(lst.run(rec.context()))
    try:
        await until(lambda: lst.sub is not None and lst.sub.stats.connected, connect_limit_s)
        await asyncio.sleep(0.3)  # the SUBACK: subscriptions are in place
        yield lst, rec
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        await lst.close()


class Publisher:
    def __init__(self, host: str, port: int) -> None:
        self.c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex}")
        self.c.connect(host, port)
        self.c.loop_start()
        self.received: list[tuple[str, bytes]] = []
        self.c.on_message = lambda _c, _u, m: self.received.append((m.topic, bytes(m.payload)))

    def publish(self, topic: str, body: bytes, retain: bool = False) -> None:
        self.c.publish(topic, body, qos=1, retain=retain).wait_for_publish(5)

    def subscribe(self, topic: str) -> None:
        self.c.subscribe(topic, 1)

    def stop(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()
