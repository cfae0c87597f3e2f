"""What the listeners that devices talk to (snmp_trap, syslog) share.

- `Inbox`: a bounded queue between the socket callbacks and one worker; when full the newest
  message is dropped and counted, so a storm costs its excess, never the agent's memory or loop.
- `Senders`: source address → inventory target (IPv4-mapped IPv6 folded to IPv4), trusted relays,
  and the bounded set of unknown senders (each reported once per `report_secs`).
- `EventCounts`: per target, event kind and severity, the `events` counter rows.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import ipaddress
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from agent.core.catalogue import Measurement, counter, tag
from agent.core.model import Metric, MetricKind, Severity
from agent.core.plugin import Target

T = TypeVar("T")

EVENTS_MEASUREMENT = Measurement(
    "events", "device events received (traps, syslog), counted per device, kind and severity",
    tags=(tag("event_kind", "snmp_trap | syslog | unknown_sender"),
          tag("severity", "info | warning | critical"),
          tag("category", "link_down, link_up, reboot, auth_failure, config_saved, hardware, "
              "port_security, ap_offline, other (central rules count these)")),
    fields=(counter("total", "", "events received since the agent started"),),
)


class Inbox(Generic[T]):
    """Bounded FIFO with one consumer. `put` never blocks (it runs in socket callbacks)."""

    def __init__(self, maxlen: int) -> None:
        self.maxlen = maxlen
        self._q: collections.deque[T] = collections.deque()
        self._wake = asyncio.Event()
        self.accepted = 0
        self.dropped = 0

    def put(self, item: T) -> bool:
        if len(self._q) >= self.maxlen:
            self.dropped += 1
            return False
        self._q.append(item)
        self.accepted += 1
        self._wake.set()
        return True

    def depth(self) -> int:
        return len(self._q)

    async def take(self, batch_max: int) -> list[T]:
        """Wait for at least one item, then return up to `batch_max`."""
        while not self._q:
            self._wake.clear()
            await self._wake.wait()
        q = self._q
        return [q.popleft() for _ in range(min(len(q), batch_max))]

    def take_now(self, batch_max: int) -> list[T]:
        q = self._q
        return [q.popleft() for _ in range(min(len(q), batch_max))]


@functools.lru_cache(maxsize=4096)  # called per message; a campus has a bounded set of senders
def normalize_address(addr: str) -> str:
    """`::ffff:10.0.0.1` (a dual-stack socket's view of IPv4) → `10.0.0.1`; IPv6 compressed."""
    try:
        ip = ipaddress.ip_address(addr.split("%", 1)[0])
    except ValueError:
        return addr
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


@dataclass(slots=True)
class Senders:
    """Who sent a message: the inventory target at an address, or nobody we know."""

    targets: Sequence[Target]
    relays: frozenset[str] = frozenset()
    max_unknown: int = 1024
    report_secs: float = 3600.0
    _by_addr: dict[str, Target] = field(default_factory=dict)
    _unknown: dict[str, float] = field(default_factory=dict)  # address → last reported
    unknown_total: int = 0

    def __post_init__(self) -> None:
        for t in self.targets:
            for a in (t.ipv4, t.ipv6, t.device.ipv4 if t.device else None,
                      t.device.ipv6 if t.device else None):
                if a:
                    self._by_addr[normalize_address(a)] = t
        self.relays = frozenset(normalize_address(r) for r in self.relays)

    def target(self, addr: str) -> Target | None:
        return self._by_addr.get(normalize_address(addr))

    def is_relay(self, addr: str) -> bool:
        return normalize_address(addr) in self.relays

    def unknown(self, addr: str, now: float | None = None) -> bool:
        """Count a message from an unknown sender; True when it should be reported now."""
        self.unknown_total += 1
        now = time.monotonic() if now is None else now
        addr = normalize_address(addr)
        last = self._unknown.get(addr)
        if last is not None and now - last < self.report_secs:
            return False
        if last is None and len(self._unknown) >= self.max_unknown:
            oldest = min(self._unknown, key=self._unknown.__getitem__)
            del self._unknown[oldest]
        self._unknown[addr] = now
        return True

    @property
    def unknown_senders(self) -> int:
        return len(self._unknown)


@dataclass(slots=True)
class EventCounts:
    """Cumulative counts per (target, event kind, severity) → `events` rows per target."""

    _counts: dict[tuple[str | None, str, str, str], int] = field(default_factory=dict)
    _targets: dict[str, Target] = field(default_factory=dict)

    def add(self, target: Target | None, kind: str, severity: Severity,
            category: str = "other") -> None:
        tid = target.id if target is not None else None
        if target is not None:
            self._targets[target.id] = target
        key = (tid, kind, severity.value, category)
        self._counts[key] = self._counts.get(key, 0) + 1

    def rows(self, ts_ns: int) -> list[tuple[Target | None, Metric]]:
        return [(self._targets.get(tid) if tid else None,
                 Metric("events", {"event_kind": kind, "severity": sev, "category": cat},
                        {"total": n}, ts_ns, MetricKind.COUNTER))
                # list() copies in one step under the GIL: the worker thread may be counting
                for (tid, kind, sev, cat), n in list(self._counts.items())]
