"""The bacpypes3 test device (device.py) as a restartable server process."""

from __future__ import annotations

import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.servers import ServerProcess, free_port

REPO = Path(__file__).resolve().parents[3]


class _Ready:
    def __init__(self, path: Path) -> None:
        self.path, self.starts = path, 0

    def __call__(self) -> None:
        self.starts += 1
        for _ in range(300):
            if self.path.exists() and self.path.read_text().count("ready") >= self.starts:
                return
            time.sleep(0.05)
        raise RuntimeError("the BACnet device did not start")


@dataclass
class BacnetDevice:
    server: ServerProcess
    port: int
    instance: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start()


def start_device(tmp: Path, instance: int = 1001) -> BacnetDevice:
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port(kind=socket.SOCK_DGRAM)
    log = tmp / f"bacnet-{port}.log"
    srv = ServerProcess([sys.executable, "-m", "tests.collectors.bacnet.device", "--port",
                         str(port), "--instance", str(instance)], _Ready(log), log, cwd=REPO)
    srv.start()
    return BacnetDevice(srv, port, instance)


def local_address() -> str:
    """Our BACnet/IP side: its own free UDP port on loopback."""
    return f"127.0.0.1/8:{free_port(kind=socket.SOCK_DGRAM)}"
