"""A real prometheus-alertmanager on a loopback port, and reading alerts back from its API."""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.servers import ServerProcess, free_port, require_binary, wait_http

# One receiver that notifies nobody: the tests read alerts back through the API.
_CONFIG = """\
route:
  receiver: blackhole
  group_by: [alertname]
receivers:
  - name: blackhole
"""


@dataclass
class Alertmanager:
    url: str
    server: ServerProcess

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start()

    def alerts(self, **params: str) -> list[dict[str, Any]]:
        """GET /api/v2/alerts (active, not resolved)."""
        query = "&".join(f"{k}={v}" for k, v in params.items())
        with urllib.request.urlopen(f"{self.url}/api/v2/alerts?{query}", timeout=5) as r:
            data: list[dict[str, Any]] = json.loads(r.read())
        return data

    def wait_alerts(self, predicate: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        got: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            got = self.alerts()
            if predicate(got):
                return got
            time.sleep(0.1)
        raise AssertionError(f"alertmanager never matched; last answer: {got}")


def start_alertmanager(workdir: Path, port: int | None = None) -> Alertmanager:
    binary = require_binary("prometheus-alertmanager")
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "alertmanager.yml"
    conf.write_text(_CONFIG)
    url = f"http://127.0.0.1:{port}"
    server = ServerProcess(
        [binary, f"--config.file={conf}", f"--storage.path={workdir}/data",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        lambda: wait_http(f"{url}/-/ready"), workdir / "alertmanager.log")
    server.start()
    return Alertmanager(url, server)
