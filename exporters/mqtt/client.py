"""The only module of the mqtt exporter that imports paho-mqtt: a QoS 1 publisher that says,
message by message, which ones the broker acknowledged (PUBACK).

paho runs its own network thread (`loop_start`) and reconnects by itself. We publish only
while connected: paho would otherwise keep QoS 1 messages in memory and send them after a
reconnect, behind the back of our disk queue (which would send them again).
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from agent.core.errors import RetryableExportError


@dataclass(frozen=True, slots=True)
class PublisherOptions:
    host: str
    port: int
    client_id: str
    keepalive_secs: int = 30
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a repr or a log
    ca_file: str | None = None  # TLS when set
    cert_file: str | None = None  # client certificate, for brokers that require one
    key_file: str | None = None
    verify_tls: bool = True
    qos: int = 1
    retain: bool = False


class Publisher:
    def __init__(self, opts: PublisherOptions) -> None:
        self.opts = opts
        self._connected = threading.Event()
        c = paho.Client(CallbackAPIVersion.VERSION2, client_id=opts.client_id,
                        protocol=paho.MQTTv311, clean_session=True)
        if opts.username is not None:
            c.username_pw_set(opts.username, opts.password)
        if opts.ca_file is not None:
            c.tls_set(ca_certs=opts.ca_file, certfile=opts.cert_file, keyfile=opts.key_file,
                      cert_reqs=ssl.CERT_REQUIRED)
            c.tls_insecure_set(not opts.verify_tls)
        c.reconnect_delay_set(min_delay=1, max_delay=30)
        c.max_inflight_messages_set(1000)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        self._client = c
        self._started = False

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any,
                    properties: Any = None) -> None:
        if not getattr(reason, "is_failure", False):
            self._connected.set()

    def _on_disconnect(self, *args: Any) -> None:
        self._connected.clear()

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        # connect_async: a broker that is down at start-up is retried by paho's thread
        self._client.connect_async(self.opts.host, self.opts.port, self.opts.keepalive_secs)
        self._client.loop_start()

    def publish_many(self, messages: Sequence[tuple[str, bytes]], timeout_s: float) -> list[bool]:
        """Blocking. Publish in order; returns, per message, whether the broker acknowledged it.

        Raises RetryableExportError when not connected (nothing was published).
        """
        self.start()
        if not self._connected.wait(min(timeout_s, 5.0)):
            raise RetryableExportError(
                f"mqtt: not connected to {self.opts.host}:{self.opts.port}")
        infos = []
        for topic, payload in messages:
            info = self._client.publish(topic, payload, qos=self.opts.qos,
                                        retain=self.opts.retain)
            if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                break  # connection lost mid-batch: the rest is unsent
            infos.append(info)
        deadline = time.monotonic() + timeout_s
        acked = []
        for info in infos:
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            acked.append(info.is_published())
        return acked + [False] * (len(messages) - len(acked))

    def close(self) -> None:
        if self._started:
            with contextlib.suppress(Exception):
                self._client.disconnect()
            self._client.loop_stop()
            self._started = False
