"""A real HTTP server speaking InfluxDB's /api/v2/write, scriptable for durability tests.

Modes: 'ack' (204), 'refuse' (503: the centre is down), 'hang_after:N' (acknowledge N more
batches, then hold the next one without answering, as a centre that dies mid-request).
"""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class ReceiverState:
    mode: str = "ack"
    acked: list[list[str]] = field(default_factory=list)  # batches answered 204
    held: list[list[str]] = field(default_factory=list)  # batches received, never answered
    lock: threading.Lock = field(default_factory=threading.Lock)
    held_event: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def acked_lines(self) -> list[str]:
        with self.lock:
            return [line for b in self.acked for line in b]


class LineReceiver:
    def __init__(self) -> None:
        self.state = ReceiverState()
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                lines = [x for x in body.decode().split("\n") if x]
                with state.lock:
                    mode = state.mode
                    if mode == "refuse":
                        self.send_response(503)
                        self.end_headers()
                        return
                    if mode.startswith("hang_after:"):
                        left = int(mode.split(":")[1])
                        if left <= 0:
                            state.held.append(lines)
                            state.held_event.set()
                            hold = True
                        else:
                            state.mode = f"hang_after:{left - 1}"
                            hold = False
                    else:
                        hold = False
                    if not hold:
                        state.acked.append(lines)
                if hold:
                    state.release.wait(30)
                    return  # never answer: the client must treat the batch as unacknowledged
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def set_mode(self, mode: str) -> None:
        with self.state.lock:
            self.state.mode = mode

    def close(self) -> None:
        self.state.release.set()
        self.server.shutdown()
        self.server.server_close()
