"""Shared helpers: a small IoT inventory, a recording listener context, a running listener."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.core.model import Event, Item, Metric
from agent.core.plugin import BuildContext, ListenerContext, Target
from collectors.mqtt.classes import CLASS_TO_KIND, WIFI_SURVEY_ROLE, IotClass
from collectors.mqtt.client import BrokerOptions, Publisher
from collectors.mqtt.config import MqttConfig
from collectors.mqtt.plugin import MqttListener, build
from inventory.models import Building, Campus, Device, Inventory, Room, RoomKind

CAMPUS = "t-campus"
_ids = itertools.count()


def unique(prefix: str) -> str:
    """Device ids unique per test: the session broker keeps retained messages between tests."""
    return f"{prefix}-{next(_ids)}-{int(time.time() * 1000) % 100000}"


def iot_device(dev_id: str, cls: IotClass, room: str = "a-101",
               heartbeat_secs: float | None = None) -> Device:
    labels = {"heartbeat_secs": str(heartbeat_secs)} if heartbeat_secs else {}
    roles = frozenset({WIFI_SURVEY_ROLE}) if cls is IotClass.WIFI_SURVEY else frozenset()
    return Device(id=dev_id, kind=CLASS_TO_KIND[cls], campus=CAMPUS, building="a", room=room,
                  vendor="Hikvision", roles=roles, labels=labels)


def inventory(devices: Sequence[Device]) -> Inventory:
    return Inventory.build(Campus(CAMPUS, "Test campus"), [Building("a", "A")],
                           [Room("a-101", "A101", RoomKind.CLASSROOM, "a")], devices)


def topic(dev: Device, stream: str) -> str:
    return f"campus/{CAMPUS}/{dev.building}/{dev.kind.value}/{dev.id}/{stream}"


@dataclass
class Recorder:
    """A ListenerContext that keeps what the listener emits, with the target's tags."""

    targets: list[Target]
    items: list[tuple[Item, dict[str, str]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def context(self) -> ListenerContext:
        def emit(items: Sequence[Item], target: Target | None = None) -> None:
            tags = target.tags() if target is not None else {}
            self.items.extend((i, tags) for i in items)

        return ListenerContext(emit, self.targets, self.errors.append)

    def metrics(self, name: str, device: str | None = None) -> list[Metric]:
        return [i for i, t in self.items if isinstance(i, Metric) and i.name == name
                and (device is None or t.get("device") == device)]

    def events(self, kind: str | None = None, device: str | None = None) -> list[Event]:
        return [i for i, _ in self.items if isinstance(i, Event)
                and (kind is None or i.kind == kind) and (device is None or i.device == device)]


def targets_of(inv: Inventory) -> list[Target]:
    return [Target(id=d.id, device=d) for d in inv.devices]


def make_listener(cfg: dict[str, Any], inv: Inventory, tmp: Path,
                  credentials: dict[str, Any] | None = None) -> MqttListener:
    ctx = BuildContext(instance="mqtt/test", inventory=inv, credentials=credentials or {},
                       data_dir=tmp, config_dir=tmp)
    return build(MqttConfig.model_validate(cfg), ctx)


@contextlib.asynccontextmanager
async def running(listener: MqttListener, rec: Recorder) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(listener.run(rec.context()))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await listener.close()


async def wait_for(cond: Callable[[], bool], within_s: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if cond():
            return True
        await asyncio.sleep(step)
    return cond()


async def wait_connected(listener: MqttListener, within_s: float = 10.0) -> None:
    def ok() -> bool:
        sub = listener.subscriber
        return sub is not None and sub.stats.connected and sub.stats.connects > 0

    assert await wait_for(ok, within_s), "listener did not connect"
    await asyncio.sleep(0.2)  # the SUBACK follows the CONNACK


def publisher(host: str, port: int, client_id: str | None = None, protocol: str = "5",
              will: tuple[str, bytes, int, bool] | None = None, **kw: Any) -> Publisher:
    opts = BrokerOptions(host=host, port=port, client_id=client_id or unique("pub"),
                         protocol=protocol, **kw)  # type: ignore[arg-type]
    pub = Publisher(opts, will)
    assert pub.start(10.0), f"publisher could not connect to {host}:{port}"
    return pub


def js(obj: Any) -> bytes:
    return json.dumps(obj).encode()
