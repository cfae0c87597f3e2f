"""The `syslog` listener: RFC 5424 / RFC 3164 over UDP, TCP and TLS (RFC 5425) → `syslog` events.

Sockets → bounded `Inbox` (UDP: excess dropped and counted; TCP/TLS: the connection is held
back near full, so nothing is lost) → one worker that parses batches in a
thread (`parse.py`, bounded regexes) and emits one event per line on the sending device: the
UDP/TCP source address, or for a trusted relay the line's HOSTNAME (inventory id or hostname).
Every line is kept: one that does not parse is recorded raw (`format=raw`) and counted. The
whole received line travels in the event's `raw` label, so `syslog_forward` relays the device's
own words, not our reading of them.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import socket
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, field_validator

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
from agent.shared.listening import (
    EVENTS_MEASUREMENT,
    EventCounts,
    Inbox,
    Senders,
    normalize_address,
)
from collectors.syslog.framing import Framer
from collectors.syslog.parse import MAX_LINE, SyslogMessage, parse
from config.base import StrictModel

Received = tuple[bytes, str, str, int]  # line, source address, transport, received ns
_MAX_SUMMARY = 2048
_MAX_LABEL = 256


def _split(s: str) -> tuple[str, int]:
    host, _, port = s.strip().rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"listen address {s!r} is not HOST:PORT or [IPv6]:PORT")
    return host, int(port)


class TlsListen(StrictModel):
    address: str
    cert_file: str  # relative to the config file
    key_file: str
    ca_file: str | None = None  # set: clients must present a certificate it signed

    @field_validator("address")
    @classmethod
    def _addr(cls, v: str) -> str:
        _split(v)
        return v


class SyslogConfig(StrictModel):
    listen_udp: list[str] = Field(default_factory=lambda: ["0.0.0.0:514", "[::]:514"])
    listen_tcp: list[str] = Field(default_factory=list)
    listen_tls: list[TlsListen] = Field(default_factory=list)
    # relays (a central rsyslog) whose lines name the original device in HOSTNAME
    trusted_relays: list[str] = Field(default_factory=list)
    queue_max_messages: int = Field(default=50000, ge=10)
    batch_max: int = Field(default=1000, ge=1)
    max_frame_bytes: int = Field(default=65536, ge=480)
    max_connections: int = Field(default=512, ge=1)
    report_interval_secs: float = Field(default=30.0, gt=0)
    unknown_report_secs: float = Field(default=3600.0, gt=0)

    @field_validator("listen_udp", "listen_tcp")
    @classmethod
    def _listen(cls, v: list[str]) -> list[str]:
        for s in v:
            _split(s)
        return v


@dataclass(slots=True)
class Totals:
    received: int = 0
    parsed: int = 0
    unparsed: int = 0
    truncated: int = 0
    connections: int = 0
    connections_total: int = 0
    connections_rejected: int = 0
    oversized_frames: int = 0
    pauses: int = 0  # times a TCP/TLS connection was held back (inbox near full)


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, owner: SyslogListener) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple[object, ...]) -> None:
        self.owner.totals.received += 1
        self.owner.inbox.put((data, str(addr[0]), "udp", time.time_ns()))

    def error_received(self, exc: Exception) -> None:
        pass


class _Stream(asyncio.Protocol):
    def __init__(self, owner: SyslogListener, transport_name: str) -> None:
        self.owner = owner
        self.name = transport_name
        self.framer = Framer(owner.cfg.max_frame_bytes)
        self.peer = "?"
        self.transport: asyncio.BaseTransport | None = None
        self.counted = False
        self.pending: collections.deque[bytes] = collections.deque()
        self.held = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        t = self.owner.totals
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if peer else "?"
        if t.connections >= self.owner.cfg.max_connections:
            t.connections_rejected += 1
            transport.close()
            return
        self.counted = True
        t.connections += 1
        t.connections_total += 1

    def data_received(self, data: bytes) -> None:
        self._put(self.framer.feed(data))

    def _put(self, frames: list[bytes]) -> None:
        self.pending.extend(frames)
        self.owner.totals.oversized_frames += self.framer.oversized
        self.framer.oversized = 0
        self._flush()

    def _flush(self) -> None:
        """Into the inbox while it has room. TCP can push back where UDP cannot: when full,
        stop reading this connection (the sender's buffers hold the rest; what was already
        read waits in `pending`, at most one read's worth) until the worker has drained it."""
        o = self.owner
        now = time.time_ns()
        while self.pending:
            if o.inbox.depth() >= o.inbox.maxlen:
                self._hold()
                return
            o.totals.received += 1
            o.inbox.put((self.pending.popleft(), self.peer, self.name, now))
        if o.inbox.depth() >= o.high_water:
            self._hold()

    def _hold(self) -> None:
        if not self.held:
            self.held = True
            self.owner.totals.pauses += 1
            if isinstance(self.transport, asyncio.Transport) and not self.transport.is_closing():
                self.transport.pause_reading()
        self.owner.paused.add(self)

    def resume(self) -> None:
        self.held = False
        self.owner.paused.discard(self)
        self._flush()
        if not self.held and isinstance(self.transport, asyncio.Transport) \
                and not self.transport.is_closing():
            self.transport.resume_reading()

    def eof_received(self) -> bool | None:
        self._put(self.framer.flush())
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.pending:  # else it stays held: resume() still hands the rest over
            self.owner.paused.discard(self)
        if self.counted:
            self.owner.totals.connections -= 1
            self.counted = False


class SyslogListener:
    def __init__(self, cfg: SyslogConfig, tls: Sequence[tuple[str, ssl.SSLContext]],
                 logger: logging.Logger) -> None:
        self.cfg = cfg
        self.tls = list(tls)
        self.log = logger
        self.totals = Totals()
        self.inbox: Inbox[Received] = Inbox(cfg.queue_max_messages)
        self.counts = EventCounts()
        self.senders: Senders | None = None
        self._by_name: dict[str, Target] = {}
        self.bound: dict[str, list[tuple[str, int]]] = {"udp": [], "tcp": [], "tls": []}
        self.ready = asyncio.Event()
        self._closers: list[asyncio.BaseTransport | asyncio.Server] = []
        self.paused: set[_Stream] = set()  # TCP/TLS connections held back while the inbox is full
        self.high_water = max(1, cfg.queue_max_messages * 9 // 10)

    async def run(self, ctx: ListenerContext) -> None:
        loop = asyncio.get_running_loop()
        self.senders = Senders(ctx.targets, frozenset(self.cfg.trusted_relays),
                               report_secs=self.cfg.unknown_report_secs)
        for t in ctx.targets:
            for n in (t.id, t.hostname, t.device.hostname if t.device else None):
                if n:
                    self._by_name[n.lower()] = t
        try:
            for spec in self.cfg.listen_udp:
                host, port = _split(spec)
                sock = _udp_socket(host, port)
                tr, _ = await loop.create_datagram_endpoint(lambda: _Udp(self), sock=sock)
                self._closers.append(tr)
                self.bound["udp"].append(_name(sock))
            streams: list[tuple[str, str, ssl.SSLContext | None]] = [
                (s, "tcp", None) for s in self.cfg.listen_tcp]
            streams += [(a, "tls", c) for a, c in self.tls]
            for spec, kind, sslctx in streams:
                host, port = _split(spec)
                sock = _tcp_socket(host, port)
                server = await loop.create_server(
                    lambda kind=kind: _Stream(self, kind),
                    sock=sock, ssl=sslctx, backlog=256)
                self._closers.append(server)
                self.bound[kind].append(_name(sock))
            self.log.info("syslog on udp %s tcp %s tls %s", self.bound["udp"],
                          self.bound["tcp"], self.bound["tls"])
            self.ready.set()
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
                out = await asyncio.to_thread(self.process, batch)
                by_target: dict[str | None, tuple[Target | None, list[Item]]] = {}
                for target, ev in out:
                    key = target.id if target is not None else None
                    by_target.setdefault(key, (target, []))[1].append(ev)
                for target, items in by_target.values():
                    ctx.emit(items, target)
            except Exception:  # a bug must cost one batch, not the listener
                ctx.count_error(ErrorType.INTERNAL)
                self.log.exception("failed to process %d syslog lines", len(batch))
            if self.paused and self.inbox.depth() <= self.high_water // 2:
                for stream in list(self.paused):
                    stream.resume()

    # ------------------------------------------------------------------ parsing (thread)
    def _sender(self, src: str, msg: SyslogMessage) -> tuple[Target | None, str]:
        assert self.senders is not None
        if self.senders.is_relay(src) and msg.hostname:
            t = self._by_name.get(msg.hostname.lower()) or self.senders.target(msg.hostname)
            return t, msg.hostname
        return self.senders.target(src), normalize_address(src)

    def process(self, batch: Sequence[Received]) -> list[tuple[Target | None, Event]]:
        out: list[tuple[Target | None, Event]] = []
        for data, src, transport, ts in batch:
            line = data.decode("utf-8", "replace")
            m = parse(line)
            if m.truncated:
                self.totals.truncated += 1
            if m.ok:
                self.totals.parsed += 1
            else:
                self.totals.unparsed += 1
            out.extend(self._events(line[:MAX_LINE].rstrip("\r\n\x00"), m, src, transport, ts))
        return out

    def _events(self, raw: str, m: SyslogMessage, src: str, transport: str,
                ts: int) -> list[tuple[Target | None, Event]]:
        target, source = self._sender(src, m)
        dev = target.device if target is not None else None
        device = dev.id if dev is not None else None
        vendor = m.vendor_format
        dv = (dev.vendor or "").lower() if dev is not None else ""
        if vendor == "cisco" and "ruijie" in dv:
            vendor = "ruijie"
        elif vendor == "huawei" and "h3c" in dv:
            vendor = "h3c"
        name = m.mnemonic or m.app
        category = classify(name, m.message) if m.ok else "other"
        sev = severity_for(category, m.severity)
        labels = {"format": m.format, "source": source, "transport": transport,
                  "category": category, "raw": raw}
        for k, v in (("mnemonic", name), ("module", m.module), ("vendor_format", vendor),
                     ("host", m.hostname), ("ifname", m.interface), ("user", m.user),
                     ("app", m.app)):
            if v:
                labels[k] = v[:_MAX_LABEL]
        if m.facility is not None:
            labels["facility"] = str(m.facility)
        if m.severity is not None:
            labels["syslog_severity"] = str(m.severity)
        summary = (m.message or raw)[:_MAX_SUMMARY]
        key = f"syslog:{device or source}:{name or m.format}" + (
            f":{m.interface}" if m.interface else "")
        out: list[tuple[Target | None, Event]] = [
            (target, Event(key, "syslog", EventState.OBSERVED, sev, summary, device, labels, ts))]
        self.counts.add(target, "syslog", sev, category)
        if category == "config_saved":  # the kind a config backup subscribes to
            out.append((target, config_saved_event(device or source, device, summary,
                                                   "syslog", source, ts)))
        if target is None and self.senders is not None and self.senders.unknown(source):
            self.counts.add(None, "unknown_sender", Severity.WARNING)
            out.append((None, Event(
                f"unknown_sender:syslog:{source}", "unknown_sender", EventState.OBSERVED,
                Severity.WARNING, f"syslog from {source}, which is not in the inventory",
                None, {"source": source, "protocol": "syslog"}, ts)))
        return out

    # ------------------------------------------------------------------ reporting
    async def _report_loop(self, ctx: ListenerContext) -> None:
        while True:
            await asyncio.sleep(self.cfg.report_interval_secs)
            try:
                self.report(ctx)
            except Exception:  # a bug in reporting must not end the reports for good
                ctx.count_error(ErrorType.INTERNAL)
                self.log.exception("syslog listener: report failed")

    def report(self, ctx: ListenerContext) -> None:
        now = time.time_ns()
        t = self.totals
        fields: dict[str, int | float | bool | str] = {
            "received_total": t.received, "parsed_total": t.parsed,
            "unparsed_total": t.unparsed, "truncated_total": t.truncated,
            "dropped_total": self.inbox.dropped, "oversized_frames_total": t.oversized_frames,
            "connections": t.connections, "connections_total": t.connections_total,
            "connections_rejected_total": t.connections_rejected,
            "tcp_pauses_total": t.pauses,
            "unknown_senders_total": self.senders.unknown_total if self.senders else 0,
            "queue_depth": self.inbox.depth(),
        }
        ctx.emit([Metric("syslog_receiver", {}, fields, now, MetricKind.COUNTER)], None)
        for target, m in self.counts.rows(now):
            ctx.emit([m], target)

    async def close(self) -> None:
        for c in self._closers:
            c.close()
        self._closers.clear()


def _name(sock: socket.socket) -> tuple[str, int]:
    n = sock.getsockname()
    return str(n[0]), int(n[1])


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _udp_socket(host: str, port: int) -> socket.socket:
    s = socket.socket(_family(host), socket.SOCK_DGRAM)
    try:
        if s.family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        with contextlib.suppress(OSError):  # a storm lands in the kernel buffer first
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.bind((host, port))
        s.setblocking(False)
    except OSError:
        s.close()
        raise
    return s


def _tcp_socket(host: str, port: int) -> socket.socket:
    s = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        if s.family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        s.setblocking(False)
    except OSError:
        s.close()
        raise
    return s


def tls_context(t: TlsListen, config_dir: Path, instance: str) -> ssl.SSLContext:
    def path(p: str) -> str:
        full = Path(p) if Path(p).is_absolute() else config_dir / p
        if not full.is_file():
            raise ConfigError.one(instance, f"listen_tls {t.address}: {full} does not exist")
        return str(full)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(path(t.cert_file), path(t.key_file))
    if t.ca_file:
        ctx.load_verify_locations(path(t.ca_file))
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def build(cfg: SyslogConfig, ctx: BuildContext) -> SyslogListener:
    if not (cfg.listen_udp or cfg.listen_tcp or cfg.listen_tls):
        raise ConfigError.one(ctx.instance, "no listen_udp, listen_tcp or listen_tls")
    tls = [(t.address, tls_context(t, ctx.config_dir, ctx.instance)) for t in cfg.listen_tls]
    return SyslogListener(cfg, tls, ctx.logger)


SPEC = PluginSpec(
    name="syslog", kind=PluginKind.LISTENER, config_model=SyslogConfig, build=build,
    description="syslog RFC 5424/3164 over UDP, TCP, TLS → parsed events per device "
                "(Huawei/H3C, Cisco/Ruijie, ZTE, Linux sshd), raw lines kept",
    example={"type": "syslog", "listen_udp": ["0.0.0.0:514", "[::]:514"],
             "listen_tcp": ["0.0.0.0:601"]},
    default_targets=DefaultTargets.INVENTORY,
    measurements=(
        Measurement("event", "one row per device event (local store)", tags=(
            tag("key", "the event's deduplication key"), tag("event_kind", "syslog"),
            tag("state", "observed"), tag("severity", "info | warning | critical"),
            tag("category", "link_down, link_up, reboot, auth_failure, config_saved, "
                "hardware, port_security, ap_offline, other"),
            tag("source", "sender address (or the relayed HOSTNAME)"),
            tag("transport", "udp | tcp | tls"), tag("format", "rfc5424 | rfc3164 | raw"),
            tag("mnemonic", "vendor mnemonic (IFNET/4/LINK_STATE(l), LINK-3-UPDOWN …) "
                "or the APP-NAME"),
            tag("module", "vendor module (IFNET, LINK, sshd …)"),
            tag("vendor_format", "huawei | h3c | cisco | ruijie | zte | linux"),
            tag("host", "HOSTNAME in the line"), tag("ifname", "interface named in the line"),
            tag("user", "user named in the line"), tag("app", "APP-NAME / TAG"),
            tag("facility", "syslog facility 0-23"),
            tag("syslog_severity", "syslog severity 0-7"),
            tag("raw", "the received line, whole (bounded to 8 kB)"),
            tag("protocol", "on unknown_sender events: snmp_trap | syslog"),
            tag("via", "on device_config_saved events: snmp_trap | syslog")),
            # kind EVENT, as the framework declares `event.summary` (kinds must agree)
            fields=(FieldSpec("summary", FieldKind.EVENT, "", "the message text (MSG)"),)),
        EVENTS_MEASUREMENT,
        Measurement("syslog_receiver", "the syslog listener itself (no device tags)", fields=(
            counter("received_total", "", "lines received (all transports)"),
            counter("parsed_total", "", "lines with a valid PRI (RFC 5424 or 3164)"),
            counter("unparsed_total", "", "lines kept raw: no valid PRI"),
            counter("truncated_total", "", "lines cut to 8 kB"),
            counter("dropped_total", "", "lines dropped: the inbox was full (storm)"),
            counter("oversized_frames_total", "", "TCP frames over max_frame_bytes"),
            gauge("connections", "", "open TCP/TLS connections"),
            counter("connections_total", "", "TCP/TLS connections accepted"),
            counter("connections_rejected_total", "", "connections over max_connections"),
            counter("tcp_pauses_total", "", "times a TCP/TLS sender was held back (no loss) "
                    "while the inbox was near full"),
            counter("unknown_senders_total", "", "lines from senders not in the inventory"),
            gauge("queue_depth", "", "lines waiting in the inbox"))),
    ),
)
