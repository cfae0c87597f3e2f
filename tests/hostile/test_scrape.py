"""/metrics against hostile data and hostile clients: one bad series, an idle TLS client.

A real exporter (its own HTTP(S) threads on a loopback port) over a real snapshot; the clients
are plain sockets and urllib.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
import urllib.request
from pathlib import Path

import pytest

from agent.app.builtins import builtin_catalogue
from agent.core.model import Metric
from agent.framework.snapshot import Snapshot
from exporters.prometheus.plugin import PrometheusConfig, PrometheusExporter
from tests.exporters.helpers import self_signed

HUGE = int.from_bytes(b"\x7f" + b"\xff" * 1800, "big")  # past the float range


def _get(url: str, ctx: ssl.SSLContext | None = None) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10, context=ctx) as r:
        return int(r.status), str(r.read().decode())


async def _exporter(snap: Snapshot, skipped: list[str], **cfg: object) -> PrometheusExporter:
    exp = PrometheusExporter(PrometheusConfig.model_validate({"port": 0, **cfg}), snap.current,
                             builtin_catalogue(), lambda r, d, detail: skipped.append(detail))
    await exp.start()
    return exp


@pytest.mark.timeout(60)
async def test_one_bad_series_never_fails_the_scrape() -> None:
    now = time.time_ns()
    snap = Snapshot(ttl_secs=300)
    # straight into the snapshot: the pipeline's gate would have set this aside already
    snap.update([
        Metric("snmp_interface", {"device": "sw-bad", "ifname": "ge1"}, {"oper_status": HUGE},
               now),
        Metric("snmp_interface", {"device": "sw-1", "ifname": "ge2"}, {"oper_status": 1}, now),
        Metric("host_cpu", {"device": "h"}, {"usage_percent": float("inf")}, now),
    ])
    skipped: list[str] = []
    exp = await _exporter(snap, skipped)
    try:
        for _ in range(2):
            status, body = await asyncio.to_thread(
                _get, f"http://127.0.0.1:{exp.port}/metrics")
            assert status == 200
            assert 'ifname="ge2"' in body and 'ifname="ge1"' not in body
    finally:
        await exp.close()
    assert skipped and all("oper_status" in d for d in skipped)


@pytest.mark.timeout(60)
async def test_an_idle_tls_client_never_blocks_a_scrape(tmp_path: Path) -> None:
    cert, key = await asyncio.to_thread(self_signed, tmp_path)
    snap = Snapshot(ttl_secs=300)
    snap.update([Metric("host_cpu", {"device": "h"}, {"usage_percent": 12.5})])
    exp = await _exporter(snap, [], tls_cert_file=str(cert), tls_key_file=str(key))
    idle = [socket.create_connection(("127.0.0.1", exp.port)) for _ in range(3)]
    # one more that starts a ClientHello and stops halfway
    half = socket.create_connection(("127.0.0.1", exp.port))
    half.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    try:
        ctx = ssl.create_default_context(cafile=str(cert))
        for _ in range(3):
            status, body = await asyncio.to_thread(
                _get, f"https://127.0.0.1:{exp.port}/metrics", ctx)
            assert status == 200 and "host_cpu_usage_percent" in body
    finally:
        for s in (*idle, half):
            s.close()
        await exp.close()
