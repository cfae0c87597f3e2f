"""The only file importing paho-mqtt and protobuf for the `iot_gateways` listener.

- `Subscriber`: paho's own network thread (reconnects with backoff, subscribes again on every
  connect), messages handed to the event loop through a bounded queue (drops counted); it also
  publishes (Sparkplug rebirth requests).
- The Sparkplug B payload schema, built at import from the field numbers of the Eclipse
  Sparkplug 3.0 specification's `sparkplug_b.proto` (Payload, Payload.Metric; the value oneof):
  no generated code, no protoc. DataSet, Template, MetaData and PropertySet fields (8, 9, 17,
  18) are left out of the schema, so protobuf skips them as unknown fields.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho
from google.protobuf import descriptor_pb2, descriptor_pool, message, message_factory
from paho.mqtt.enums import CallbackAPIVersion

log = logging.getLogger("campusmon.iot_gateways.client")


@dataclass(frozen=True, slots=True)
class Received:
    topic: str
    payload: bytes
    retained: bool
    ts_ns: int


@dataclass(frozen=True, slots=True)
class Tls:
    ca_file: str
    cert_file: str | None = None
    key_file: str | None = None
    check_hostname: bool = True


@dataclass(slots=True)
class ClientStats:
    connected: bool = False
    connects: int = 0
    disconnects: int = 0
    dropped: int = 0  # hand-over queue full
    last_error: str = ""


class Subscriber:
    def __init__(self, host: str, port: int, client_id: str, subscriptions: Sequence[tuple[str,
                 int]], deliver: Callable[[Received], None], loop: asyncio.AbstractEventLoop,
                 username: str | None = None, password: str | None = None,
                 keepalive_s: int = 30, queue_max: int = 100_000,
                 tls: Tls | None = None) -> None:
        self.host, self.port = host, port
        self.subscriptions = list(subscriptions)
        self.stats = ClientStats()
        self._deliver = deliver
        self._loop = loop
        self._pending = 0
        self._queue_max = queue_max
        self._lock = threading.Lock()
        self._keepalive = keepalive_s
        c = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                        protocol=paho.MQTTv311, clean_session=True)
        if username is not None:
            c.username_pw_set(username, password)
        if tls is not None:
            c.tls_set(ca_certs=tls.ca_file, certfile=tls.cert_file, keyfile=tls.key_file,
                      cert_reqs=ssl.CERT_REQUIRED)
            if not tls.check_hostname:
                c.tls_insecure_set(True)
        c.reconnect_delay_set(1, 30)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        self._client = c

    # paho's thread ------------------------------------------------------------------------
    def _on_connect(self, client: paho.Client, _u: object, _f: object, rc: object,
                    _p: object = None) -> None:
        try:
            if getattr(rc, "is_failure", False):
                self.stats.last_error = str(rc)
                return
            self.stats.connected = True
            self.stats.connects += 1
            if self.subscriptions:
                client.subscribe(self.subscriptions)
        except Exception:  # an exception here would end paho's thread
            log.exception("on_connect failed")

    def _on_disconnect(self, _c: paho.Client, _u: object, _f: object, rc: object,
                       _p: object = None) -> None:
        self.stats.connected = False
        self.stats.disconnects += 1
        self.stats.last_error = str(rc)

    def _on_message(self, _c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        try:
            topic = msg.topic  # raises on a topic that is not UTF-8
        except UnicodeDecodeError:
            self.stats.dropped += 1
            return
        with self._lock:
            if self._pending >= self._queue_max:
                self.stats.dropped += 1
                return
            self._pending += 1
        rec = Received(topic, bytes(msg.payload), bool(msg.retain), time.time_ns())
        with contextlib.suppress(RuntimeError):  # the loop is closing
            self._loop.call_soon_threadsafe(self._hand, rec)

    # the event loop -----------------------------------------------------------------------
    def _hand(self, rec: Received) -> None:
        with self._lock:
            self._pending -= 1
        self._deliver(rec)

    def start(self) -> None:
        self._client.connect_async(self.host, self.port, keepalive=self._keepalive)
        self._client.loop_start()

    def publish(self, topic: str, payload: bytes, qos: int = 0) -> bool:
        info = self._client.publish(topic, payload, qos=qos)
        return info.rc == paho.MQTT_ERR_SUCCESS

    def thread_alive(self) -> bool:
        t = getattr(self._client, "_thread", None)
        return t is not None and t.is_alive()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


# ------------------------------------------------------------------------ Sparkplug B schema
_F = descriptor_pb2.FieldDescriptorProto


def _schema() -> Any:
    """The Payload message class (built at run time: typed Any, its fields are dynamic)."""
    fdp = descriptor_pb2.FileDescriptorProto(
        name="campusmon_sparkplug_b.proto", package="org.eclipse.tahu.protobuf",
        syntax="proto2")
    payload = fdp.message_type.add(name="Payload")
    opt = _F.LABEL_OPTIONAL
    for name, num, typ in (("timestamp", 1, _F.TYPE_UINT64), ("seq", 3, _F.TYPE_UINT64),
                           ("uuid", 4, _F.TYPE_STRING), ("body", 5, _F.TYPE_BYTES)):
        payload.field.add(name=name, number=num, type=typ, label=opt)
    payload.field.add(name="metrics", number=2, type=_F.TYPE_MESSAGE, label=_F.LABEL_REPEATED,
                      type_name=".org.eclipse.tahu.protobuf.Payload.Metric")
    metric = payload.nested_type.add(name="Metric")
    metric.oneof_decl.add(name="value")
    for name, num, typ in (("name", 1, _F.TYPE_STRING), ("alias", 2, _F.TYPE_UINT64),
                           ("timestamp", 3, _F.TYPE_UINT64), ("datatype", 4, _F.TYPE_UINT32),
                           ("is_historical", 5, _F.TYPE_BOOL),
                           ("is_transient", 6, _F.TYPE_BOOL), ("is_null", 7, _F.TYPE_BOOL)):
        metric.field.add(name=name, number=num, type=typ, label=opt)
    for name, num, typ in (("int_value", 10, _F.TYPE_UINT32), ("long_value", 11, _F.TYPE_UINT64),
                           ("float_value", 12, _F.TYPE_FLOAT),
                           ("double_value", 13, _F.TYPE_DOUBLE),
                           ("boolean_value", 14, _F.TYPE_BOOL),
                           ("string_value", 15, _F.TYPE_STRING),
                           ("bytes_value", 16, _F.TYPE_BYTES)):
        metric.field.add(name=name, number=num, type=typ, label=opt, oneof_index=0)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName("org.eclipse.tahu.protobuf.Payload"))


_PAYLOAD: Any = _schema()


class BadFrame(ValueError):
    """Bytes that are not a Sparkplug B payload."""


@dataclass(slots=True)
class SpMetric:
    name: str | None = None
    alias: int | None = None
    datatype: int | None = None
    value: int | float | bool | str | bytes | None = None
    is_null: bool = False
    is_historical: bool = False
    timestamp: int | None = None


@dataclass(slots=True)
class SpPayload:
    timestamp: int | None = None
    seq: int | None = None
    metrics: list[SpMetric] = field(default_factory=list)


def decode_sparkplug(data: bytes) -> SpPayload:
    try:
        p = _PAYLOAD.FromString(data)
    except message.DecodeError as exc:
        raise BadFrame(f"not a Sparkplug B payload: {exc}") from None
    except Exception as exc:  # the C decoder may raise others on hostile input
        raise BadFrame(f"not a Sparkplug B payload: {type(exc).__name__}") from None
    out = SpPayload(timestamp=p.timestamp if p.HasField("timestamp") else None,
                    seq=p.seq if p.HasField("seq") else None)
    for m in p.metrics:
        kind = m.WhichOneof("value")
        out.metrics.append(SpMetric(
            name=m.name if m.HasField("name") else None,
            alias=m.alias if m.HasField("alias") else None,
            datatype=m.datatype if m.HasField("datatype") else None,
            value=getattr(m, kind) if kind else None,
            is_null=m.is_null, is_historical=m.is_historical,
            timestamp=m.timestamp if m.HasField("timestamp") else None))
    return out


_VALUE_FIELD = {1: "int_value", 2: "int_value", 3: "int_value", 5: "int_value",
                6: "int_value", 7: "int_value", 4: "long_value", 8: "long_value",
                13: "long_value", 9: "float_value", 10: "double_value", 11: "boolean_value",
                12: "string_value", 14: "string_value", 15: "string_value",
                17: "bytes_value"}


def encode_sparkplug(p: SpPayload) -> bytes:
    """Encode a payload (rebirth requests; simulated edge nodes in tests)."""
    out = _PAYLOAD()
    if p.timestamp is not None:
        out.timestamp = p.timestamp
    if p.seq is not None:
        out.seq = p.seq
    for m in p.metrics:
        pm = out.metrics.add()
        if m.name is not None:
            pm.name = m.name
        if m.alias is not None:
            pm.alias = m.alias
        if m.timestamp is not None:
            pm.timestamp = m.timestamp
        if m.datatype is not None:
            pm.datatype = m.datatype
        if m.is_null:
            pm.is_null = True
        elif m.value is not None and m.datatype is not None:
            setattr(pm, _VALUE_FIELD[m.datatype], m.value)
    return bytes(out.SerializeToString())
