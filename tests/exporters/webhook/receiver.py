"""A local HTTP receiver standing in for the DingTalk and WeCom robot APIs (not reachable from
the test machine) and for a generic webhook. It checks what the real services check: DingTalk's
加签 signature and timestamp window, WeCom's key and 4096-byte markdown limit, and answers with
their `errcode` conventions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    verdict: str  # "ok" or why the receiver refused it


@dataclass
class RobotReceiver:
    dingtalk_token: str = "ding-token"
    dingtalk_secret: str = "SECtest-secret-0123456789"
    wecom_key: str = "wecom-key-0000"
    bearer: str = "generic-token"
    rate_limit_next: int = 0  # answer this many requests with "send too fast"
    received: list[Received] = field(default_factory=list)

    def start(self) -> RobotReceiver:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                parsed = urllib.parse.urlparse(self.path)
                query = {k: v[0] for k, v in urllib.parse.parse_qs(parsed.query).items()}
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                body = json.loads(raw)
                status, reply, verdict = owner.judge(parsed.path, query, dict(self.headers),
                                                     body, raw)
                owner.received.append(Received(parsed.path, query, dict(self.headers), body,
                                               verdict))
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def judge(self, path: str, query: dict[str, str], headers: dict[str, str], body: Any,
              raw: bytes) -> tuple[int, dict[str, Any], str]:
        if path == "/robot/send":
            return self._dingtalk(query, body)
        if path == "/cgi-bin/webhook/send":
            return self._wecom(query, body)
        if headers.get("Authorization") != f"Bearer {self.bearer}":
            return 401, {"error": "unauthorized"}, "bad bearer token"
        return 200, {"ok": True}, "ok"

    def _dingtalk(self, query: dict[str, str], body: Any) -> tuple[int, dict[str, Any], str]:
        if query.get("access_token") != self.dingtalk_token:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}, "bad token"
        ts = query.get("timestamp", "")
        # the signature check, implemented here independently of the exporter
        expected = base64.b64encode(hmac.new(
            self.dingtalk_secret.encode(), f"{ts}\n{self.dingtalk_secret}".encode(),
            hashlib.sha256).digest()).decode()
        if not ts.isdigit() or abs(time.time() * 1000 - int(ts)) > 3600 * 1000:
            return 200, {"errcode": 310000, "errmsg": "invalid timestamp"}, "bad timestamp"
        if not hmac.compare_digest(query.get("sign", ""), expected):
            return 200, {"errcode": 310000, "errmsg": "sign not match"}, "bad signature"
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            return 200, {"errcode": 130101, "errmsg": "send too fast"}, "rate limited"
        if body.get("msgtype") != "markdown" or not body["markdown"].get("text"):
            return 200, {"errcode": 40035, "errmsg": "missing markdown"}, "bad body"
        return 200, {"errcode": 0, "errmsg": "ok"}, "ok"

    def _wecom(self, query: dict[str, str], body: Any) -> tuple[int, dict[str, Any], str]:
        if query.get("key") != self.wecom_key:
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}, "bad key"
        content = body.get("markdown", {}).get("content", "")
        if body.get("msgtype") != "markdown" or not content:
            return 200, {"errcode": 40035, "errmsg": "invalid msgtype"}, "bad body"
        if len(content.encode("utf-8")) > 4096:
            return 200, {"errcode": 40058, "errmsg": "content exceed max length"}, "too long"
        return 200, {"errcode": 0, "errmsg": "ok"}, "ok"
