"""Shared helpers for exporter tests: read VictoriaMetrics back, drive a PushOutput in-process,
and a scriptable InfluxDB look-alike for the refusals a real VictoriaMetrics never sends."""

from __future__ import annotations

import asyncio
import gzip
import json
import ssl
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from agent.core.plugin import PushExporter
from agent.framework.diskqueue import DiskQueue
from agent.framework.outputs import PushOutput
from agent.framework.pipeline import QueueSink
from agent.framework.telemetry import PluginStats
from config.models import QueueOptions


def vm_flush(url: str) -> None:
    with urllib.request.urlopen(f"{url}/internal/force_flush", timeout=10) as r:
        r.read()


def vm_export(url: str, match: str) -> list[dict[str, object]]:
    """Every sample of the series matching `match`, via /api/v1/export (one JSON per line)."""
    vm_flush(url)
    data = urllib.parse.urlencode({"match[]": match, "start": "0"}).encode()
    with urllib.request.urlopen(f"{url}/api/v1/export", data=data, timeout=30) as r:
        return [json.loads(x) for x in r.read().decode().splitlines() if x.strip()]


def vm_samples(url: str, match: str) -> dict[tuple[tuple[str, str], ...], list[tuple[int, float]]]:
    """{sorted labels: [(ts_ms, value)]} for easy exact comparisons."""
    out: dict[tuple[tuple[str, str], ...], list[tuple[int, float]]] = {}
    for row in vm_export(url, match):
        labels = row["metric"]
        assert isinstance(labels, dict)
        key = tuple(sorted((str(k), str(v)) for k, v in labels.items()))
        ts = row["timestamps"]
        vals = row["values"]
        assert isinstance(ts, list) and isinstance(vals, list)
        out.setdefault(key, []).extend(zip(ts, vals, strict=True))
    return out


def make_output(tmp: Path, exporter: PushExporter, *, max_bytes: int = 64 * 2**20,
                decode: bool = False, **queue: object) -> PushOutput:
    q = DiskQueue(tmp / "queue.db", max_bytes)
    opts = QueueOptions.model_validate({"retry_initial_secs": 0.05, "retry_max_secs": 0.2,
                                        **queue})
    sink = QueueSink("test/out", q, exporter.accepts, PluginStats("test", "test/out"))
    return PushOutput(sink, exporter, opts, decode=decode)


async def drain_all(out: PushOutput, limit_s: float = 30.0) -> None:
    """Deliver until the queue is empty (fails the test after `limit_s`)."""
    async def loop() -> None:
        while out.sink.queue.stats().rows:
            await out.deliver_once()
    await asyncio.wait_for(loop(), limit_s)


@dataclass
class FakeInflux:
    """An HTTP server answering /api/v2/write through `decide(lines) -> (status, body, hdrs)`."""

    decide: Callable[[list[str]], tuple[int, str, dict[str, str]]]
    tls: tuple[Path, Path] | None = None  # (cert, key): serve https
    received: list[list[str]] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                lines = [x for x in body.decode().split("\n") if x]
                fake.received.append(lines)
                fake.headers.append(dict(self.headers))
                fake.paths.append(self.path)
                status, text, hdrs = fake.decide(lines)
                self.send_response(status)
                for k, v in hdrs.items():
                    self.send_header(k, v)
                payload = text.encode()
                self.send_header("Content-Length", str(len(payload)))
                if text:
                    self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if self.tls is not None:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(str(self.tls[0]), str(self.tls[1]))
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def accept(self, lines: list[str]) -> tuple[int, str, dict[str, str]]:
        """Store the lines and answer 204, as a healthy centre does."""
        self.stored.extend(lines)
        return 204, "", {}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def self_signed(tmp: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (openssl; the test skips without it)."""
    import subprocess

    from tests.servers import require_binary

    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run([require_binary("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-days", "1", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key
