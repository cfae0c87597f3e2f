"""A Modbus TCP device for tests: pymodbus' own server, run as a separate process.

    python -m tests.collectors.modbus.server --port N --spec device.json

`device.json`: {"units": {"1": {"input": [[address, [registers …]], …], "holding": […],
"coil": [[address, [true, false …]]], "discrete_input": […]}}}. Addresses outside the blocks
answer "illegal data address", like a real device. A separate process so a test can stop the
device (SIGTERM) and start it again on the same port.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from pathlib import Path
from typing import Any

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice


def devices(spec: dict[str, Any]) -> list[SimDevice]:
    out = []
    for unit, tables in spec["units"].items():
        def blocks(name: str, bits: bool, tables: dict[str, Any] = tables) -> list[SimData]:
            kind = DataType.BITS if bits else DataType.REGISTERS
            got = [SimData(int(a), values=list(v), datatype=kind)
                   for a, v in tables.get(name, [])]
            # pymodbus wants every table non-empty: one cell far from any map's addresses
            return got or [SimData(60000, values=[0], datatype=kind)]
        # non-shared blocks, in pymodbus' order: coils, discrete inputs, holding, input
        out.append(SimDevice(int(unit), (blocks("coil", True), blocks("discrete_input", True),
                                         blocks("holding", False), blocks("input", False))))
    return out


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--spec", type=Path, required=True)
    args = ap.parse_args()
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    spec = json.loads(args.spec.read_text())
    server = ModbusTcpServer(devices(spec), address=(args.host, args.port))
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
