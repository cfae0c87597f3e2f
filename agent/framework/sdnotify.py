"""systemd's notify protocol (sd_notify): one datagram to $NOTIFY_SOCKET, no libsystemd.

READY=1 once the agent runs, WATCHDOG=1 while its event loop stays responsive, RELOADING=1 /
STOPPING=1 around a reload or stop. Outside systemd (no NOTIFY_SOCKET) every call does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

# a loop that wakes this late has been stalled by something CPU-heavy or blocking: no ping, so
# systemd's watchdog restarts an agent that stays stuck (WatchdogSec in the unit)
MAX_LAG_FRACTION = 0.5


def _address(raw: str) -> str | bytes:
    # '@name' is an abstract-namespace socket: a leading NUL byte on the wire
    return b"\0" + raw[1:].encode() if raw.startswith("@") else raw


def notify(state: str, env: dict[str, str] | None = None) -> bool:
    """Send `state` (e.g. 'READY=1'); False when not under systemd or the send failed."""
    raw = (env if env is not None else os.environ).get("NOTIFY_SOCKET", "")
    if not raw or raw[0] not in "/@":
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        try:
            sock.sendto(state.encode(), _address(raw))
        except OSError as exc:
            log.warning("sd_notify to %s failed: %s", raw, exc.strerror)
            return False
    return True


def watchdog_interval(env: dict[str, str] | None = None) -> float | None:
    """Seconds between pings (half of WatchdogSec), or None when no watchdog is asked for."""
    e = env if env is not None else os.environ
    usec = e.get("WATCHDOG_USEC", "")
    pid = e.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) <= 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 1e6 / 2


async def feed_watchdog(interval: float) -> None:
    """Ping WATCHDOG=1 every `interval` while the loop wakes on time; a stalled loop stops
    pinging (and logs why) so systemd restarts the agent."""
    late = False
    while True:
        t0 = time.monotonic()
        await asyncio.sleep(interval)
        lag = time.monotonic() - t0 - interval
        if lag > interval * MAX_LAG_FRACTION:
            late = True
            log.error("event loop stalled %.1fs: watchdog not fed", lag)
            continue
        if late:
            log.warning("event loop responsive again: watchdog fed")
            late = False
        notify("WATCHDOG=1")


async def supervise(run: Awaitable[None], ready: Callable[[], bool]) -> None:
    """Run the agent (`run`), telling systemd READY=1 once `ready()` holds, feeding the
    watchdog while it runs and STOPPING=1 when it ends. Outside systemd: just `await run`."""
    task = asyncio.ensure_future(run)
    if "NOTIFY_SOCKET" not in os.environ:
        await task
        return
    while not task.done() and not ready():
        await asyncio.wait({task}, timeout=0.1)
    if not task.done():
        notify("READY=1")
    interval = watchdog_interval()
    dog = asyncio.create_task(feed_watchdog(interval)) if interval else None
    try:
        await task
    finally:
        notify("STOPPING=1")
        if dog is not None:
            dog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await dog
