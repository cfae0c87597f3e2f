"""The one factory for SNMP sessions: picks the transport, applies limits and repetitions.

`transport` chooses the implementation: `pysnmp` (v2c and v3, every USM protocol), `fast` (the
purpose-built v2c path in `collectors/snmp/fast/`, when present) or `auto` (fast for v2c when
available, pysnmp otherwise).
"""

from __future__ import annotations

import asyncio
import hashlib
import weakref
from typing import Protocol

from agent.core.errors import CollectError
from agent.core.model import ErrorType
from collectors.snmp.limits import RequestLimiter
from collectors.snmp.options import AesKeyExtension, TransportKind, TransportOptions
from collectors.snmp.session import SnmpSession
from collectors.snmp.walker import Repetitions
from config.credentials import SnmpV2cCredential, SnmpV3Credential

__all__ = ["AesKeyExtension", "SnmpCredential", "TransportKind", "TransportOptions",
           "open_session"]

SnmpCredential = SnmpV2cCredential | SnmpV3Credential


_GLOBAL: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary())


def _global_limit(limit: int) -> asyncio.Semaphore:
    """One global bound per event loop (the first session's option sets it)."""
    loop = asyncio.get_running_loop()
    sem = _GLOBAL.get(loop)
    if sem is None:
        sem = _GLOBAL[loop] = asyncio.Semaphore(limit)
    return sem


AgentKey = tuple[str, int, str]
_DEVICE_SLOTS: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakValueDictionary[AgentKey, asyncio.Semaphore]
] = weakref.WeakKeyDictionary()


def _agent_key(host: str, port: int, credential: SnmpCredential) -> AgentKey:
    """Address plus the community / v3 user: one agent may host several virtual devices
    (contexts, community-indexed instances, simulators), each polled independently."""
    if isinstance(credential, SnmpV2cCredential):
        who = hashlib.sha256(credential.community.get_secret_value().encode()).hexdigest()
    else:
        who = f"v3:{credential.user}:{credential.context}"
    return host, port, who


def _device_slots(key: AgentKey, limit: int) -> asyncio.Semaphore:
    """One in-flight bound per agent and event loop, shared by all sessions to it (the first
    session's limit sets it; it lives as long as a session uses it)."""
    per_loop = _DEVICE_SLOTS.setdefault(asyncio.get_running_loop(),
                                        weakref.WeakValueDictionary())
    sem = per_loop.get(key)
    if sem is None:
        sem = asyncio.Semaphore(limit)
        per_loop[key] = sem
    return sem


def split_host_port(text: str, default_port: int = 161) -> tuple[str, int]:
    """`host`, `host:port`, `[v6]:port`, bare IPv6 literal → (host, port)."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else default_port
        return host, port
    if text.count(":") == 1:
        host, _, port_s = text.partition(":")
        return host, int(port_s)
    return text, default_port


async def open_session(host: str, port: int, credential: SnmpCredential,
                       options: TransportOptions) -> SnmpSession:
    limiter = RequestLimiter(options.max_inflight_per_device,
                             _global_limit(options.max_inflight_global),
                             _device_slots(_agent_key(host, port, credential),
                                           options.max_inflight_per_device))
    reps = Repetitions(options.max_repetitions, options.min_repetitions)
    kind = options.transport
    if kind is TransportKind.FAST and not isinstance(credential, SnmpV2cCredential):
        raise CollectError(ErrorType.INTERNAL, "the fast transport speaks SNMPv2c only")
    if kind in (TransportKind.FAST, TransportKind.AUTO) and isinstance(
            credential, SnmpV2cCredential):
        fast = _fast_factory()
        if fast is not None:
            return await fast(host, port, credential, options, limiter, reps)
        if kind is TransportKind.FAST:
            raise CollectError(ErrorType.INTERNAL, "the fast transport is not installed")
    # pysnmp (~1.2 CPU-s and tens of MiB to import) loads only when a session needs it: an
    # agent polling v2c over the fast path never does (tests/agent/app/test_lazy_imports.py)
    from collectors.snmp.client import open_pysnmp_session

    return await open_pysnmp_session(
        host, port, credential, timeout_s=options.timeout_s, retries=options.retries,
        limiter=limiter, reps=reps,
        blumenthal=options.aes_key_extension is AesKeyExtension.BLUMENTHAL)


class FastSessionFactory(Protocol):
    """What `collectors.snmp.fast` exports as `open_fast_session`."""

    async def __call__(self, host: str, port: int, credential: SnmpV2cCredential,
                       options: TransportOptions, limiter: RequestLimiter,
                       reps: Repetitions) -> SnmpSession: ...


def _fast_factory() -> FastSessionFactory | None:
    try:
        from collectors.snmp import fast
    except ImportError:
        return None
    factory: FastSessionFactory | None = getattr(fast, "open_fast_session", None)
    return factory
