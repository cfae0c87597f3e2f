"""Bounds on SNMP requests in flight: per device (weak agents must not be hammered) and global."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class RequestLimiter:
    """Held around every single request (one GET, one GETBULK) a session sends.

    `device_slots` lets every session to one agent share one bound (two plugin instances
    polling the same switch still send it one request at a time).
    """

    def __init__(self, per_device: int, global_limit: asyncio.Semaphore | None,
                 device_slots: asyncio.Semaphore | None = None) -> None:
        self._device = device_slots or asyncio.Semaphore(per_device)
        self._global = global_limit

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        # The device slot first: waiting for a busy device must not hold a global slot.
        async with self._device:
            if self._global is None:
                yield
            else:
                async with self._global:
                    yield
