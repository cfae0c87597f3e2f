"""The only module that imports paho-mqtt: a subscriber for the collector, a publisher for the
simulator and tests.

paho is driven directly (`loop_start`: its own network thread), not through aiomqtt, which costs
2.6× the CPU per message (shared/reference/baselines.md). paho's thread reconnects by itself with
exponential backoff; `on_connect` subscribes again every time, so a broker restart or a network
cut never leaves a connected client without subscriptions (the silent stop Telegraf's
mqtt_consumer has had). Every callback is wrapped: an exception escaping into paho's thread
would end that thread, and with it the collector.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from agent.core.model import ErrorType
from collectors.mqtt.handover import Received

log = logging.getLogger("campusmon.mqtt.client")

Protocol = Literal["3.1.1", "5"]


@dataclass(frozen=True, slots=True)
class TlsFiles:
    ca_file: str
    cert_file: str | None = None
    key_file: str | None = None
    check_hostname: bool = True


@dataclass(frozen=True, slots=True)
class BrokerOptions:
    host: str
    port: int
    client_id: str
    protocol: Protocol = "5"
    persistent_session: bool = False
    session_expiry_secs: int = 3600  # MQTT 5: how long the broker keeps the session
    keepalive_secs: int = 30
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a repr or a log
    tls: TlsFiles | None = None
    reconnect_min_secs: int = 1
    reconnect_max_secs: int = 30


@dataclass(slots=True)
class ClientStats:
    """Written by paho's thread, read by the event loop (plain ints: reads are atomic)."""

    connected: bool = False
    connects: int = 0
    disconnects: int = 0
    subscribe_failures: int = 0
    undecodable: int = 0  # messages whose topic was not UTF-8 (dropped in paho's thread)
    session_present: bool = False
    last_error: str = ""
    last_error_type: ErrorType | None = None
    errors: list[ErrorType] = field(default_factory=list)  # drained by the owner


_READ_CHUNK = 65536


