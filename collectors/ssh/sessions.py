"""One SSH session per device across every plugin instance of this folder.

The ssh collector and config_backup (and two instances of either) reach the same devices; a
campus switch allows few VTY lines and some refuse a second session outright. Each device's
lock is shared by every collector on the running event loop: a poll waits for the device's
previous session to end, whichever plugin opened it. Locks belong to one event loop (an
asyncio.Lock cannot be shared across loops), so they are kept per loop and go with it.
"""

from __future__ import annotations

import asyncio
import weakref

_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary())


def device_lock(device: str) -> asyncio.Lock:
    """The lock of `device` (a target id) on the running event loop."""
    locks = _LOCKS.setdefault(asyncio.get_running_loop(), {})
    lock = locks.get(device)
    if lock is None:
        lock = locks[device] = asyncio.Lock()
    return lock
