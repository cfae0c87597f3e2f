"""The `bacnet` poller: BACnet/IP building automation (HVAC, lighting, meters) by object maps.

A device is an inventory device (or static target) with the label `bacnet_instance` (its
device object instance) and `bacnet_map` naming one of the config's `maps` (which objects to
read, and which to follow by COV); `bacnet_port` when it does not listen on 47808. BACnet/IP
has no authentication here (BACnet/SC is not read yet), so no credential set is used.

With `discovery_address`, a Who-Is without a range goes there every `discovery_every_polls`
polls, and devices that answer but are not in the inventory are reported
(`unregistered_iot_device`, as the MQTT listener reports unknown device ids).

Each poll: Who-Is to the device's address (until it answered once), its object list (once,
then every `object_list_every_polls`), ReadPropertyMultiple of present-value / status-flags /
units for the map's objects, and the latest COV notification for the objects that subscribe
(subscriptions renewed before their lifetime ends, started again when they die). A device is
up when it answered the poll (or sent a notification since the last one); down after two
polls in a row without.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import Field

from agent.core.catalogue import Measurement, counter, gauge, state, tag
from agent.core.errors import CollectError, PartialCollect
from agent.core.model import ErrorType, Event, EventState, FieldValue, Item, Metric, Severity
from agent.core.plugin import BuildContext, DefaultTargets, PluginKind, PluginSpec, Target
from agent.shared.iotclasses import class_name
from agent.shared.iotliveness import IOT_DEVICE, PollLiveness
from collectors.bacnet.status import STATUS_BITS
from config.base import StrictModel

if TYPE_CHECKING:
    from collectors.bacnet.client import PointValue, Subscription

INSTANCE_LABEL, MAP_LABEL, PORT_LABEL = "bacnet_instance", "bacnet_map", "bacnet_port"
_OBJECT = r"^[a-z][a-z-]*,\d{1,7}$"
_RPM_CHUNK = 16  # objects per ReadPropertyMultiple: fits the smallest common APDU (480 bytes)


class ObjectSpec(StrictModel):
    object: str = Field(pattern=_OBJECT)  # "analog-input,2"
    name: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,63}$")
    cov: bool = False


class BacnetConfig(StrictModel):
    local_address: str = "host"  # our BACnet/IP address, e.g. "10.1.2.3/24:47808"
    local_instance: int = Field(default=4194300, ge=0, le=4194302)
    maps: dict[str, list[ObjectSpec]] = Field(min_length=1)
    cov_lifetime_secs: int = Field(default=300, ge=10, le=86400)
    object_list_every_polls: int = Field(default=60, ge=1)
    # Who-Is without a range to this address (a directed broadcast such as
    # "10.20.0.255:47808") every `discovery_every_polls` polls: devices that answer and are
    # not in the inventory are reported as unregistered IoT devices
    discovery_address: str | None = None
    discovery_every_polls: int = Field(default=60, ge=1)
    down_after_failures: int = Field(default=2, ge=1, le=10)


@dataclass(slots=True)
class Latest:
    value: float | int | None = None
    status: dict[str, int] = field(default_factory=dict)
    notifications: int = 0
    since_poll: bool = False
    ts_ns: int = 0


@dataclass(slots=True)
class DeviceState:
    found: bool = False
    objects_total: int | None = None
    polls: int = 0
    not_numbers: int = 0
    errors: int = 0
    subs: dict[str, Subscription] = field(default_factory=dict)
    sub_started: dict[str, float] = field(default_factory=dict)
    latest: dict[str, Latest] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)


def _label(t: Target, name: str) -> str | None:
    if name in t.labels:
        return t.labels[name]
    return t.device.labels.get(name) if t.device is not None else None


def _point_name(spec: ObjectSpec) -> str:
    return spec.name or re.sub(r"[^a-z0-9]+", "_", spec.object)


class BacnetPoller:
    def __init__(self, cfg: BacnetConfig, timeout_s: float, logger: logging.Logger) -> None:
        self.cfg = cfg
        self.timeout_s = timeout_s
        self.log = logger
        # imported here: bacpypes3 loads only where a bacnet input is built
        from collectors.bacnet.client import BacnetClient
        self.client = BacnetClient(cfg.local_address, cfg.local_instance)
        self.live = PollLiveness("bacnet", cfg.down_after_failures)
        self.devices: dict[str, DeviceState] = {}
        self.known_instances: set[int] = set()
        self.unregistered: dict[int, str] = {}
        self._discovery_polls = 0

    async def start(self) -> None:
        return None

    async def _discover(self, wall: int) -> list[Item]:
        """Run by whichever poll comes due; every device it finds outside the inventory is
        reported once (the same event MQTT raises for an unknown device id)."""
        if self.cfg.discovery_address is None:
            return []
        self._discovery_polls += 1
        if (self._discovery_polls - 1) % self.cfg.discovery_every_polls:
            return []
        try:
            found = await self.client.discover(self.cfg.discovery_address, self.timeout_s / 3)
        except CollectError as exc:
            self.log.info("BACnet discovery on %s failed: %s", self.cfg.discovery_address, exc)
            return []
        out: list[Item] = []
        for instance, address in found:
            if instance in self.known_instances or instance in self.unregistered:
                continue
            if len(self.unregistered) >= 1000:
                break
            self.unregistered[instance] = address
            self.log.warning("BACnet device %d at %s is not in the inventory", instance,
                             address)
            out.append(Event(
                key=f"iot-unregistered:bacnet:{instance}", kind="unregistered_iot_device",
                state=EventState.OBSERVED, severity=Severity.WARNING,
                summary=f"BACnet device {instance} at {address} is not in the inventory "
                        f"(found by a Who-Is during another device's poll, whose place the "
                        f"event's labels carry)",
                labels={"device_id": f"bacnet:{instance}", "address": address,
                        "protocol": "bacnet"}, ts_ns=wall))
        return out

    def _where(self, t: Target) -> tuple[str, int, list[ObjectSpec]]:
        raw_inst, raw_map = _label(t, INSTANCE_LABEL), _label(t, MAP_LABEL)
        if raw_inst is None or raw_map is None:
            raise CollectError(ErrorType.INTERNAL, f"{t.id}: labels {INSTANCE_LABEL} and "
                                                   f"{MAP_LABEL} are needed")
        objects = self.cfg.maps.get(raw_map)
        if objects is None:
            raise CollectError(ErrorType.INTERNAL, f"{t.id}: unknown bacnet map {raw_map!r}")
        try:
            instance = int(raw_inst)
            port = int(_label(t, PORT_LABEL) or t.port or 47808)
        except ValueError:
            raise CollectError(ErrorType.INTERNAL, f"{t.id}: {INSTANCE_LABEL}/{PORT_LABEL} "
                                                   f"must be integers") from None
        return f"{t.address}:{port}", instance, objects

    def _subscribe(self, dev: DeviceState, address: str, spec: ObjectSpec) -> None:
        latest = dev.latest.setdefault(spec.object, Latest())

        def on_value(_obj: str, value: float | int | None, status: dict[str, int]) -> None:
            latest.value, latest.status = value, status or latest.status
            latest.notifications += 1
            latest.since_poll = True
            latest.ts_ns = time.time_ns()

        dev.subs[spec.object] = self.client.subscribe(
            address, spec.object, self.cfg.cov_lifetime_secs, on_value, self.timeout_s / 2)
        dev.sub_started[spec.object] = time.monotonic()

    def _keep_subscriptions(self, dev: DeviceState, address: str,
                            objects: list[ObjectSpec]) -> None:
        now = time.monotonic()
        for spec in objects:
            if not spec.cov:
                continue
            sub = dev.subs.get(spec.object)
            renew = now - dev.sub_started.get(spec.object, now) > self.cfg.cov_lifetime_secs / 2
            if sub is None or not sub.alive or renew:
                if sub is not None:
                    if not sub.alive:
                        self.log.info("%s %s: COV subscription ended (%s); subscribing again",
                                      address, spec.object, sub.ended_by or "?")
                    sub.cancel()
                self._subscribe(dev, address, spec)

    async def poll(self, target: Target) -> Sequence[Item]:
        address, instance, objects = self._where(target)
        self.known_instances.add(instance)
        dev = self.devices.setdefault(target.id, DeviceState())
        cls = class_name(target.device) if target.device is not None \
            else target.labels.get("iot_class", "hvac")
        wall = time.time_ns()
        items: list[Item] = []
        failure: CollectError | None = None
        answered = any(lt.since_poll for lt in dev.latest.values())
        dev.polls += 1
        unregistered = await self._discover(wall)
        try:
            if not dev.found:
                dev.found = await self.client.who_is(address, instance, self.timeout_s / 3)
                if not dev.found:
                    raise CollectError(ErrorType.TIMEOUT,
                                       f"{address}: no I-Am from device {instance}")
                answered = True
            if dev.objects_total is None or dev.polls % self.cfg.object_list_every_polls == 0:
                dev.objects_total = len(await self.client.object_list(
                    address, instance, self.timeout_s / 3))
                answered = True
            values: list[PointValue] = []
            for i in range(0, len(objects), _RPM_CHUNK):
                chunk = [s.object for s in objects[i:i + _RPM_CHUNK]]
                values += await self.client.read_points(address, chunk, self.timeout_s / 3)
            answered = True
            self._keep_subscriptions(dev, address, objects)
        except CollectError as exc:
            failure = exc
            dev.errors += 1
            values = []
        by = {v.object_id: v for v in values}
        for spec in objects:
            items.extend(self._point(dev, spec, by.get(spec.object), wall))
        now = time.monotonic()
        if answered:
            ev = self.live.ok(target.id, cls, now, wall)
        else:
            reason = failure.error_type.value if failure is not None else "no_answer"
            ev = self.live.failed(target.id, cls, wall, reason, str(failure or ""))
            for sub in dev.subs.values():  # a device that went away: subscribe afresh
                sub.cancel()
            dev.subs.clear()
            dev.found = False
        if ev is not None:
            items.append(ev)
        lm = self.live.metric(target.id, now, wall)
        if lm is not None:
            items.append(lm)
        dfields: dict[str, FieldValue] = {
            "cov_subscriptions": sum(1 for s in dev.subs.values() if s.alive),
            "cov_notifications_total": sum(lt.notifications for lt in dev.latest.values()),
            "not_numbers_total": dev.not_numbers, "errors_total": dev.errors}
        if dev.objects_total is not None:
            dfields["objects"] = dev.objects_total
        items.append(Metric("bacnet_device", {"instance": str(instance)}, dfields, wall))
        items.extend(unregistered)
        if failure is not None:
            raise PartialCollect(items, failure.error_type, str(failure))
        return items

    def _point(self, dev: DeviceState, spec: ObjectSpec, read: PointValue | None,
               wall: int) -> list[Item]:
        latest = dev.latest.get(spec.object)
        value: float | int | None = None
        status: dict[str, int] = {}
        ts = wall
        if spec.cov and latest is not None and latest.since_poll:
            value, status, ts = latest.value, latest.status, latest.ts_ns
        elif read is not None:
            value, status = read.present_value, read.status
            if value is None:
                dev.not_numbers += 1
        if latest is not None:
            latest.since_poll = False
        if read is not None and read.units:
            dev.units[spec.object] = read.units
        if value is None and not status:
            return []
        fields: dict[str, FieldValue] = dict(status)
        if value is not None:
            fields["present_value"] = value
        tags = {"object": spec.object, "point": _point_name(spec)}
        units = dev.units.get(spec.object)
        if units:
            tags["units"] = units
        return [Metric("bacnet_point", tags, fields, ts)]

    async def close(self) -> None:
        for dev in self.devices.values():
            for sub in dev.subs.values():
                sub.cancel()
                await sub.wait_closed()
        self.client.close()


def build(cfg: BacnetConfig, ctx: BuildContext) -> BacnetPoller:
    return BacnetPoller(cfg, ctx.timeout_s or 10.0, ctx.logger)


MEASUREMENTS: tuple[Measurement, ...] = (
    Measurement(
        "bacnet_point", "one BACnet object a map names: present-value and status flags "
        "(ReadPropertyMultiple, or the latest COV notification)",
        tags=(tag("object", "object identifier, e.g. analog-input,2"),
              tag("point", "the map's name for it (else the object identifier)"),
              tag("units", "BACnet engineering units, e.g. degrees-celsius")),
        fields=(gauge("present_value", "", "present-value (binary: active 1, inactive 0; "
                                           "multi-state: the state number)"),
                *(state(b, f"status-flags {b.replace('_', '-')}: 1 set")
                  for b in STATUS_BITS))),
    Measurement(
        "bacnet_device", "one BACnet device's books",
        tags=(tag("instance", "device object instance"),),
        fields=(gauge("objects", "", "objects in the device's object list"),
                gauge("cov_subscriptions", "", "COV subscriptions alive"),
                counter("cov_notifications_total", "", "COV notifications received"),
                counter("not_numbers_total", "", "present-values that were not numbers"),
                counter("errors_total", "", "polls that failed"))),
    IOT_DEVICE,
)

SPEC = PluginSpec(
    name="bacnet", kind=PluginKind.POLLER, config_model=BacnetConfig, build=build,
    description="BACnet/IP building automation: Who-Is, object lists, present-value / "
                "status-flags / units by object maps, COV subscriptions",
    example={"type": "bacnet", "maps": {"ahu": [{"object": "analog-input,1",
                                                  "name": "supply_air_c", "cov": True}]},
             "targets": {"inventory": False, "static": [
                 {"id": "ahu-1", "ipv4": "127.0.0.1", "port": 47808,
                  "labels": {"bacnet_instance": "1001", "bacnet_map": "ahu"}}]}},
    default_targets=DefaultTargets.NONE,
    measurements=MEASUREMENTS,
)
