"""Information systems over HTTP(S) (probes/systems): a local HTTPS server with a self-signed
certificate answering like a TongWeb front (`Server: TongWeb Server`) is classified by the d.4
header rule, its issuer kept; SM2 (国密) certificates are flagged — checked on a certificate
made by openssl (Python's ssl cannot serve an SM2 certificate, so that flag is tested on the
DER, not through a live handshake)."""

from __future__ import annotations

import asyncio
import http.server
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.core.model import Metric
from agent.core.plugin import Target
from inventory.models import Device, DeviceKind
from probes.clients.x509 import is_sm2, issuer_of
from probes.systems.plugin import InfoSystemsConfig, InfoSystemsPoller
from tests.servers import free_port, require_binary


def _openssl(*args: str) -> None:
    subprocess.run([require_binary("openssl"), *args], check=True, capture_output=True,
                   timeout=30)


def _der(pem: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(pem.read_text())


def test_sm2_certificate_is_flagged(tmp_path: Path) -> None:
    _openssl("genpkey", "-algorithm", "SM2", "-out", str(tmp_path / "sm2.key"))
    _openssl("req", "-new", "-x509", "-key", str(tmp_path / "sm2.key"), "-sm3", "-days", "30",
             "-subj", "/CN=sm2.example.edu.cn/O=Guomi CA", "-out", str(tmp_path / "sm2.pem"))
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj",
             "/CN=rsa.example.edu.cn", "-keyout", str(tmp_path / "rsa.key"), "-out",
             str(tmp_path / "rsa.pem"))
    sm2, rsa = _der(tmp_path / "sm2.pem"), _der(tmp_path / "rsa.pem")
    assert is_sm2(sm2) and not is_sm2(rsa)
    assert "CN=sm2.example.edu.cn" in issuer_of(sm2)
    assert issuer_of(b"not a certificate") == "" and not is_sm2(b"\x00" * 100)


class _TongWebFront(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><body>jw</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def version_string(self) -> str:
        return "TongWeb Server"

    def log_message(self, *a: object) -> None:
        pass


@pytest.fixture(scope="module")
def https_front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    d = tmp_path_factory.mktemp("tls")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj",
             "/CN=jw.example.edu.cn/O=Campus Test CA", "-keyout", str(d / "k.pem"), "-out",
             str(d / "c.pem"))
    port = free_port("127.0.0.1")
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), _TongWebFront)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(d / "c.pem", d / "k.pem")
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield port
    finally:
        srv.shutdown()
        srv.server_close()
        shutil.rmtree(d, ignore_errors=True)


def test_system_front_classified_with_issuer(https_front: int) -> None:
    dev = Device("srv-jw", DeviceKind.SERVER, "hn-demo", "dc", "dc-101", ipv4="127.0.0.1",
                 labels={"system": "教务管理系统", "system_url":
                         f"https://127.0.0.1:{https_front}/"})
    poller = InfoSystemsPoller(InfoSystemsConfig(), timeout_s=10.0)
    items = asyncio.run(poller.poll(Target(id="srv-jw", device=dev, ipv4="127.0.0.1")))
    [m] = [i for i in items if isinstance(i, Metric)]
    assert m.fields == {"up": 1, "tls_sm2": 0}
    assert (m.tags["product"], m.tags["domestic"], m.tags["rule"]) == (
        "TongWeb", "yes", "d.4 http java com.tongweb")
    assert m.tags["server_header"].startswith("TongWeb Server")
    assert "O=Campus Test CA" in m.tags["tls_issuer"]
    # a device with no system_url is not a system: nothing fetched, nothing written
    plain = Device("sw", DeviceKind.ACCESS_SWITCH, "hn-demo", "dc", "dc-101", ipv4="127.0.0.1")
    assert asyncio.run(poller.poll(Target(id="sw", device=plain, ipv4="127.0.0.1"))) == []
