"""The `snmp_trap` listener: SNMP v1/v2c/v3 traps and informs → `snmp_trap` events.

Sockets (one per `listen` address, IPv6 ones v6-only so `0.0.0.0:162` and `[::]:162` coexist)
→ bounded `Inbox` (a storm's excess dropped and counted) → one worker: v1/v2c decoded, named
and turned into events in a worker thread (own BER reader, `ber.py`), v3 handed to pysnmp on the
loop (`client.py`; USM needs its crypto). Informs are acknowledged only after their community or
user is accepted. The sender (UDP source, a trusted relay's snmpTrapAddress.0, or a v1
agent-addr) is looked up in the inventory; an unknown sender is counted and reported once per
`unknown_report_secs` as an `unknown_sender` event, and its traps still flow (without a device).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agent.core.catalogue import FieldKind, FieldSpec, Measurement, counter, gauge, tag
from agent.core.errors import ConfigError
from agent.core.model import ErrorType, Event, EventState, Item, Metric, MetricKind, Severity
from agent.core.plugin import (
    BuildContext,
    DefaultTargets,
    ListenerContext,
    PluginKind,
    PluginSpec,
    Target,
)
from agent.shared.device_events import classify, config_saved_event, severity_for
from agent.shared.listening import EVENTS_MEASUREMENT, EventCounts, Inbox, Senders
from collectors.snmp_trap import ber
from collectors.snmp_trap.config import SnmpTrapConfig, split_listen
from collectors.snmp_trap.names import dotted, name_of, short
from config.credentials import SnmpV2cCredential, SnmpV3Credential

if TYPE_CHECKING:  # the framework's snapshot arrives through BuildContext
    from agent.framework.snapshot import Snapshot

    # pysnmp (v3 only) loads where a v3 receiver or user is built, not at every agent start
    from collectors.snmp_trap.client import V3Notification, V3Receiver, V3User

SNMP_TRAP_ADDRESS_0: ber.Oid = (1, 3, 6, 1, 6, 3, 18, 1, 3, 0)  # SNMP-COMMUNITY-MIB (RFC 3584)
_IF_OBJECTS = ("IF-MIB::ifOperStatus", "IF-MIB::ifAdminStatus", "IF-MIB::ifDescr",
               "IF-MIB::ifName", "IF-MIB::ifAlias", "IF-MIB::ifType")
_VERSIONS = {0: "v1", 1: "v2c", 3: "v3"}
_MAX_LABEL = 256
_MAX_SUMMARY = 1024

Datagram = tuple[int, bytes, tuple[object, ...], int]  # family, bytes, address, received ns


@dataclass(slots=True)
class Totals:
    received: int = 0
    accepted: int = 0
    bad_community: int = 0
    auth_failures: int = 0
    malformed: int = 0
    informs_acked: int = 0
    oversized: int = 0


@dataclass(slots=True)
class _Out:
    items: list[tuple[Target | None, Item]] = field(default_factory=list)
    acks: list[tuple[int, bytes, tuple[object, ...]]] = field(default_factory=list)


def render(value: ber.Value) -> str:
    if isinstance(value, bytes):
        try:
            s = value.decode("utf-8")
            if s.isprintable():
                return s[:_MAX_LABEL]
        except UnicodeDecodeError:
            pass
        return value.hex(":")[:_MAX_LABEL]
    if isinstance(value, tuple):
        n = name_of(value)
        return n.name + (f".{n.index}" if n.index else "")
    return "" if value is None else str(value)[:_MAX_LABEL]


class _Proto(asyncio.DatagramProtocol):
    def __init__(self, family: int, inbox: Inbox[Datagram], totals: Totals,
                 max_bytes: int) -> None:
        self.family, self.inbox, self.totals, self.max_bytes = family, inbox, totals, max_bytes

    def datagram_received(self, data: bytes, addr: tuple[object, ...]) -> None:
        self.totals.received += 1
        if len(data) > self.max_bytes:
            self.totals.oversized += 1
            return
        self.inbox.put((self.family, data, addr, time.time_ns()))

    def error_received(self, exc: Exception) -> None:  # ICMP errors on a UDP socket: ignore
        pass


def open_udp(host: str, port: int, rcvbuf: int = 4 << 20) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        with contextlib.suppress(OSError):  # a storm lands in the kernel buffer first
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.bind((host, port))
        s.setblocking(False)
    except OSError:
        s.close()
        raise
    return s


class SnmpTrapListener:
    def __init__(self, cfg: SnmpTrapConfig, communities: dict[bytes, str],
                 users: Sequence[V3User], logger: logging.Logger,
                 snapshot: Snapshot | None = None) -> None:
        self.cfg = cfg
        self.communities = communities
        self.users = list(users)
        self.log = logger
        self.snapshot = snapshot
        self.totals = Totals()
        self.inbox: Inbox[Datagram] = Inbox(cfg.queue_max_messages)
        self.counts = EventCounts()
        self.senders: Senders | None = None
        self.bound: list[tuple[str, int]] = []
        self.ready = asyncio.Event()
        self.ifnames: dict[tuple[str, str], str] = {}  # (device, ifIndex) → polled ifName
        self._socks: dict[int, asyncio.DatagramTransport] = {}
        self._all: list[asyncio.DatagramTransport] = []
        self.v3: V3Receiver | None = None
        self._v3_out: list[tuple[Target | None, Item]] = []

    # ------------------------------------------------------------------ running
    async def run(self, ctx: ListenerContext) -> None:
        loop = asyncio.get_running_loop()
        self.senders = Senders(ctx.targets, frozenset(self.cfg.trusted_relays),
                               report_secs=self.cfg.unknown_report_secs)
        try:
            for spec in self.cfg.listen:
                host, port = split_listen(spec)
                sock = open_udp(host, port)
                fam = sock.family
                tr, _ = await loop.create_datagram_endpoint(
                    lambda fam=fam: _Proto(fam, self.inbox, self.totals,  # type: ignore[misc]
                                           self.cfg.max_message_bytes), sock=sock)
                self._all.append(tr)
                self._socks.setdefault(int(fam), tr)
                name = sock.getsockname()
                self.bound.append((str(name[0]), int(name[1])))
            if self.users:
                from collectors.snmp_trap.client import V3Receiver

                eid = bytes.fromhex(self.cfg.engine_id) if self.cfg.engine_id else None
                self.v3 = V3Receiver(self.users, self._on_v3, self._on_v3_auth_failure, eid)
                for family, transport in self._socks.items():
                    self.v3.attach(family, transport)
            self.log.info("SNMP traps on %s (%d communities, %d v3 users)",
                          ", ".join(f"{h}:{p}" for h, p in self.bound),
                          len(self.communities), len(self.users))
            self.ready.set()
            await self._refresh_ifnames()
            report = asyncio.create_task(self._report_loop(ctx))
            try:
                await self._work(ctx)
            finally:
                report.cancel()
        finally:
            await self.close()

    async def _work(self, ctx: ListenerContext) -> None:
        while True:
            batch = await self.inbox.take(self.cfg.batch_max)
            try:
                await self._handle(batch, ctx)
            except Exception:  # a bug must cost one batch, not the listener
                ctx.count_error(ErrorType.INTERNAL)
                self.log.exception("failed to process %d SNMP messages", len(batch))

    async def _handle(self, batch: list[Datagram], ctx: ListenerContext) -> None:
        v12: list[Datagram] = []
        for d in batch:
            try:
                version = ber.peek_version(d[1])
            except ber.BerError:
                self.totals.malformed += 1
                continue
            if version == ber.V3 and self.v3 is not None:
                try:
                    if not self.v3.feed(d[0], d[1], d[2]):
                        self.totals.malformed += 1
                except Exception:  # pysnmp on a hostile datagram: that one is lost, not the batch
                    self.totals.malformed += 1
                    self.log.debug("SNMPv3 datagram from %s not processed", d[2], exc_info=True)
            elif version in (ber.V1, ber.V2C):
                v12.append(d)
            elif version == ber.V3:
                self.totals.auth_failures += 1  # v3 and no users configured: not accepted
            else:
                self.totals.malformed += 1
        out = await asyncio.to_thread(self.process, v12) if v12 else _Out()
        for fam, resp, addr in out.acks:
            tr = self._socks.get(fam)
            if tr is not None:
                tr.sendto(resp, addr)
                self.totals.informs_acked += 1
        out.items.extend(self._v3_out)
        self._v3_out = []
        self._emit(out.items, ctx)

    def _emit(self, items: list[tuple[Target | None, Item]], ctx: ListenerContext) -> None:
        by_target: dict[str | None, tuple[Target | None, list[Item]]] = {}
        for target, it in items:
            key = target.id if target is not None else None
            by_target.setdefault(key, (target, []))[1].append(it)
        for target, its in by_target.values():
            ctx.emit(its, target)

    # ------------------------------------------------------------------ v1 / v2c (thread)
    def process(self, batch: Sequence[Datagram]) -> _Out:
        """Decode, check the community, name and build events. Pure apart from counters."""
        out = _Out()
        for fam, data, addr, ts in batch:
            try:
                n = ber.decode(data)
            except ber.BerError:
                self.totals.malformed += 1
                continue
            if n.community not in self.communities:
                self.totals.bad_community += 1
                continue
            if n.pdu == ber.INFORM:
                try:
                    out.acks.append((fam, ber.inform_response(data), addr))
                except ber.BerError:
                    self.totals.malformed += 1
                    continue
            self.totals.accepted += 1
            out.items.extend(self._events(
                str(addr[0]), _VERSIONS[n.version], n.trap_oid, n.varbinds, ts, n.agent_addr))
        return out

    # ------------------------------------------------------------------ v3 (loop, pysnmp)
    def _on_v3(self, n: V3Notification) -> None:
        self.totals.accepted += 1
        if n.inform:
            self.totals.informs_acked += 1  # pysnmp has sent the Response already
        self._v3_out.extend(self._events(n.address, "v3", n.trap_oid, n.varbinds,
                                         time.time_ns(), None))

    def _on_v3_auth_failure(self, address: str, reason: str) -> None:
        self.totals.auth_failures += 1
        self.log.debug("SNMPv3 message from %s refused: %s", address, reason)

    # ------------------------------------------------------------------ events
    def _sender(self, src: str, varbinds: Sequence[ber.VarBind],
                agent_addr: str | None) -> tuple[Target | None, str]:
        assert self.senders is not None
        s = self.senders
        if s.is_relay(src):
            for vb in varbinds:
                if vb.oid == SNMP_TRAP_ADDRESS_0 and isinstance(vb.value, str):
                    return s.target(vb.value), vb.value
            if agent_addr and agent_addr != "0.0.0.0":
                return s.target(agent_addr), agent_addr
        t = s.target(src)
        if t is None and agent_addr and agent_addr != "0.0.0.0":
            t2 = s.target(agent_addr)
            if t2 is not None:
                return t2, agent_addr
        return t, src

    def _events(self, src: str, version: str, trap_oid: ber.Oid,
                varbinds: Sequence[ber.VarBind], ts: int,
                agent_addr: str | None) -> list[tuple[Target | None, Item]]:
        target, source = self._sender(src, varbinds, agent_addr)
        device = target.device.id if target is not None and target.device else None
        trap = name_of(trap_oid)
        trap_name = trap.name + (f".{trap.index}" if trap.index else "")
        named: list[tuple[str, str]] = []
        ifindex = ifname = None
        for vb in varbinds[:64]:
            n = name_of(vb.oid)
            val = render(vb.value)
            named.append((short(n.name) if n.known else n.name, val))
            if n.name == "IF-MIB::ifIndex":
                ifindex = val
            elif n.name in _IF_OBJECTS and n.index and ifindex is None:
                ifindex = n.index
            if n.name in ("IF-MIB::ifName", "IF-MIB::ifDescr") and val and ifname is None:
                ifname = val
        if ifname is None and ifindex is not None:
            ifname = self.ifnames.get((device or "", ifindex), ifindex)
        category = classify(trap_name)
        sev = severity_for(category)
        labels = {"trap": trap_name, "trap_oid": dotted(trap_oid), "source": source,
                  "snmp_version": version, "category": category}
        if ifindex is not None:
            labels["ifindex"] = ifindex
        if ifname is not None:
            labels["ifname"] = ifname
        where = f" on {ifname}" if ifname else ""
        body = " ".join(f"{k}={v}" for k, v in named)
        summary = f"{trap_name}{where} from {device or source}: {body}".strip()[:_MAX_SUMMARY]
        key = f"snmp_trap:{device or source}:{trap_name}" + (f":{ifname}" if ifname else "")
        out: list[tuple[Target | None, Item]] = [
            (target, Event(key, "snmp_trap", EventState.OBSERVED, sev, summary, device, labels,
                           ts))]
        self.counts.add(target, "snmp_trap", sev, category)
        if category == "config_saved":  # the kind a config backup subscribes to
            out.append((target, config_saved_event(device or source, device, summary,
                                                   "snmp_trap", source, ts)))
        if target is None and self.senders is not None and self.senders.unknown(source):
            self.counts.add(None, "unknown_sender", Severity.WARNING)
            out.append((None, Event(
                f"unknown_sender:snmp_trap:{source}", "unknown_sender", EventState.OBSERVED,
                Severity.WARNING, f"SNMP trap {trap_name} from {source}, which is not in the "
                f"inventory", None, {"source": source, "protocol": "snmp_trap"}, ts)))
        return out

    # ------------------------------------------------------------------ reporting
    async def _refresh_ifnames(self) -> None:
        snap = self.snapshot
        if snap is None:
            return

        def scan() -> dict[tuple[str, str], str]:
            out: dict[tuple[str, str], str] = {}
            for m in snap.current():
                if m.name == "snmp_interface":
                    d, i, n = m.tags.get("device"), m.tags.get("ifindex"), m.tags.get("ifname")
                    if d and i and n:
                        out[(d, i)] = n
            return out

        self.ifnames = await asyncio.to_thread(scan)

    async def _report_loop(self, ctx: ListenerContext) -> None:
        while True:
            await asyncio.sleep(self.cfg.report_interval_secs)
            try:
                self.report(ctx)
            except Exception:  # a bug in reporting must not end the reports for good
                ctx.count_error(ErrorType.INTERNAL)
                self.log.exception("trap listener: report failed")
            await self._refresh_ifnames()

    def report(self, ctx: ListenerContext) -> None:
        now = time.time_ns()
        t = self.totals
        fields: dict[str, int | float | bool | str] = {
            "received_total": t.received, "accepted_total": t.accepted,
            "dropped_total": self.inbox.dropped, "bad_community_total": t.bad_community,
            "auth_failures_total": t.auth_failures, "malformed_total": t.malformed,
            "oversized_total": t.oversized, "informs_acked_total": t.informs_acked,
            "unknown_senders_total": self.senders.unknown_total if self.senders else 0,
            "queue_depth": self.inbox.depth(),
        }
        ctx.emit([Metric("snmp_trap_receiver", {}, fields, now, MetricKind.COUNTER)], None)
        self._emit([(tg, m) for tg, m in self.counts.rows(now)], ctx)

    async def close(self) -> None:
        if self.v3 is not None:
            self.v3.close()
            self.v3 = None
        for tr in self._all:
            tr.close()
        self._all.clear()
        self._socks.clear()


def build(cfg: SnmpTrapConfig, ctx: BuildContext) -> SnmpTrapListener:
    communities: dict[bytes, str] = {}
    for name in cfg.communities:
        cred = ctx.credentials.get(name)
        if not isinstance(cred, SnmpV2cCredential):
            raise ConfigError.one(ctx.instance, f"communities: {name!r} is not an snmp_v2c "
                                  "credential set")
        communities[cred.community.get_secret_value().encode()] = name
    users: list[V3User] = []
    if cfg.users:
        from collectors.snmp_trap.client import V3User
    for u in cfg.users:
        cred3 = ctx.credentials.get(u.credential)
        if not isinstance(cred3, SnmpV3Credential):
            raise ConfigError.one(ctx.instance, f"users: {u.credential!r} is not an snmp_v3 "
                                  "credential set")
        users.append(V3User(cred3, tuple(bytes.fromhex(e) for e in u.engine_ids),
                            u.aes_key_extension == "blumenthal"))
    if not communities and not users:
        # a listener that only counts what arrives is still useful (who sends traps at all?)
        ctx.logger.warning("%s: no communities and no users: every trap is counted and refused",
                           ctx.instance)
    if ctx.snapshot is not None:
        ctx.snapshot.want(["snmp_interface"])  # interface names for the reports (ifindex)
    return SnmpTrapListener(cfg, communities, users, ctx.logger, ctx.snapshot)


EVENT_TAGS = (
    tag("key", "the event's deduplication key"), tag("event_kind", "snmp_trap | syslog | …"),
    tag("state", "observed"), tag("severity", "info | warning | critical"),
    tag("category", "link_down, link_up, reboot, auth_failure, config_saved, hardware, "
        "port_security, ap_offline, other"),
    tag("source", "the sender's address (or the relayed original sender)"),
    tag("ifname", "interface named by the event (polled ifName, else ifIndex)"),
    tag("ifindex", "ifIndex carried by a trap"),
)

SPEC = PluginSpec(
    name="snmp_trap", kind=PluginKind.LISTENER, config_model=SnmpTrapConfig, build=build,
    description="SNMP v1/v2c/v3 traps and informs (acknowledged) → named events per device",
    # a real config names its credential sets: communities: [campus-v2c], users: [{credential:
    # campus-v3, engine_ids: [800007db03…]}]
    example={"type": "snmp_trap", "listen": ["0.0.0.0:162", "[::]:162"]},
    default_targets=DefaultTargets.INVENTORY,
    measurements=(
        Measurement("event", "one row per device event (local store)", tags=(
            *EVENT_TAGS,
            tag("trap", "notification name from the MIBs (IF-MIB::linkDown), else its OID"),
            tag("trap_oid", "the notification's OID"),
            tag("snmp_version", "v1 | v2c | v3"),
            tag("protocol", "on unknown_sender events: snmp_trap | syslog"),
            tag("via", "on device_config_saved events: snmp_trap | syslog")),
            # kind EVENT, as the framework declares `event.summary` (kinds must agree)
            fields=(FieldSpec("summary", FieldKind.EVENT, "", "the trap and its named "
                              "varbinds"),)),
        EVENTS_MEASUREMENT,
        Measurement("snmp_trap_receiver", "the trap listener itself (no device tags)", fields=(
            counter("received_total", "", "datagrams received"),
            counter("accepted_total", "", "notifications accepted (community or user known)"),
            counter("dropped_total", "", "datagrams dropped: the inbox was full (storm)"),
            counter("bad_community_total", "", "v1/v2c with a community not configured"),
            counter("auth_failures_total", "", "v3 refused: unknown user, wrong key"),
            counter("malformed_total", "", "undecodable datagrams"),
            counter("oversized_total", "", "datagrams over max_message_bytes"),
            counter("informs_acked_total", "", "informs acknowledged"),
            counter("unknown_senders_total", "", "accepted notifications from senders not in "
                    "the inventory"),
            gauge("queue_depth", "", "datagrams waiting in the inbox"))),
    ),
    # no Capability.CREDENTIAL: that is for one `credential` key; `communities` and `users`
    # name several sets, which build() checks (unknown or wrong-typed set: ConfigError)
)
