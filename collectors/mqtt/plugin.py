"""The `mqtt` listener: campus IoT devices over MQTT 3.1.1/5 (paho-mqtt 2).

paho's network thread → `HandOver` (bounded, drops counted) → `Ingest` on the event loop →
`ctx.emit(items, target)` with the inventory device as target, so the framework adds the
campus/building/room/device tags. The listener's own task ticks liveness (stale devices go
down), reports per-device state and watches the client: if paho's thread ever ends, `run`
raises and the framework's ListenerRunner restarts the listener — never a silent stop.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agent.core.errors import CollectError, ConfigError
from agent.core.model import ErrorType, FieldValue, Metric
from agent.core.plugin import (
    BuildContext,
    Capability,
    DefaultTargets,
    ListenerContext,
    PluginKind,
    PluginSpec,
)
from collectors.mqtt.config import MqttConfig
from collectors.mqtt.handover import HandOver, Received
from collectors.mqtt.ingest import Ingest, Out
from collectors.mqtt.measurements import MEASUREMENTS
from collectors.mqtt.sim.cli import register as register_cli
from collectors.mqtt.topics import TopicTemplate
from config.credentials import UserPasswordCredential
from inventory.models import DeviceKind

if TYPE_CHECKING:  # client.py (paho, which loads dnspython) with the listener, not the SPEC
    from collectors.mqtt.client import BrokerOptions, Subscriber

_NAG_EVERY_S = 60.0


@dataclass(slots=True)
class _Watch:
    """What the supervision remembers between ticks."""

    disconnected_since: float | None = None
    last_nag: float = 0.0
    dropped: int = 0
    dropping: bool = False


def subscriptions_for(cfg: MqttConfig) -> list[tuple[str, int]]:
    if cfg.subscriptions:
        return [(s.topic, s.qos) for s in cfg.subscriptions]
    subs: dict[str, int] = {}
    for raw in cfg.topic_templates:
        t = TopicTemplate(raw, cfg.streams.telemetry)
        if not t.has_stream:
            subs[t.subscription()] = cfg.telemetry_qos
            continue
        # Status (heartbeats, last wills) and events at QoS 1: losing a will loses an outage.
        subs[t.subscription(cfg.streams.status)] = 1
        subs[t.subscription(cfg.streams.event)] = 1
        subs[t.subscription(cfg.streams.telemetry)] = cfg.telemetry_qos
    return list(subs.items())


class MqttListener:
    def __init__(self, cfg: MqttConfig, opts: BrokerOptions, logger: logging.Logger,
                 campus: str | None = None) -> None:
        self.cfg = cfg
        self.campus = campus
        self.opts = opts
        self.log = logger
        self.subscriptions = subscriptions_for(cfg)
        self.ingest: Ingest | None = None
        self.handover: HandOver | None = None
        self.subscriber: Subscriber | None = None

    async def run(self, ctx: ListenerContext) -> None:
        from collectors.mqtt.client import Subscriber

        loop = asyncio.get_running_loop()
        ingest = Ingest(self.cfg, ctx.targets, time.monotonic(), self.campus)
        self.ingest = ingest

        def emit(out: Out) -> None:
            for target, items in out.values():
                if items:
                    ctx.emit(items, target)

        def consume(batch: list[Received]) -> None:
            try:
                emit(ingest.process(batch, time.monotonic()))
            except Exception:  # a bug must cost one batch, not the listener
                ctx.count_error(ErrorType.INTERNAL)
                self.log.exception("failed to process %d MQTT messages", len(batch))

        handover = HandOver(loop, self.cfg.queue_max_messages, consume)
        self.handover = handover
        sub = Subscriber(self.opts, self.subscriptions, handover.put, handover.put_many)
        self.subscriber = sub
        self.log.info("MQTT %s:%d (MQTT %s%s): %d IoT devices, filters %s",
                      self.opts.host, self.opts.port, self.opts.protocol,
                      ", TLS" if self.opts.tls else "", len(ingest.devices),
                      ", ".join(f"{t} (QoS {q})" for t, q in self.subscriptions))
        sub.start()
        tick_s = self.cfg.liveness_tick_secs or min(max(ingest.shortest_interval() / 4, 0.2),
                                                    5.0)
        tick_s = min(tick_s, self.cfg.report_interval_secs)
        next_report = time.monotonic()
        watch = _Watch()
        try:
            while True:
                await asyncio.sleep(tick_s)
                now, wall = time.monotonic(), time.time_ns()
                emit(ingest.tick(now, wall))
                self._supervise(sub, handover, ctx, watch, now)
                if now >= next_report:
                    next_report = now + self.cfg.report_interval_secs
                    emit(ingest.report(now, wall))
                    ctx.emit([self._client_metric(wall)], None)
        finally:
            handover.closed = True
            await asyncio.to_thread(sub.stop)
            handover.drain_now()

    def _supervise(self, sub: Subscriber, handover: HandOver, ctx: ListenerContext,
                   w: _Watch, now: float) -> None:
        """Never a silent stop: count client errors, raise if paho's thread is gone, say so
        every minute while disconnected, and log when the hand-over starts and stops dropping."""
        st = sub.stats
        while st.errors:
            ctx.count_error(st.errors.pop(0).value)
        if not sub.thread_alive():
            raise CollectError(ErrorType.INTERNAL, "the MQTT network thread ended")
        if st.connected:
            w.disconnected_since = None
        elif w.disconnected_since is None:
            w.disconnected_since = now
        elif now - w.disconnected_since >= _NAG_EVERY_S and now - w.last_nag >= _NAG_EVERY_S:
            w.last_nag = now
            self.log.error("not connected to %s:%d for %.0fs (last error: %s); still retrying",
                           self.opts.host, self.opts.port, now - w.disconnected_since,
                           st.last_error or "none")
        dropping = handover.dropped > w.dropped
        if dropping != w.dropping:
            if dropping:
                self.log.warning("hand-over queue full (%d messages): dropping, counted in "
                                 "mqtt_client dropped_total", self.cfg.queue_max_messages)
            else:
                self.log.info("hand-over queue no longer dropping (%d dropped in all)",
                              handover.dropped)
            w.dropping = dropping
        w.dropped = handover.dropped

    def _client_metric(self, wall_ns: int) -> Metric:
        assert self.subscriber is not None and self.handover is not None
        assert self.ingest is not None
        st, h, t = self.subscriber.stats, self.handover, self.ingest.totals
        fields: dict[str, FieldValue] = {
            "connected": 1 if st.connected else 0,
            "connects_total": st.connects,
            "disconnects_total": st.disconnects,
            "subscribe_failures_total": st.subscribe_failures,
            "undecodable_total": st.undecodable,
            "received_total": h.accepted,
            "dropped_total": h.dropped,
            "queue_depth": h.depth(),
            "processed_total": t.messages,
            "unmatched_topics_total": t.unmatched_topics,
            "other_campus_total": t.other_campus,
            "unregistered_messages_total": t.unregistered_messages,
            "unregistered_devices": len(self.ingest.unregistered),
            "retained_skipped_total": t.retained_skipped,
            "bad_payloads_total": t.bad_payloads,
        }
        return Metric("mqtt_client", {"broker": f"{self.opts.host}:{self.opts.port}"},
                      fields, wall_ns)

    async def close(self) -> None:
        sub, self.subscriber = self.subscriber, None
        if sub is not None:
            await asyncio.to_thread(sub.stop)


def broker_options(cfg: MqttConfig, ctx: BuildContext) -> BrokerOptions:
    from collectors.mqtt.client import BrokerOptions, TlsFiles

    username = password = None
    if cfg.credential is not None:
        cred = ctx.credentials.get(cfg.credential)
        if cred is None:
            raise ConfigError.one(ctx.instance, f"unknown credential set {cfg.credential!r}")
        if not isinstance(cred, UserPasswordCredential):
            raise ConfigError.one(ctx.instance, f"credential {cfg.credential!r} is "
                                  f"{cred.type}; MQTT needs user_password")
        username, password = cred.username, cred.password.get_secret_value()
    tls = None
    if cfg.tls is not None:
        def path(p: str | None) -> str | None:
            if p is None:
                return None
            full = Path(p) if Path(p).is_absolute() else ctx.config_dir / p
            if not full.is_file():
                raise ConfigError.one(ctx.instance, f"TLS file {full} does not exist")
            return str(full)

        ca = path(cfg.tls.ca_file)
        assert ca is not None
        tls = TlsFiles(ca, path(cfg.tls.cert_file), path(cfg.tls.key_file),
                       cfg.tls.check_hostname)
    client_id = cfg.client_id or \
        f"campusmon-{socket.gethostname()}-{ctx.instance.replace('/', '-')}"
    return BrokerOptions(
        host=cfg.host, port=cfg.effective_port, client_id=client_id, protocol=cfg.protocol,
        persistent_session=cfg.persistent_session,
        session_expiry_secs=cfg.session_expiry_secs, keepalive_secs=cfg.keepalive_secs,
        username=username, password=password, tls=tls,
        reconnect_min_secs=cfg.reconnect_min_secs, reconnect_max_secs=cfg.reconnect_max_secs)


def build(cfg: MqttConfig, ctx: BuildContext) -> MqttListener:
    for raw in cfg.topic_templates:
        TopicTemplate(raw)  # raises ConfigError naming the template
    return MqttListener(cfg, broker_options(cfg, ctx), ctx.logger, ctx.inventory.campus.code)


IOT_KINDS = tuple(k for k in DeviceKind if k.is_iot)

SPEC = PluginSpec(
    name="mqtt", kind=PluginKind.LISTENER, config_model=MqttConfig, build=build,
    description="campus IoT over MQTT 3.1.1/5: liveness, telemetry, 5G and Wi-Fi readings",
    example={"type": "mqtt", "host": "127.0.0.1", "port": 1883,
             "targets": {"kinds": [k.value for k in IOT_KINDS]}},
    default_targets=DefaultTargets.INVENTORY,
    measurements=MEASUREMENTS,
    cli=register_cli,
    capabilities=Capability.CREDENTIAL,
)
