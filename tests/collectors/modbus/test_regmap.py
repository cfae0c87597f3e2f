"""Register maps as data: shipped maps, the read plan, user maps validated with file:line."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

from agent.core.errors import ConfigError
from collectors.modbus.decode import decode_block, encode
from collectors.modbus.regmap import (
    Function,
    RegisterMap,
    load_map_file,
    load_maps,
    plan_reads,
    shipped_maps,
)

REPO = Path(__file__).resolve().parents[3]
CLI = [sys.executable, "-m", "agent.app.cli"]
USER_MAP = REPO / "config/examples/modbus-maps/machine_room_th.yaml"


def test_shipped_maps_cite_their_manual() -> None:
    maps = shipped_maps()
    assert {"eastron_sdm120", "eastron_sdm630", "apc_smart_ups"} <= set(maps)
    for m in maps.values():
        assert m.source and m.iot_class
    for name in ("eastron_sdm120", "eastron_sdm630"):
        assert "Eastron" in maps[name].source and maps[name].iot_class == "energy_meter"
        # the manual: 30 parameters per request
        assert maps[name].max_registers_per_request == 60
    assert "AN176" in maps["apc_smart_ups"].source
    sdm630 = maps["eastron_sdm630"]
    # 30053 "Total system power" is protocol address 0x34, float32, input register
    total = next(r for r in sdm630.registers if r.field == "total_active_power_watts")
    assert (total.function, total.address, total.type) == (Function.INPUT, 0x34, "float32")


def test_plan_batches_within_the_device_limit_and_gap() -> None:
    m = shipped_maps()["eastron_sdm630"]
    plan = plan_reads(m)
    assert len(plan) == 5 < len(m.registers)
    covered = sorted(r.field for b in plan for r in b.registers)
    assert covered == sorted(r.field for r in m.registers)  # each register exactly once
    for b in plan:
        assert b.count <= 60
        assert all(b.address <= r.address and r.address + r.width <= b.address + b.count
                   for r in b.registers)
    no_gap = m.model_copy(update={"max_gap_registers": 0})
    # contiguous runs still merge; each hole costs a request
    assert len(plan) < len(plan_reads(no_gap)) < len(m.registers)
    split = plan_reads(m, frozenset({(1, Function.INPUT, 0)}))
    assert len(split) == len(plan) - 1 + len(plan[0].registers)


def test_decode_word_orders_scale_and_bits() -> None:
    m = load_map_file(USER_MAP)
    served = {0: struct.unpack(">H", struct.pack(">h", -123))[0], 1: 456, 2: 0xFFF6,
              10: 0x5678, 11: 0x1234, 20: 0b1000}
    values: dict[str, float | int] = {}
    for block in plan_reads(m):
        if block.function is Function.HOLDING:
            data = [served.get(block.address + i, 0) for i in range(block.count)]
            values.update(decode_block(m, block, data).values)
    assert values == {"temperature_c": pytest.approx(-12.3), "humidity_percent":
                        pytest.approx(45.6), "dew_point_c": pytest.approx(-1.0),
                        "run_time_hours_total": 0x12345678, "sensor_fault": 1}
    assert isinstance(values["run_time_hours_total"], int)  # counters stay integers
    for r in m.registers:
        if r.function is Function.HOLDING:
            assert encode(r, m.order_of(r), values[r.field]) == \
                [served.get(r.address + i, 0) & (1 << 3 if r.bit is not None else 0xFFFF)
                 for i in range(r.width)]


def test_nan_is_set_aside_not_a_reading() -> None:
    m = shipped_maps()["eastron_sdm120"]
    block = plan_reads(m)[0]
    nan = list(struct.unpack(">HH", struct.pack(">f", float("nan"))))
    data = nan + [0] * (block.count - 2)
    d = decode_block(m, block, data)
    assert "voltage_volts" not in d.values and d.bad[0][0] == "voltage_volts"
    assert d.values["current_amperes"] == 0.0


BAD_MAP = """\
name: broken_meter
registers:
  - {field: volts, function: input, address: 0, type: float32}
  - {field: amps, function: input, address: 1, type: float32}
  - {field: volts, function: input, address: 8, type: float32}
  - {field: hz, function: 7, address: 9}
  - {field: alarm, function: coil, address: 0, type: int16}
  - {field: power, function: input, address: 20, type: float33}
  - {field: energy, function: input, address: 30, type: float32, scael: 0.1}