class _BufferedClient(paho.Client):
    """paho reading the socket 64 KiB at a time instead of 3–4 `recv` calls per packet.

    paho 2 reads a packet with recv(1) for its type, recv(1) per length byte, then the rest:
    at campus message rates that is most of its cost, and every recv releases and retakes the
    GIL the event loop is waiting for. Here `_sock_recv` serves paho from a buffer filled by one
    large read, and `loop_read` keeps going while buffered bytes remain (select() cannot see
    them). Both are paho internals, stable across 2.x; without them the stock client is used.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rbuf = b""
        self._rpos = 0
        self._v5 = kwargs.get("protocol") == paho.MQTTv5
        # set by the Subscriber: the QoS 0 PUBLISH packets of one buffer go here at once, with
        # the number dropped because their topic was not UTF-8
        self.fast_publish: Callable[[list[Received], int], None] | None = None
        # the paho internals the fast path reads; another paho layout: paho's reader only
        self._fast_ok = isinstance(getattr(self, "_in_packet", None), dict) \
            and "command" in self._in_packet and hasattr(self, "_msgtime_mutex")

    def _packet_read(self) -> MQTTErrorCode:
        """Between packets, whole QoS 0 PUBLISH packets already in the buffer are decoded
        here and handed to `fast_publish`; anything else (other packets, QoS 1/2, a packet
        cut at the buffer's end, a malformed one) goes to paho's reader as before.

        paho spends ~30 µs per message in Python on a QoS 0 PUBLISH (a dict of read state,
        a recv per length byte, MQTTMessage, a debug log call, topic-filter matching for
        callbacks this client never registers, two locks); this is a few slices. QoS 0 needs
        no acknowledgement, so paho's session state is untouched."""
        deliver = self.fast_publish
        if deliver is not None and self._fast_ok and self._in_packet["command"] == 0:
            if self._rpos >= len(self._rbuf):  # refill first: paho would read 1 byte of it
                try:
                    data = super()._sock_recv(_READ_CHUNK)
                except OSError:  # nothing there (BlockingIOError), or paho's to report
                    data = b""
                if data:
                    self._rbuf, self._rpos = data, 0
            if self._fast_publishes(deliver):
                with self._msgtime_mutex:
                    self._last_bytes_received = time.monotonic()  # paho's time_func
                return MQTTErrorCode.MQTT_ERR_SUCCESS
        return super()._packet_read()

    def _fast_publishes(self, deliver: Callable[[list[Received], int], None]) -> int:
        """Whole QoS 0 PUBLISH packets from the buffer, handed on as one batch (one call
        across to the hand-over per buffer, not three per message); returns how many packets
        were consumed (delivered or, topic not UTF-8, dropped and counted)."""
        buf, pos, end = self._rbuf, self._rpos, len(self._rbuf)
        ts = time.time_ns()  # read in one piece: received together
        n = bad = 0
        batch: list[Received] = []
        add = batch.append
        while pos < end:
            cmd = buf[pos]
            if cmd & 0xF6 != 0x30:  # not PUBLISH (0x3_), or QoS 1/2 (bits 1-2)
                break
            length, mult, i = 0, 1, pos + 1
            while i < end and i < pos + 5:
                b = buf[i]
                length += (b & 127) * mult
                mult <<= 7
                i += 1
                if not b & 128:
                    break
            else:
                break  # length cut off by the buffer's end (or over 4 bytes: paho refuses)
            stop = i + length
            if stop > end or length < 2:
                break
            tlen = (buf[i] << 8) | buf[i + 1]
            body = i + 2 + tlen
            if body > stop or tlen == 0:
                break  # malformed (paho reports it), or an MQTT 5 topic alias (paho's)
            topic = buf[i + 2:body]
            if self._v5:  # properties: a variable byte integer length, then skipped
                plen, mult, j = 0, 1, body
                while j < stop and j < body + 4:
                    b = buf[j]
                    plen += (b & 127) * mult
                    mult <<= 7
                    j += 1
                    if not b & 128:
                        break
                else:
                    break
                body = j + plen
                if body > stop:
                    break
            pos = stop
            n += 1
            try:
                name = topic.decode()
            except UnicodeDecodeError:
                bad += 1
                continue
            # tuple.__new__ is Received(...) without NamedTuple's Python-level __new__
            add(_new_tuple(Received, (name, buf[body:stop], bool(cmd & 1), 0, ts)))
        self._rpos = pos
        if n:
            deliver(batch, bad)
        return n

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rpos >= len(self._rbuf):
            data = super()._sock_recv(_READ_CHUNK)  # BlockingIOError when nothing is there
            if not data:
                return data  # EOF: paho treats it as a lost connection
            self._rbuf, self._rpos = data, 0
        end = self._rpos + bufsize
        out = self._rbuf[self._rpos:end]
        self._rpos = end
        return out

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        rc = super().loop_read(max_packets)
        while (rc == MQTTErrorCode.MQTT_ERR_SUCCESS and self._rpos < len(self._rbuf)
               and self._sock is not None):
            rc = super().loop_read(max_packets)
        return rc

    def _sock_close(self) -> None:
        self._rbuf, self._rpos = b"", 0  # bytes of a dead connection never reach the next
        super()._sock_close()


_new_tuple = tuple.__new__

_CAN_BUFFER = all(hasattr(paho.Client, a)
                  for a in ("_sock_recv", "_sock_close", "loop_read", "_packet_read"))


def _new_client(opts: BrokerOptions, buffered: bool = False) -> paho.Client:
    proto = paho.MQTTv5 if opts.protocol == "5" else paho.MQTTv311
    kwargs: dict[str, Any] = {}
    if opts.protocol != "5":
        kwargs["clean_session"] = not opts.persistent_session
    cls = _BufferedClient if buffered and _CAN_BUFFER else paho.Client
    client = cls(CallbackAPIVersion.VERSION2, client_id=opts.client_id, protocol=proto,
                 **kwargs)
    if opts.username is not None:
        client.username_pw_set(opts.username, opts.password)
    if opts.tls is not None:
        client.tls_set(ca_certs=opts.tls.ca_file, certfile=opts.tls.cert_file,
                       keyfile=opts.tls.key_file, cert_reqs=ssl.CERT_REQUIRED)
        if not opts.tls.check_hostname:
            client.tls_insecure_set(True)
    client.reconnect_delay_set(opts.reconnect_min_secs, opts.reconnect_max_secs)
    return client


def _connect_args(opts: BrokerOptions) -> dict[str, Any]:
    args: dict[str, Any] = {"keepalive": opts.keepalive_secs}
    if opts.protocol == "5":
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        if opts.persistent_session:
            props.SessionExpiryInterval = opts.session_expiry_secs
            args["clean_start"] = False
        else:
            args["clean_start"] = True
        args["properties"] = props
    return args


def _close(client: paho.Client) -> None:
    """DISCONNECT, then wait for paho's thread; never raises (closing must always finish)."""
    with contextlib.suppress(Exception):
        client.disconnect()
    with contextlib.suppress(Exception):
        client.loop_stop()


def _error_type(reason: ReasonCode) -> ErrorType:
    name = str(reason).lower()
    if "not authorized" in name or "bad user name" in name or "bad username" in name:
        return ErrorType.AUTH
    return ErrorType.PROTOCOL


class Subscriber:
    """Subscribes to `subscriptions` and hands every message to `deliver` in paho's thread."""

    def __init__(self, opts: BrokerOptions, subscriptions: Sequence[tuple[str, int]],
                 deliver: Callable[[Received], None],
                 deliver_many: Callable[[list[Received]], None] | None = None) -> None:
        """`deliver_many`, if given, takes the QoS 0 messages of one read buffer at once
        (the hand-over's `put_many`); otherwise each goes to `deliver`."""
        self.opts = opts
        self.subscriptions = list(subscriptions)
        self.stats = ClientStats()
        self._deliver = deliver
        self._deliver_many = deliver_many
        self._client = _new_client(opts, buffered=True)
        c = self._client
        c.on_connect = self._on_connect
        c.on_connect_fail = self._on_connect_fail
        c.on_disconnect = self._on_disconnect
        c.on_subscribe = self._on_subscribe
        c.on_message = self._on_message
        c.suppress_exceptions = True  # a bug in a callback is logged by paho, never fatal
        if isinstance(c, _BufferedClient):
            c.fast_publish = self._on_fast_publish
        self._started = False

    # --------------------------------------------------------------- paho's thread
    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        try:
            payload = msg.payload  # bytes in practice; the annotation allows bytearray
            self._deliver(Received(msg.topic, cast(bytes, payload), bool(msg.retain), msg.qos,
                                   time.time_ns()))
        except Exception:  # a topic that is not UTF-8 and the like: count, drop, never stop
            self.stats.undecodable += 1
            log.debug("message dropped in the network thread", exc_info=True)

    def _on_fast_publish(self, batch: list[Received], undecodable: int) -> None:
        """`_on_message` for the QoS 0 PUBLISH packets `_BufferedClient` decoded from one
        buffer (paho's thread); `undecodable`: those dropped, their topic not UTF-8."""
        if undecodable:
            self.stats.undecodable += undecodable
        if self._deliver_many is None:  # one message at a time, each failing alone
            for msg in batch:
                try:
                    self._deliver(msg)
                except Exception:
                    self.stats.undecodable += 1
                    log.debug("message dropped in the network thread", exc_info=True)
            return
        try:
            self._deliver_many(batch)
        except Exception:  # never into paho's thread (the hand-over does not raise)
            self.stats.undecodable += len(batch)
            log.debug("messages dropped in the network thread", exc_info=True)

    def _on_connect(self, client: paho.Client, userdata: Any, flags: paho.ConnectFlags,
                    reason: ReasonCode, properties: Properties | None) -> None:
        if reason.is_failure:
            self._error(_error_type(reason), f"broker refused the connection: {reason}")
            return
        st = self.stats
        st.connected = True
        st.connects += 1
        st.session_present = flags.session_present
        log.info("connected to %s:%d (session present: %s); subscribing to %d filter(s)",
                 self.opts.host, self.opts.port, flags.session_present, len(self.subscriptions))
        # Always subscribe again: cheap, and a broker that lost our session (restart without
        # persistence, expiry) would otherwise deliver nothing, silently.
        if self.opts.protocol == "5":
            subs: list[tuple[str, SubscribeOptions]] = [
                (t, SubscribeOptions(qos=q)) for t, q in self.subscriptions]
            rc, _ = client.subscribe(subs)
        else:
            rc, _ = client.subscribe(self.subscriptions)
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            self._error(ErrorType.PROTOCOL, f"subscribe failed: {paho.error_string(rc)}")

    def _on_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        self._error(ErrorType.UNREACHABLE,
                    f"cannot connect to {self.opts.host}:{self.opts.port}")

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: paho.DisconnectFlags,
                       reason: ReasonCode, properties: Properties | None) -> None:
        if self.stats.connected:
            self.stats.disconnects += 1
        elif self._started:
            # closed before a CONNACK: with TLS, typically the broker refusing our certificate
            # (TLS 1.2 reports it after the client's side of the handshake completed)
            self._error(ErrorType.TLS if self.opts.tls else ErrorType.PROTOCOL,
                        f"{self.opts.host}:{self.opts.port} closed the connection before "
                        f"accepting it ({reason})")
        if self.stats.connected and self._started:
            log.warning("disconnected from %s:%d (%s); reconnecting with backoff",
                        self.opts.host, self.opts.port, reason)
        self.stats.connected = False

    def _on_subscribe(self, client: paho.Client, userdata: Any, mid: int,
                      reasons: list[ReasonCode], properties: Properties | None) -> None:
        bad = [(t, r) for (t, _), r in zip(self.subscriptions, reasons, strict=False)
               if r.is_failure]
        for topic, r in bad:
            self.stats.subscribe_failures += 1
            self._error(ErrorType.PROTOCOL, f"subscription to {topic!r} refused: {r}")

    def _error(self, et: ErrorType, message: str) -> None:
        st = self.stats
        if message != st.last_error:
            log.warning("%s", message)
        st.last_error, st.last_error_type = message, et
        st.errors.append(et)

    # --------------------------------------------------------------- owner's side
    def start(self) -> None:
        self._client.connect_async(self.opts.host, self.opts.port, **_connect_args(self.opts))
        self._client.loop_start()
        self._started = True

    def thread_alive(self) -> bool:
        thread = getattr(self._client, "_thread", None)
        return isinstance(thread, threading.Thread) and thread.is_alive()

    def stop(self) -> None:
        if self._started:
            self._started = False
            _close(self._client)
        self.stats.connected = False


