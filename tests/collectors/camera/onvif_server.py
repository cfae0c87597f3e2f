"""Serves the recorded ONVIF answers (onvif_recorded/, see SOURCES.md) over HTTP on loopback,
and checks each authenticated call's WS-Security UsernameToken as a camera does: the
PasswordDigest must match, and `Created` must be within 5 minutes of the camera's own clock
(the recorded GetSystemDateAndTime answer) — a client that ignores a camera's clock offset is
refused. An ONVIF camera cannot run here; this is the test double, and it says so."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RECORDED = Path(__file__).parent / "onvif_recorded"
CAMERA_CLOCK = dt.datetime(2020, 4, 29, 7, 25, 17, tzinfo=dt.UTC)  # GetSystemDateAndTime.xml
OPS = ("GetSystemDateAndTime", "GetDeviceInformation", "GetCapabilities", "GetProfiles")


def recorded(name: str) -> bytes:
    return (RECORDED / f"{name}.xml").read_bytes()


@dataclass
class OnvifCamera:
    username: str
    password: str
    server: ThreadingHTTPServer | None = None
    calls: list[str] = field(default_factory=list)
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    broken: bool = False  # answer with bytes that are not XML

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.server_address[1]

    def clock(self) -> dt.datetime:
        """The camera's clock: the recorded instant, running since the server started."""
        return CAMERA_CLOCK + (dt.datetime.now(dt.UTC) - self.started_at)

    def authorized(self, body: str) -> bool:
        def get(tag: str) -> str:
            m = re.search(rf"<wsse:{tag}[^>]*>([^<]*)</wsse:{tag}>", body) or \
                re.search(rf"<wsu:{tag}>([^<]*)</wsu:{tag}>", body)
            return m.group(1) if m else ""

        user, digest, nonce, created = (get("Username"), get("Password"), get("Nonce"),
                                        get("Created"))
        if user != self.username or not nonce or not created:
            return False
        want = base64.b64encode(hashlib.sha1(base64.b64decode(nonce) + created.encode()
                                             + self.password.encode()).digest()).decode()
        try:
            at = dt.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        except ValueError:
            return False
        return digest == want and abs((at - self.clock()).total_seconds()) <= 300

    def start(self) -> OnvifCamera:
        cam = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(min(n, 1 << 20)).decode("utf-8", "replace")
                op = next((o for o in OPS if f":{o}" in body), "")
                cam.calls.append(op)
                status, answer = 200, b""
                if cam.broken:
                    answer = b"<env:Envelope><unclosed"
                elif not op:
                    status, answer = 400, b""
                elif op != "GetSystemDateAndTime" and not cam.authorized(body):
                    status, answer = 400, recorded("Fault_NotAuthorized")
                else:
                    answer = recorded(op)
                self.send_response(status)
                self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
