"""A scriptable centre for durability tests, on the exporters' fake /api/v2/write server.

Modes: 'ack' (204), 'refuse' (503: the centre is down), 'hang_after:N' (acknowledge N more
batches, then hold the next one without answering, as a centre that dies mid-request).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from tests.exporters.helpers import FakeInflux


@dataclass
class ReceiverState:
    mode: str = "ack"
    acked: list[list[str]] = field(default_factory=list)  # batches answered 204
    held: list[list[str]] = field(default_factory=list)  # batches received, not answered
    lock: threading.Lock = field(default_factory=threading.Lock)
    held_event: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def acked_lines(self) -> list[str]:
        with self.lock:
            return [line for b in self.acked for line in b]


class LineReceiver:
    def __init__(self) -> None:
        self.state = ReceiverState()
        self._server = FakeInflux(self._decide)
        self.url = self._server.url

    def _decide(self, lines: list[str]) -> tuple[int, str, dict[str, str]]:
        st = self.state
        with st.lock:
            if st.mode == "refuse":
                return 503, "", {}
            if st.mode.startswith("hang_after:"):
                left = int(st.mode.split(":")[1])
                if left <= 0:
                    st.held.append(lines)
                    st.held_event.set()
                else:
                    st.mode = f"hang_after:{left - 1}"
            if not st.held or st.held[-1] is not lines:
                st.acked.append(lines)
                return 204, "", {}
        # no answer until the test is over: the client must keep the batch unacknowledged
        st.release.wait(30)
        return 503, "", {}

    def set_mode(self, mode: str) -> None:
        with self.state.lock:
            self.state.mode = mode

    def close(self) -> None:
        self.state.release.set()
        self._server.close()
