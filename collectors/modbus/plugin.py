"""The `modbus` poller: energy meters, environment monitors, UPSs over Modbus TCP.

Which map a device is read with, its unit id and port come from inventory labels
(`modbus_map`, `modbus_unit`, `modbus_port`) or, for a static target, its labels and port, or
else the config's defaults. Modbus TCP has no authentication, so no credential set is used.

One poll = the map's read plan (fewest requests) → `modbus_reading` (the map's fields) +
`iot_device` (liveness) + `modbus_device` (request books). A block the device refuses as a whole
with "illegal data address" (a hole inside it) is read register by register from then on. A
device that fails two polls in a row goes down (`device_down`), the first answer brings it up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field

from agent.core.catalogue import FieldKind, Measurement, counter, gauge, tag
from agent.core.errors import CollectError, ConfigError, PartialCollect, Problem
from agent.core.model import ErrorType, FieldValue, Item, Metric
from agent.core.plugin import BuildContext, DefaultTargets, PluginKind, PluginSpec, Target
from agent.shared.iotclasses import CLASS_LABEL, class_name
from agent.shared.iotliveness import IOT_DEVICE, PollLiveness
from collectors.modbus.client import DeviceException, Malformed, ModbusExceptionCode, ModbusTcp
from collectors.modbus.decode import decode_block
from collectors.modbus.regmap import Block, Function, RegisterMap, load_maps, plan_reads
from config.base import StrictModel

MAP_LABEL = "modbus_map"
UNIT_LABEL = "modbus_unit"
PORT_LABEL = "modbus_port"


class ModbusConfig(StrictModel):
    port: int = Field(default=502, ge=1, le=65535)
    # user register maps: YAML files or directories of them, relative to the config file
    maps: list[str] = Field(default_factory=list)
    default_map: str | None = None  # for devices without a `modbus_map` label
    unit_id: int | None = Field(default=None, ge=0, le=255)  # None: the map's
    down_after_failures: int = Field(default=2, ge=1, le=10)


@dataclass(frozen=True, slots=True)
class Binding:
    """How one target is read."""

    map: RegisterMap
    host: str
    port: int
    unit_id: int | None
    iot_class: str


@dataclass(slots=True)
class Books:
    """Per device, since the agent started."""

    requests: int = 0
    exceptions: int = 0
    timeouts: int = 0
    malformed: int = 0
    bad_values: int = 0
    split: set[tuple[int, Function, int]] = field(default_factory=set)
    plan: list[Block] | None = None


def _bind(t: Target, cfg: ModbusConfig, maps: dict[str, RegisterMap]) -> Binding | Problem:
    labels = dict(t.device.labels) if t.device is not None else {}
    labels.update(t.labels)
    place = (t.device.where if t.device is not None and t.device.where else f"target {t.id}")
    name = labels.get(MAP_LABEL) or cfg.default_map
    if name is None:
        return Problem(place, f"{t.id}: no register map (label {MAP_LABEL} or default_map)")
    m = maps.get(name)
    if m is None:
        return Problem(place, f"{t.id}: unknown register map '{name}' (known: "
                              f"{', '.join(sorted(maps))})")
    try:
        unit = int(labels[UNIT_LABEL]) if UNIT_LABEL in labels else cfg.unit_id
        port = int(labels[PORT_LABEL]) if PORT_LABEL in labels else (t.port or cfg.port)
    except ValueError:
        return Problem(place, f"{t.id}: {UNIT_LABEL}/{PORT_LABEL} must be integers")
    if unit is not None and not 0 <= unit <= 255:
        return Problem(place, f"{t.id}: {UNIT_LABEL} {unit} is not 0..255")
    if not 1 <= port <= 65535:
        return Problem(place, f"{t.id}: {PORT_LABEL} {port} is not 1..65535")
    # the inventory's label wins, then the class the map is for, then the device kind's
    if CLASS_LABEL in labels:
        cls = class_name(t.device) if t.device is not None else labels[CLASS_LABEL]
    elif m.iot_class is not None:
        cls = m.iot_class
    else:
        cls = class_name(t.device)
    return Binding(m, t.address, port, unit, cls)


class ModbusPoller:
    def __init__(self, cfg: ModbusConfig, maps: dict[str, RegisterMap],
                 bindings: dict[str, Binding], timeout_s: float,
                 logger: logging.Logger) -> None:
        self.cfg = cfg
        self.maps = maps
        self.bindings = bindings
        self.timeout_s = timeout_s
        self.log = logger
        self.live = PollLiveness("modbus", cfg.down_after_failures)
        self.books: dict[str, Books] = {}
        self.clients: dict[str, ModbusTcp] = {}

    async def start(self) -> None:
        return None

    def _client(self, target: Target, b: Binding) -> ModbusTcp:
        c = self.clients.get(target.id)
        if c is None:
            # a request's own timeout leaves room in the poll's for the rest of the plan
            c = self.clients[target.id] = ModbusTcp(b.host, b.port, max(self.timeout_s / 2,
                                                                         0.2))
        return c

    async def poll(self, target: Target) -> Sequence[Item]:
        b = self.bindings.get(target.id)
        if b is None:  # a static target, or a device selected without a map label
            got = _bind(target, self.cfg, self.maps)
            if isinstance(got, Problem):
                raise CollectError(ErrorType.INTERNAL, str(got))
            b = self.bindings[target.id] = got
        books = self.books.setdefault(target.id, Books())
        m = b.map
        if b.unit_id is not None:
            m = m.model_copy(update={"unit_id": b.unit_id})
        if books.plan is None:
            books.plan = plan_reads(m, frozenset(books.split))
        client = self._client(target, b)
        wall = time.time_ns()
        values: dict[str, FieldValue] = {}
        failure: CollectError | None = None
        answered = False
        for block in list(books.plan):
            try:
                values.update(await self._read_block(client, m, block, books))
                answered = True
            except DeviceException as exc:
                answered = True  # refused, but alive
                books.exceptions += 1
                failure = failure or exc
            except Malformed as exc:
                books.malformed += 1
                failure = exc
                break  # the connection was dropped: the rest waits for the next tick
            except CollectError as exc:
                if exc.error_type is ErrorType.TIMEOUT:
                    books.timeouts += 1
                failure = exc
                break
        if books.plan is None:  # a block was split: the plan for the next polls
            books.plan = plan_reads(m, frozenset(books.split))
        now = time.monotonic()
        items: list[Item] = []
        if answered:
            ev = self.live.ok(target.id, b.iot_class, now, wall)
        else:
            reason = failure.error_type.value if failure is not None else "no_answer"
            ev = self.live.failed(target.id, b.iot_class, wall, reason, str(failure or ""))
        if ev is not None:
            items.append(ev)
        if values:
            items.append(Metric("modbus_reading", {"map": b.map.name}, values, wall))
        lm = self.live.metric(target.id, now, wall)
        if lm is not None:
            items.append(lm)
        items.append(Metric("modbus_device", {"map": b.map.name}, {
            "requests_total": books.requests, "exceptions_total": books.exceptions,
            "timeouts_total": books.timeouts, "malformed_total": books.malformed,
            "bad_values_total": books.bad_values, "requests_per_poll": len(books.plan)}, wall))
        if failure is not None:
            raise PartialCollect(items, failure.error_type, str(failure))
        return items

    async def _read_block(self, client: ModbusTcp, m: RegisterMap, block: Block,
                          books: Books) -> dict[str, FieldValue]:
        books.requests += 1
        key = (block.unit_id, block.function, block.address)
        try:
            data = await client.read(block.unit_id, block.function, block.address, block.count)
        except DeviceException as exc:
            if not (exc.code == ModbusExceptionCode.ILLEGAL_DATA_ADDRESS
                    and len(block.registers) > 1 and key not in books.split):
                raise
            data = None
        if data is not None:
            d = decode_block(m, block, data)
            books.bad_values += len(d.bad)
            return dict(d.values)
        # a hole inside the block: from now on its registers are read one by one
        self.log.info("%s: %s %d+%d refused (illegal address); reading its %d registers one "
                      "by one", client.where, block.function.value, block.address, block.count,
                      len(block.registers))
        books.split.add(key)
        books.plan = None
        out: dict[str, FieldValue] = {}
        first: DeviceException | None = None
        for r in block.registers:
            one = Block(block.unit_id, block.function, r.address, r.width, (r,))
            try:
                out.update(await self._read_block(client, m, one, books))
            except DeviceException as e:
                books.exceptions += 1
                first = first or e
        if first is not None and not out:
            raise first
        return out  # a register still refused stays counted in exceptions_total

    async def close(self) -> None:
        for c in self.clients.values():
            c.close()
        self.clients.clear()


def _map_paths(cfg: ModbusConfig, ctx: BuildContext) -> list[Path]:
    return [Path(p) if Path(p).is_absolute() else ctx.config_dir / p for p in cfg.maps]


def build(cfg: ModbusConfig, ctx: BuildContext) -> ModbusPoller:
    maps = load_maps(_map_paths(cfg, ctx))
    if cfg.default_map is not None and cfg.default_map not in maps:
        raise ConfigError.one(ctx.instance, f"default_map '{cfg.default_map}' is not a known "
                                            f"map ({', '.join(sorted(maps))})")
    bindings: dict[str, Binding] = {}
    problems: list[Problem] = []
    # inventory devices that name a map are bound here, so check-config names every wrong
    # label at load; static targets are bound at their first poll
    for d in ctx.inventory.devices:
        if MAP_LABEL in d.labels:
            t = Target(id=d.id, device=d, ipv4=d.ipv4, ipv6=d.ipv6, hostname=d.hostname)
            got = _bind(t, cfg, maps)
            if isinstance(got, Problem):
                problems.append(got)
            else:
                bindings[d.id] = got
    if problems:
        raise ConfigError(problems)
    return ModbusPoller(cfg, maps, bindings, ctx.timeout_s or 10.0, ctx.logger)


MEASUREMENTS: tuple[Measurement, ...] = (
    Measurement(
        "modbus_reading", "a Modbus device's readings, one field per register-map entry "
        "(name and unit from the map; shipped maps end names in their unit)",
        tags=(tag("map", "register map name, e.g. eastron_sdm630"),),
        open_fields=FieldKind.GAUGE),
    Measurement(
        "modbus_device", "Modbus request books per device since the agent started",
        tags=(tag("map", "register map name"),),
        fields=(counter("requests_total", "", "read requests sent"),
                counter("exceptions_total", "", "Modbus exception answers (device refused)"),
                counter("timeouts_total", "", "requests without an answer in time"),
                counter("malformed_total", "", "answers that were not a valid frame"),
                counter("bad_values_total", "", "registers holding no reading (NaN, inf)"),
                gauge("requests_per_poll", "", "requests the read plan needs per poll"))),
    IOT_DEVICE,
)

SPEC = PluginSpec(
    name="modbus", kind=PluginKind.POLLER, config_model=ModbusConfig, build=build,
    description="Modbus TCP devices (energy meters, environment monitors, UPS) by register "
                "maps in YAML; shipped maps cite their manuals",
    example={"type": "modbus", "default_map": "eastron_sdm630",
             "targets": {"inventory": False, "static": [
                 {"id": "meter-1", "ipv4": "127.0.0.1", "port": 5020,
                  "labels": {"modbus_map": "eastron_sdm630"}}]}},
    default_targets=DefaultTargets.NONE,
    measurements=MEASUREMENTS,
)