class Publisher:
    """One device's (or a test's) connection: last will, QoS 1 publishes, abrupt loss."""

    def __init__(self, opts: BrokerOptions,
                 will: tuple[str, bytes, int, bool] | None = None) -> None:
        self.opts = opts
        self._client = _new_client(opts)
        if will is not None:
            topic, payload, qos, retain = will
            self._client.will_set(topic, payload, qos=qos, retain=retain)
        self._connected = threading.Event()
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.suppress_exceptions = True
        self._client.max_queued_messages_set(0)
        self._client.max_inflight_messages_set(1000)
        self._started = False

    def _on_connect(self, client: paho.Client, userdata: Any, flags: paho.ConnectFlags,
                    reason: ReasonCode, properties: Properties | None) -> None:
        if not reason.is_failure:
            self._connected.set()

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: paho.DisconnectFlags,
                       reason: ReasonCode, properties: Properties | None) -> None:
        self._connected.clear()

    def start(self, timeout_s: float = 10.0) -> bool:
        """Connect; True once the broker accepted (False on timeout, paho keeps trying)."""
        self._client.connect_async(self.opts.host, self.opts.port, **_connect_args(self.opts))
        self._client.loop_start()
        self._started = True
        return self._connected.wait(timeout_s)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def publish(self, topic: str, payload: bytes | str, qos: int = 0,
                retain: bool = False) -> paho.MQTTMessageInfo:
        return self._client.publish(topic, payload, qos=qos, retain=retain)

    def wait_published(self, infos: Sequence[paho.MQTTMessageInfo], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        for info in infos:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(left)
            if not info.is_published():
                return False
        return True

    def disconnect(self) -> None:
        """Send DISCONNECT without waiting for paho's thread (`stop()` waits)."""
        if self._started:
            with contextlib.suppress(Exception):
                self._client.disconnect()

    def stop(self) -> None:
        """A clean DISCONNECT: the broker discards the last will."""
        if self._started:
            self._started = False
            _close(self._client)

    def kill(self) -> None:
        """Lose the connection without DISCONNECT (a crash, a cut cable): the will is sent.

        paho has no public call for this. Tell its thread to end and not to reconnect, then
        shut the socket down: the thread wakes at once (no 1 s select timeout), and the broker
        sees the TCP connection end without a DISCONNECT packet."""
        if not self._started:
            return
        self._started = False
        c = self._client
        c._thread_terminate = True
        c._reconnect_on_failure = False
        sock = c.socket()
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        elif sock is not None:  # a TLS socket wrapper
            with contextlib.suppress(OSError):
                sock.close()
        with contextlib.suppress(Exception):
            c.loop_stop()
        self._connected.clear()
