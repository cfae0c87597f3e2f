"""The `iot_gateways` listener: IoT devices behind gateways that publish to MQTT in their own
schemas — ChirpStack v4 (LoRaWAN), zigbee2mqtt (Zigbee), Sparkplug B (PLCs, edge nodes) —
beside the `mqtt` listener's own JSON classes.

A device is an inventory device with one of the labels `lorawan_dev_eui` (16 hex digits),
`zigbee_name` (its zigbee2mqtt friendly name) or `sparkplug_id` (`group/edge node` or
`group/edge node/device`). Messages about other devices are counted as unregistered. Liveness
is the MQTT listener's: down at once when the gateway says so (zigbee2mqtt offline, Sparkplug
death), or after `stale_factor` × the expected interval of silence; up at the next message.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from agent.core.catalogue import FieldKind, Measurement, counter, gauge, state, tag
from agent.core.errors import CollectError, ConfigError
from agent.core.model import ErrorType, FieldValue, Item, Metric
from agent.core.plugin import (
    BuildContext,
    Capability,
    DefaultTargets,
    ListenerContext,
    PluginKind,
    PluginSpec,
    Target,
)
from agent.shared.iotclasses import class_name, heartbeat_override
from agent.shared.iotliveness import IOT_DEVICE, HeardLiveness
from collectors.iot_gateways import chirpstack, zigbee
from collectors.iot_gateways.common import NAMESPACE, BadPayload, BadReason, Heard, Life
from config.base import StrictModel
from config.credentials import UserPasswordCredential

if TYPE_CHECKING:  # client.py (paho, which loads dnspython; protobuf) and the Sparkplug codec
    # on it load where the listener is built and run, not with the SPEC (every start)
    from collectors.iot_gateways.client import Received, Subscriber, Tls

LORAWAN_LABEL = "lorawan_dev_eui"
ZIGBEE_LABEL = "zigbee_name"
SPARKPLUG_LABEL = "sparkplug_id"
PROTOCOL = {"chirpstack": "lorawan", "zigbee2mqtt": "zigbee", "sparkplug": "sparkplug"}


class ChirpstackConfig(StrictModel):
    enabled: bool = True
    topic_prefix: str = "application"  # ChirpStack's default event topic root
    uplink_interval_secs: float = Field(default=900.0, gt=0)  # how often a sensor reports


class ZigbeeConfig(StrictModel):
    enabled: bool = True
    base_topic: str = "zigbee2mqtt"
    # zigbee2mqtt itself pings mains-powered devices and publishes availability; silence is
    # judged against this interval for devices that only report
    report_interval_secs: float = Field(default=3600.0, gt=0)


class SparkplugConfig(StrictModel):
    enabled: bool = True
    groups: list[str] = Field(default_factory=lambda: ["+"])
    data_interval_secs: float = Field(default=60.0, gt=0)
    rebirth: bool = True  # ask an edge node to rebirth when its sequence has a gap
    rebirth_min_interval_secs: float = Field(default=10.0, gt=0)


class TlsConfig(StrictModel):
    ca_file: str
    cert_file: str | None = None  # a client certificate, when the broker wants one
    key_file: str | None = None
    check_hostname: bool = True

    @model_validator(mode="after")
    def _pair(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        return self


class GatewaysConfig(StrictModel):
    host: str = "127.0.0.1"
    port: int | None = Field(default=None, ge=1, le=65535)  # None: 1883, or 8883 with TLS
    tls: TlsConfig | None = None
    client_id: str | None = None
    credential: str | None = None  # a `user_password` credential set
    keepalive_secs: int = Field(default=30, ge=5, le=3600)
    chirpstack: ChirpstackConfig = ChirpstackConfig()
    zigbee2mqtt: ZigbeeConfig = ZigbeeConfig()
    sparkplug: SparkplugConfig = SparkplugConfig()
    stale_factor: float = Field(default=1.5, gt=1.0, le=10.0)
    tick_secs: float = Field(default=1.0, gt=0)
    report_interval_secs: float = Field(default=30.0, gt=0)
    max_payload_bytes: int = Field(default=65_536, ge=64)
    max_unregistered_tracked: int = Field(default=1000, ge=1)


@dataclass(slots=True)
class Books:
    messages: int = 0
    unmatched: int = 0
    unregistered: int = 0
    retained_skipped: int = 0
    bad: dict[tuple[str, BadReason], int] = field(default_factory=dict)
    rebirths_sent: int = 0


Out = list[tuple[Target | None, list[Item]]]


class Ingest:
    """Messages → items per inventory device; no I/O, the clock passed in."""

    def __init__(self, cfg: GatewaysConfig, targets: Sequence[Target], now_mono: float,
                 logger: logging.Logger) -> None:
        self.cfg = cfg
        self.log = logger
        self.by_key: dict[tuple[str, str], Target] = {}  # (schema, key) → target
        self.live: dict[str, HeardLiveness] = {
            s: HeardLiveness(p, cfg.stale_factor) for s, p in PROTOCOL.items()}
        self.schema_of: dict[str, str] = {}  # device id → schema
        intervals = {"chirpstack": cfg.chirpstack.uplink_interval_secs,
                     "zigbee2mqtt": cfg.zigbee2mqtt.report_interval_secs,
                     "sparkplug": cfg.sparkplug.data_interval_secs}
        for t in targets:
            d = t.device
            if d is None:
                continue
            for schema, label in (("chirpstack", LORAWAN_LABEL), ("zigbee2mqtt", ZIGBEE_LABEL),
                                  ("sparkplug", SPARKPLUG_LABEL)):
                raw = d.labels.get(label)
                if raw is None:
                    continue
                key = raw.lower() if schema == "chirpstack" else raw
                self.by_key[(schema, key)] = t
                self.schema_of[d.id] = schema
                # a device's own `heartbeat_secs` label wins over its schema's default
                interval = heartbeat_override(d) or intervals[schema]
                self.live[schema].track(d.id, class_name(d), interval, now_mono)
        from collectors.iot_gateways.sparkplug import Sparkplug

        self.sparkplug = Sparkplug(cfg.sparkplug.rebirth_min_interval_secs)
        self.books = Books()
        self.unregistered: dict[str, int] = {}
        self.bad_topics: set[str] = set()
        self.rebirths: list[str] = []  # topics to publish a rebirth request to

    def subscriptions(self) -> list[tuple[str, int]]:
        c = self.cfg
        subs: list[tuple[str, int]] = []
        if c.chirpstack.enabled:
            subs.append((f"{c.chirpstack.topic_prefix}/+/device/+/event/+", 0))
        if c.zigbee2mqtt.enabled:
            subs.append((f"{c.zigbee2mqtt.base_topic}/#", 0))
        if c.sparkplug.enabled:
            # NDEATH and the births at QoS 1: missing one misses an outage or the aliases
            subs.extend((f"{NAMESPACE}/{g}/#", 1) for g in c.sparkplug.groups)
        return subs

    def process(self, msg: Received, now_mono: float) -> Out:
        b = self.books
        b.messages += 1
        levels = msg.topic.split("/")
        schema = self._schema(levels)
        if schema is None:
            b.unmatched += 1
            return []
        if len(msg.payload) > self.cfg.max_payload_bytes:
            self._bad(schema, msg.topic, BadPayload(BadReason.OVERSIZED,
                                                    f"{len(msg.payload)} bytes"))
            return []
        try:
            heard = self._decode(schema, levels, msg, now_mono)
        except BadPayload as exc:
            self._bad(schema, msg.topic, exc)
            return []
        if msg.topic in self.bad_topics:
            self.bad_topics.discard(msg.topic)
            self.log.info("payloads on %s are valid again", msg.topic)
        out: Out = []
        for h in heard:
            target = self.by_key.get((schema, h.key))
            if target is None or target.device is None:
                if not h.implied:  # a node not in the inventory, heard via its device
                    self._unregistered(schema, h.key)
                continue
            out.append((target, self._apply(schema, target.device.id, h, msg, now_mono)))
        return out

    def _schema(self, levels: list[str]) -> str | None:
        c = self.cfg
        if c.sparkplug.enabled and levels[0] == NAMESPACE:
            return "sparkplug"
        if (c.chirpstack.enabled and len(levels) == 6 and levels[0] == c.chirpstack.topic_prefix
                and levels[2] == "device" and levels[4] == "event"):
            return "chirpstack"
        if c.zigbee2mqtt.enabled and levels[0] == c.zigbee2mqtt.base_topic:
            return "zigbee2mqtt"
        return None

    def _decode(self, schema: str, levels: list[str], msg: Received,
                now_mono: float) -> list[Heard]:
        if schema == "chirpstack":
            if msg.retained:
                self.books.retained_skipped += 1  # an old event, not news
                return []
            h = chirpstack.decode(levels[5], levels[3], msg.payload, msg.ts_ns)
            return [h] if h is not None else []
        if schema == "zigbee2mqtt":
            h = zigbee.decode(levels[1:], msg.payload, msg.ts_ns)
            if h is None:
                return []
            if msg.retained and h.life is Life.DATA:
                self.books.retained_skipped += 1  # a retained state is history
                return []
            return [h]
        o = self.sparkplug.handle(levels, msg.payload, msg.ts_ns, now_mono)
        if o.rebirth_topic is not None and self.cfg.sparkplug.rebirth:
            self.rebirths.append(o.rebirth_topic)
        if o.problem is not None:
            self._bad(schema, msg.topic, o.problem)
        return o.heard

    def _apply(self, schema: str, device: str, h: Heard, msg: Received,
               now_mono: float) -> list[Item]:
        live = self.live[schema]
        items: list[Item] = []
        if h.life is Life.OFFLINE:
            ev = live.offline(device, "offline_status", msg.ts_ns, h.detail)
        else:
            ev = live.seen(device, now_mono, msg.ts_ns)
        if ev is not None:
            items.append(ev)
        items.extend(h.metrics)
        return items

    def _bad(self, schema: str, topic: str, exc: BadPayload) -> None:
        k = (schema, exc.reason)
        self.books.bad[k] = self.books.bad.get(k, 0) + 1
        if topic not in self.bad_topics and len(self.bad_topics) < 1000:
            self.bad_topics.add(topic)
            self.log.warning("bad %s payload on %s (%s: %s); counted, logged again when the "
                             "topic recovers", schema, topic, exc.reason.value, exc.detail[:200])

    def _unregistered(self, schema: str, key: str) -> None:
        self.books.unregistered += 1
        k = f"{schema}:{key}"
        if k in self.unregistered or len(self.unregistered) < self.cfg.max_unregistered_tracked:
            if k not in self.unregistered:
                self.log.warning("%s device %r is not in the inventory", schema, key)
            self.unregistered[k] = self.unregistered.get(k, 0) + 1

    def tick(self, now_mono: float, wall_ns: int) -> Out:
        out: Out = []
        for schema, live in self.live.items():
            for ev in live.tick(now_mono, wall_ns):
                t = self._target(schema, ev.device or "")
                out.append((t, [ev]))
        return out

    def _target(self, schema: str, device_id: str) -> Target | None:
        return next((t for (s, _), t in self.by_key.items()
                     if s == schema and t.id == device_id), None)

    def report(self, now_mono: float, wall_ns: int, connected: bool, dropped: int) -> Out:
        out: Out = []
        for (schema, _), t in self.by_key.items():
            if t.device is not None:
                out.append((t, [self.live[schema].metric(t.device.id, now_mono, wall_ns)]))
        b = self.books
        fields: dict[str, FieldValue] = {
            "connected": int(connected), "received_total": b.messages,
            "dropped_total": dropped, "unmatched_topics_total": b.unmatched,
            "unregistered_messages_total": b.unregistered,
            "retained_skipped_total": b.retained_skipped,
            "bad_payloads_total": sum(b.bad.values()),
            "rebirths_requested_total": b.rebirths_sent}
        rows: list[Item] = [Metric("iot_gateways_client", {}, fields, wall_ns)]
        for (schema, reason), n in b.bad.items():
            rows.append(Metric("iot_gateways_bad_payload",
                               {"schema": schema, "reason": reason.value},
                               {"count_total": n}, wall_ns))
        for key, st in self.sparkplug.nodes.items():
            group, _, node = key.partition("/")
            rows.append(Metric("sparkplug_node", {"group": group, "edge_node": node}, {
                "online": int(st.born), "births_total": st.births, "deaths_total": st.deaths,
                "stale_deaths_total": st.stale_deaths, "seq_gaps_total": st.seq_gaps,
                "rebirths_requested_total": st.rebirths}, wall_ns))
        out.append((None, rows))
        return out


class GatewaysListener:
    def __init__(self, cfg: GatewaysConfig, client_id: str, username: str | None,
                 password: str | None, logger: logging.Logger, tls: Tls | None = None) -> None:
        self.cfg = cfg
        self.tls = tls
        self.port = cfg.port or (8883 if tls is not None else 1883)
        self.client_id = client_id
        self.username, self.password = username, password
        self.log = logger
        self.ingest: Ingest | None = None
        self.sub: Subscriber | None = None

    async def run(self, ctx: ListenerContext) -> None:
        from collectors.iot_gateways.client import Subscriber, encode_sparkplug
        from collectors.iot_gateways.sparkplug import rebirth_request

        loop = asyncio.get_running_loop()
        ingest = Ingest(self.cfg, ctx.targets, time.monotonic(), self.log)
        self.ingest = ingest

        def emit(out: Out) -> None:
            for target, items in out:
                if items:
                    ctx.emit(items, target)

        def deliver(msg: Received) -> None:
            try:
                emit(ingest.process(msg, time.monotonic()))
                while ingest.rebirths and sub is not None:
                    topic = ingest.rebirths.pop()
                    now_ms = time.time_ns() // 1_000_000
                    if sub.publish(topic, encode_sparkplug(rebirth_request(now_ms)), 0):
                        ingest.books.rebirths_sent += 1
                        self.log.info("asked for a Sparkplug rebirth on %s", topic)
            except Exception:  # a bug costs one message, not the listener
                ctx.count_error(ErrorType.INTERNAL)
                self.log.exception("failed to process a message on %s", msg.topic)

        sub: Subscriber | None = None
        sub = Subscriber(self.cfg.host, self.port, self.client_id, ingest.subscriptions(),
                         deliver, loop, self.username, self.password, self.cfg.keepalive_secs,
                         tls=self.tls)
        self.sub = sub
        sub.start()
        self.log.info("MQTT %s:%d%s: %d gateway devices, filters %s", self.cfg.host,
                      self.port, " (TLS)" if self.tls else "", len(ingest.schema_of),
                      ", ".join(t for t, _ in ingest.subscriptions()))
        next_report = time.monotonic()
        try:
            while True:
                await asyncio.sleep(self.cfg.tick_secs)
                now, wall = time.monotonic(), time.time_ns()
                emit(ingest.tick(now, wall))
                if not sub.thread_alive():
                    raise CollectError(ErrorType.INTERNAL, "the MQTT network thread ended")
                if now >= next_report:
                    next_report = now + self.cfg.report_interval_secs
                    emit(ingest.report(now, wall, sub.stats.connected, sub.stats.dropped))
        finally:
            await asyncio.to_thread(sub.stop)

    async def close(self) -> None:
        sub, self.sub = self.sub, None
        if sub is not None:
            await asyncio.to_thread(sub.stop)


def build(cfg: GatewaysConfig, ctx: BuildContext) -> GatewaysListener:
    username = password = None
    if cfg.credential is not None:
        cred = ctx.credentials.get(cfg.credential)
        if not isinstance(cred, UserPasswordCredential):
            raise ConfigError.one(ctx.instance, f"credential {cfg.credential!r} is not a "
                                                f"user_password set")
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

        from collectors.iot_gateways.client import Tls

        ca = path(cfg.tls.ca_file)
        assert ca is not None
        tls = Tls(ca, path(cfg.tls.cert_file), path(cfg.tls.key_file), cfg.tls.check_hostname)
    client_id = cfg.client_id or \
        f"campusmon-{socket.gethostname()}-{ctx.instance.replace('/', '-')}"
    return GatewaysListener(cfg, client_id, username, password, ctx.logger, tls)


_OPEN = "readings named by the device (numbers; booleans as 0/1; nested keys joined by _)"
MEASUREMENTS: tuple[Measurement, ...] = (
    Measurement(
        "lorawan_uplink", "a LoRaWAN uplink as ChirpStack v4 reports it",
        tags=(tag("gateway", "gateway EUI that heard it best"),),
        fields=(gauge("rssi_dbm", "dBm", "RSSI at the best gateway"),
                gauge("snr_db", "dB", "LoRa SNR at the best gateway"),
                gauge("gateways", "", "gateways that heard the uplink"),
                counter("frame_count_total", "", "the device's uplink frame counter (fCnt)"),
                gauge("data_rate", "", "LoRaWAN data rate index"),
                gauge("frequency_hz", "Hz", "uplink frequency"),
                gauge("spreading_factor", "", "LoRa spreading factor"))),
    Measurement("lorawan_reading", "the ChirpStack codec's decoded object, " + _OPEN,
                open_fields=FieldKind.GAUGE),
    Measurement(
        "lorawan_status", "a LoRaWAN device-status answer (ChirpStack `status` event)",
        fields=(gauge("battery_percent", "percent", "battery level, when the device knows"),
                gauge("margin_db", "dB", "link margin of the device-status request"),
                state("external_power", "1 on external power"))),
    Measurement("zigbee_reading", "a zigbee2mqtt device state message, " + _OPEN,
                open_fields=FieldKind.GAUGE),
    Measurement("sparkplug_reading", "a Sparkplug B node's or device's metrics (names "
                "snake_cased; aliases resolved from the births), " + _OPEN,
                open_fields=FieldKind.GAUGE),
    Measurement(
        "sparkplug_node", "one Sparkplug B edge node's session books",
        tags=(tag("group", "Sparkplug group id"), tag("edge_node", "edge node id")),
        fields=(state("online", "1 born and not dead"),
                counter("births_total", "", "NBIRTHs"),
                counter("deaths_total", "", "NDEATHs of the current session"),
                counter("stale_deaths_total", "", "NDEATHs of an older session (bdSeq)"),
                counter("seq_gaps_total", "", "messages whose seq was not the next one"),
                counter("rebirths_requested_total", "", "rebirth requests sent"))),
    Measurement(
        "iot_gateways_client", "the iot_gateways listener's MQTT client and message books",
        fields=(state("connected", "1 connected to the broker"),
                counter("received_total", "", "messages received"),
                counter("dropped_total", "", "messages dropped (hand-over full)"),
                counter("unmatched_topics_total", "", "messages on no known schema's topic"),
                counter("unregistered_messages_total", "", "messages about unknown devices"),
                counter("retained_skipped_total", "", "retained history not taken as news"),
                counter("bad_payloads_total", "", "payloads set aside as bad"),
                counter("rebirths_requested_total", "", "Sparkplug rebirth requests sent"))),
    Measurement(
        "iot_gateways_bad_payload", "bad payloads by schema and reason",
        tags=(tag("schema", "chirpstack / zigbee2mqtt / sparkplug"),
              tag("reason", "json / schema / protobuf / oversized / sequence")),
        fields=(counter("count_total", "", "bad payloads"),)),
    IOT_DEVICE,
)

SPEC = PluginSpec(
    name="iot_gateways", kind=PluginKind.LISTENER, config_model=GatewaysConfig, build=build,
    description="LoRaWAN (ChirpStack v4), Zigbee (zigbee2mqtt) and Sparkplug B devices over "
                "MQTT: readings, RSSI/SNR, availability, births/deaths, rebirth requests",
    example={"type": "iot_gateways", "host": "127.0.0.1", "port": 1883},
    default_targets=DefaultTargets.INVENTORY,
    capabilities=Capability.CREDENTIAL,
    measurements=MEASUREMENTS,
)