"""


def test_user_map_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BAD_MAP)
    with pytest.raises(ConfigError) as ei:
        load_map_file(path)
    msgs = [str(p) for p in ei.value.problems]
    # pydantic finds the shape errors first: each names its own line
    assert any(m.startswith(f"{path}:6:") and "function" in m for m in msgs), msgs
    assert any(m.startswith(f"{path}:7:") and "type must be bool" in m for m in msgs), msgs
    assert any(m.startswith(f"{path}:8:") and "type" in m for m in msgs), msgs
    assert any(m.startswith(f"{path}:9:") and "unknown key 'scael'" in m for m in msgs), msgs
    path.write_text("\n".join(line for line in BAD_MAP.splitlines()
                              if "hz" not in line and "alarm" not in line
                              and "float33" not in line and "scael" not in line) + "\n")
    with pytest.raises(ConfigError) as ei:
        load_map_file(path)
    msgs = [str(p) for p in ei.value.problems]
    assert any(m.startswith(f"{path}:4:") and "overlaps 'volts'" in m for m in msgs), msgs
    assert any(m.startswith(f"{path}:5:") and "field 'volts' again" in m for m in msgs), msgs


def test_user_maps_load_beside_the_shipped_ones(tmp_path: Path) -> None:
    maps = load_maps([USER_MAP.parent])
    assert isinstance(maps["machine_room_th"], RegisterMap)
    assert "eastron_sdm630" in maps
    with pytest.raises(ConfigError, match="no such register map"):
        load_maps([tmp_path / "missing"])


def _config(tmp_path: Path, map_text: str) -> Path:
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "th.yaml").write_text(map_text)
    inv = tmp_path / "inv.yaml"
    inv.write_text(
        "campus: {code: mb-test, name: t}\n"
        "buildings:\n  - id: dc\n    name: DC\n    rooms:\n      - id: dc-1\n"
        "        name: machine room\n        kind: machine_room\n        devices:\n"
        "          - id: th-1\n            kind: sensor\n            ipv4: 127.0.0.1\n"
        "            labels: {modbus_map: machine_room_th, modbus_port: '5021'}\n"
        "          - id: meter-1\n            kind: sensor\n            ipv4: 127.0.0.2\n"
        "            labels: {modbus_map: eastron_sdm640, iot_class: energy_meter}\n")
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(f"agent:\n  inventory: {inv}\ninputs:\n  - type: modbus\n"
                   f"    maps: [maps]\n    targets: {{kinds: [sensor]}}\n")
    return cfg


def test_check_config_validates_a_user_map_with_file_line(tmp_path: Path) -> None:
    good = USER_MAP.read_text()
    bad = good.replace("type: uint16, scale: 0.1", "type: uint16, scale: 0")
    cfg = _config(tmp_path, bad)
    r = subprocess.run([*CLI, "check-config", str(cfg)], capture_output=True, text=True,
                       cwd=REPO, timeout=120)
    assert r.returncode == 2
    line = next(i for i, t in enumerate(bad.splitlines(), 1) if "scale: 0," in t)
    assert f"{tmp_path / 'maps' / 'th.yaml'}:{line}" in r.stderr, r.stderr
    assert "scale 0" in r.stderr and "Traceback" not in r.stderr


def test_check_config_names_the_device_with_an_unknown_map(tmp_path: Path) -> None:
    cfg = _config(tmp_path, USER_MAP.read_text())
    r = subprocess.run([*CLI, "check-config", str(cfg)], capture_output=True, text=True,
                       cwd=REPO, timeout=120)
    assert r.returncode == 2
    assert "meter-1: unknown register map 'eastron_sdm640'" in r.stderr, r.stderr
    assert f"{tmp_path / 'inv.yaml'}:" in r.stderr  # the device's own line
    fixed = cfg.parent / "inv.yaml"
    fixed.write_text(fixed.read_text().replace("eastron_sdm640", "eastron_sdm630"))
    r = subprocess.run([*CLI, "check-config", str(cfg)], capture_output=True, text=True,
                       cwd=REPO, timeout=120)
    assert r.returncode == 0, r.stderr
