"""The modbus poller against pymodbus' own server serving an Eastron SDM630's register map
(collectors/modbus/maps/eastron_sdm630.yaml), in a separate process on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.core.errors import CollectError, PartialCollect
from agent.core.model import ErrorType, Event, Item, Metric
from agent.core.plugin import BuildContext, Target
from collectors.modbus.plugin import ModbusConfig, ModbusPoller, build
from collectors.modbus.regmap import shipped_maps
from inventory.models import Inventory
from tests.collectors.modbus.helpers import ModbusDevice, meter_spec, start_device
from tests.servers import free_port

SDM630 = shipped_maps()["eastron_sdm630"]


def _values(seed: int) -> dict[str, float]:
    rnd = random.Random(seed)
    return {r.field: round(rnd.uniform(-500.0, 50_000.0), 3) for r in SDM630.registers}


@pytest.fixture(scope="module")
def meter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ModbusDevice,
                                                                      dict[str, float]]]:
    spec, served = meter_spec(SDM630, _values(630))
    dev = start_device(tmp_path_factory.mktemp("sdm630"), spec)
    yield dev, served
    dev.stop()


def poller(tmp_path: Path, **cfg: object) -> ModbusPoller:
    ctx = BuildContext(instance="modbus/test", inventory=Inventory.empty("t"), credentials={},
                       data_dir=tmp_path, config_dir=tmp_path, timeout_s=2.0,
                       logger=logging.getLogger("test.modbus"))
    return build(ModbusConfig.model_validate(cfg), ctx)


def target(dev: ModbusDevice | tuple[str, int], map_name: str = "eastron_sdm630",
           **labels: str) -> Target:
    host, port = (dev.host, dev.port) if isinstance(dev, ModbusDevice) else dev
    return Target(id=f"meter-{port}", ipv4=host, port=port,
                  labels={"modbus_map": map_name, "iot_class": "energy_meter", **labels})


def metric(items: list[Item] | tuple[Item, ...], name: str) -> Metric:
    return next(i for i in items if isinstance(i, Metric) and i.name == name)


def books_of(items: list[Item]) -> dict[str, int]:
    return {k: int(v) for k, v in metric(items, "modbus_device").fields.items()
            if isinstance(v, int | float)}


async def poll(p: ModbusPoller, t: Target) -> tuple[list[Item], ErrorType | None]:
    try:
        return list(await p.poll(t)), None
    except PartialCollect as exc:
        return list(exc.items), exc.error_type
    except CollectError as exc:
        return [], exc.error_type


@pytest.mark.timeout(60)
async def test_values_equal_what_the_meter_serves(meter: tuple[ModbusDevice, dict[str, float]],
                                                  tmp_path: Path) -> None:
    dev, served = meter
    p = poller(tmp_path)
    try:
        items, err = await poll(p, target(dev))
    finally:
        await p.close()
    assert err is None
    reading = metric(items, "modbus_reading")
    assert reading.tags == {"map": "eastron_sdm630"}
    assert reading.fields == served  # float32 as the meter holds it, bit for bit
    books = books_of(items)
    # 36 parameters in 5 requests: the map's holes ≤ 8 registers are read through, the
    # meter's limit of 30 parameters (60 registers) per request is kept
    assert books["requests_per_poll"] == 5 and books["requests_total"] == 5
    assert books["exceptions_total"] == 0 and books["malformed_total"] == 0
    live = metric(items, "iot_device")
    assert live.tags == {"iot_class": "energy_meter", "protocol": "modbus"}
    assert live.fields["up"] == 1


@pytest.mark.timeout(60)
async def test_stopped_meter_goes_down_within_two_polls_and_comes_back(
        tmp_path: Path) -> None:
    spec, served = meter_spec(SDM630, _values(7))
    dev = start_device(tmp_path / "dev", spec)
    p = poller(tmp_path)
    t = target(dev)
    try:
        items, err = await poll(p, t)
        assert err is None and metric(items, "modbus_reading").fields == served
        dev.stop()
        first, err1 = await poll(p, t)  # one missed poll: not down yet
        assert err1 in (ErrorType.UNREACHABLE, ErrorType.REFUSED, ErrorType.TIMEOUT)
        assert not [i for i in first if isinstance(i, Event)]
        assert metric(first, "iot_device").fields["up"] == 1
        second, _ = await poll(p, t)  # the second in a row: down
        downs = [i for i in second if isinstance(i, Event)]
        assert [e.kind for e in downs] == ["device_down"]
        assert downs[0].key == f"iot:{t.id}" and downs[0].labels["iot_class"] == "energy_meter"
        assert metric(second, "iot_device").fields["up"] == 0
        third, _ = await poll(p, t)  # stays down, raised once
        assert not [i for i in third if isinstance(i, Event)]
        dev.start()
        back, err3 = await poll(p, t)
        assert err3 is None
        assert [e.kind for e in back if isinstance(e, Event)] == ["device_up"]
        assert metric(back, "modbus_reading").fields == served
        assert metric(back, "iot_device").fields["up"] == 1
    finally:
        await p.close()
        dev.stop()


@pytest.mark.timeout(60)
async def test_a_hole_refused_with_illegal_address_is_read_register_by_register(
        tmp_path: Path) -> None:
    """A device that answers only its listed registers: the merged blocks fail once with
    exception 2, then the poller reads those registers one by one and keeps doing so."""
    spec, served = meter_spec(SDM630, _values(11), fill_holes=False)
    dev = start_device(tmp_path / "dev", spec)
    p = poller(tmp_path)
    t = target(dev)
    try:
        items, err = await poll(p, t)
        assert err is None
        assert metric(items, "modbus_reading").fields == served
        items2, err2 = await poll(p, t)
        assert err2 is None and metric(items2, "modbus_reading").fields == served
        books = books_of(items2)
        assert books["exceptions_total"] == 0  # a refused block is a plan change, not a fault
        assert 5 < books["requests_per_poll"] <= len(SDM630.registers)
    finally:
        await p.close()
        dev.stop()


@pytest.mark.timeout(60)
async def test_wrong_unit_id_is_a_typed_device_exception(
        meter: tuple[ModbusDevice, dict[str, float]], tmp_path: Path) -> None:
    dev, _ = meter
    p = poller(tmp_path)
    try:
        items, err = await poll(p, target(dev, modbus_unit="9"))
    finally:
        await p.close()
    assert err is ErrorType.PROTOCOL
    assert books_of(items)["exceptions_total"] >= 1
    # it answered (with an exception), so it is alive
    assert metric(items, "iot_device").fields["up"] == 1


class _Garbage:
    """A TCP server that answers every request with a malformed Modbus frame."""

    def __init__(self) -> None:
        self.port = free_port()
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readexactly(7)
                await reader.readexactly(int.from_bytes(head[4:6], "big") - 1)
                tid = head[:2]
                # MBAP says 5 bytes follow, function 4, byte count 200, then 3 bytes: short
                writer.write(tid + b"\x00\x00\x00\x05" + head[6:7] + b"\x04\xc8\x01\x02")
                await writer.drain()
        writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.mark.timeout(60)
async def test_malformed_frames_are_counted_never_a_crash(
        meter: tuple[ModbusDevice, dict[str, float]], tmp_path: Path) -> None:
    dev, served = meter
    bad = _Garbage()
    await bad.start()
    p = poller(tmp_path, port=bad.port)
    t_bad = target(("127.0.0.1", bad.port))
    try:
        for _ in range(3):
            items, err = await poll(p, t_bad)
            assert err in (ErrorType.PROTOCOL, ErrorType.TIMEOUT)
        books = books_of(items)
        assert books["malformed_total"] + books["timeouts_total"] == 3
        assert books["malformed_total"] >= 1
        # the same poller still reads a good device
        good, err = await poll(p, target(dev))
        assert err is None and metric(good, "modbus_reading").fields == served
    finally:
        await p.close()
        await bad.stop()


@pytest.mark.timeout(60)
async def test_a_ups_on_battery_by_the_shipped_apc_map(tmp_path: Path) -> None:
    """Holding registers with binary-point scaling and a status bit field (APC AN176), the raw
    register values written here by hand from the application note's table."""
    regs = {1: 1 << 2,  # UPS_STATUS low word: bit 2 on battery
            128: 0, 129: 1800,  # runtime remaining 1800 s (uint32, high word first)
            130: int(87.5 * 512), 131: int(26.5 * 32), 135: int(31.25 * 128),
            136: int(42.0 * 256), 138: int(45.5 * 256), 140: int(3.5 * 32),
            142: int(230.0 * 64), 144: int(50.0 * 128), 145: 1, 146: 0x86A0,
            151: int(0.0 * 64)}
    block = [regs.get(a, 0) for a in range(128, 152)]
    spec = {"units": {"1": {"holding": [[1, [regs[1]]], [128, block]]}}}
    dev = start_device(tmp_path / "ups", spec)
    p = poller(tmp_path)
    try:
        items, err = await poll(p, target(dev, "apc_smart_ups", iot_class="ups"))
    finally:
        await p.close()
        dev.stop()
    assert err is None
    assert metric(items, "modbus_reading").fields == {
        "online": 0, "on_battery": 1, "fault": 0, "input_bad": 0,
        "battery_runtime_seconds": 1800, "battery_charge_percent": 87.5,
        "battery_voltage_volts": 26.5, "battery_temperature_c": 31.25,
        "output_real_power_percent": 42.0, "output_apparent_power_percent": 45.5,
        "output_current_amperes": 3.5, "output_voltage_volts": 230.0,
        "output_frequency_hz": 50.0, "output_energy_wh_total": 0x186A0,
        "input_voltage_volts": 0.0}
    assert books_of(items)["requests_per_poll"] == 2
    assert metric(items, "iot_device").tags["iot_class"] == "ups"
