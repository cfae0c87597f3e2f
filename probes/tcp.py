"""TCP connect probe: the three-way handshake only (what a firewall or a dead daemon breaks)."""

from __future__ import annotations

import asyncio
import contextlib
import time

from probes.common import Endpoint, ProbeFailure, describe, error_type_of


async def tcp_connect(ep: Endpoint, port: int, timeout_s: float) -> float:
    """Seconds to connect; raises ProbeFailure with the typed reason."""
    t0 = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            _reader, writer = await asyncio.open_connection(ep.address, port)
    except (OSError, TimeoutError) as exc:
        raise ProbeFailure(error_type_of(exc), describe(exc) if not isinstance(
            exc, TimeoutError) else f"no answer within {timeout_s}s") from None
    elapsed = time.perf_counter() - t0
    writer.close()
    with contextlib.suppress(OSError, TimeoutError):
        async with asyncio.timeout(1.0):
            await writer.wait_closed()
    return elapsed
