"""Register values for test devices, encoded here independently of the collector's decoder."""

from __future__ import annotations

import json
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collectors.modbus.regmap import RegisterMap
from tests.servers import ServerProcess, free_port, wait_tcp


def float32_words(v: float) -> tuple[list[int], float]:
    """Two registers, high word first, and the float32 value the device really holds."""
    raw = struct.pack(">f", v)
    return [int.from_bytes(raw[:2], "big"), int.from_bytes(raw[2:], "big")], \
        struct.unpack(">f", raw)[0]


def meter_spec(m: RegisterMap, values: dict[str, float], fill_holes: bool = True
               ) -> tuple[dict[str, Any], dict[str, float]]:
    """An Eastron-like device serving `values` (float32, high word first) at the map's input
    registers. With `fill_holes` every address from 0 to the last one answers (zero where the
    table has nothing, as Eastron meters do); else only the map's registers exist."""
    regs: dict[int, int] = {}
    served: dict[str, float] = {}
    for r in m.registers:
        words, held = float32_words(values[r.field])
        served[r.field] = held
        regs[r.address], regs[r.address + 1] = words
    if fill_holes:
        # Eastron tables are dense within each region; fill each region's holes with zeros
        blocks: list[list[Any]] = []
        for a in sorted(regs):
            if blocks and a - (blocks[-1][0] + len(blocks[-1][1])) <= 16:
                start, vals = blocks[-1]
                vals.extend([0] * (a - (start + len(vals))))
                vals.append(regs[a])
            else:
                blocks.append([a, [regs[a]]])
    else:
        blocks = [[a, [regs[a]]] for a in sorted(regs)]
    return {"units": {str(m.unit_id): {"input": blocks}}}, served


@dataclass
class ModbusDevice:
    server: ServerProcess
    host: str
    port: int

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start()


def start_device(workdir: Path, spec: dict[str, Any], port: int | None = None) -> ModbusDevice:
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    path = workdir / "device.json"
    path.write_text(json.dumps(spec))
    root = Path(__file__).resolve().parents[3]
    server = ServerProcess(
        [sys.executable, "-m", "tests.collectors.modbus.server", "--port", str(port),
         "--spec", str(path)], lambda: wait_tcp("127.0.0.1", port), workdir / "modbus.log",
        cwd=root)
    server.start()
    return ModbusDevice(server, "127.0.0.1", port)
