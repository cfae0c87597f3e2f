"""Far side of the traps/syslog bench: sends the datagrams of a message file to HOST:PORT at a
paced rate (bursts every 10 ms), then exits. Run pinned to the other core by run.py.

    sender.py HOST PORT FILE RATE_PER_SEC
FILE: length-prefixed datagrams (4-byte big-endian length, then the bytes).
"""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path


def main() -> int:
    host, port, path, rate = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    data = Path(path).read_bytes()
    msgs: list[bytes] = []
    p = 0
    while p < len(data):
        n = int.from_bytes(data[p:p + 4], "big")
        msgs.append(data[p + 4:p + 4 + n])
        p += 4 + n
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    per_tick = max(1, int(rate / 100))
    t0 = time.monotonic()
    for i in range(0, len(msgs), per_tick):
        for m in msgs[i:i + per_tick]:
            s.sendto(m, (host, port))
        due = t0 + (i + per_tick) / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    return 0


if __name__ == "__main__":
    sys.exit(main())
