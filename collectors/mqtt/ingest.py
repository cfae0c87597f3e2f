"""Messages → items: topic to inventory device, payload validation, liveness, bad-payload books.

No I/O and no clock of its own (times are passed in), so it runs the same in the listener, in
tests and in the benchmark. One broken device or topic never affects another: every failure is
a `BadPayload` counted against that device and topic, and logged once when the topic turns bad
and once when it recovers — never once per message.

Timestamps: a live message is stamped when paho received it (device clocks on campus are often
wrong). A retained message is history, not news: it counts only when the device stamped it
(`ts`), and then at that time; a retained `offline` (a last will) marks the device down at once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from agent.core.model import Event, EventState, FieldValue, Item, Metric, Severity
from agent.core.plugin import Target
from agent.shared.iotclasses import other_protocol
from collectors.mqtt.classes import CLASSES, IotClass, class_of, heartbeat_override
from collectors.mqtt.config import MqttConfig
from collectors.mqtt.handover import Received
from collectors.mqtt.liveness import Liveness
from collectors.mqtt.models import Payload
from collectors.mqtt.payloads import (
    BadPayload,
    BadReason,
    decode_event,
    decode_model_fields,
    decode_status,
    telemetry_metrics,
)
from collectors.mqtt.topics import TopicMatch, TopicTemplate, match_any

log = logging.getLogger("campusmon.mqtt")

_MAX_TOPICS_PER_DEVICE = 32  # bad-payload books per device; beyond: one "other" row
_PAST_NS = 7 * 86400 * 10**9  # a device timestamp older than this is not plausible
_FUTURE_NS = 300 * 10**9
_MAX_TOPICS_CACHED = 50_000
_MAX_CACHED_TOPIC_CHARS = 256
_UNSEEN = TopicMatch("", "", None)  # a marker: the topic has not been matched yet


@dataclass(slots=True)
class TopicBooks:
    total: int = 0
    by_reason: dict[BadReason, int] = field(default_factory=dict)
    bad: bool = False  # the last payload on this topic was bad


@dataclass(slots=True)
class DeviceEntry:
    target: Target
    iot_class: IotClass
    # per message on the telemetry path, looked up once here: keyed by the enum (a
    # Python-level hash) and its `.value` (a Python-level descriptor), they cost ~1 µs
    model: type[Payload]  # the class's telemetry model
    class_tag: str  # iot_class.value
    messages: int = 0
    bad_total: int = 0
    topics: dict[str, TopicBooks] = field(default_factory=dict)


@dataclass(slots=True)
class Totals:
    messages: int = 0
    unmatched_topics: int = 0
    other_campus: int = 0  # a shared (provincial) broker: other campuses' devices
    unregistered_messages: int = 0
    unregistered_overflow: int = 0
    retained_skipped: int = 0
    bad_payloads: int = 0


Out = dict[str, tuple[Target | None, list[Item]]]


class Ingest:
    def __init__(self, cfg: MqttConfig, targets: Sequence[Target], now_mono: float,
                 campus: str | None = None) -> None:
        self.cfg = cfg
        self.templates = [TopicTemplate(t, cfg.streams.telemetry) for t in cfg.topic_templates]
        self.liveness = Liveness(cfg.stale_factor)
        self.devices: dict[str, DeviceEntry] = {}
        for t in targets:
            if t.device is None:
                continue
            cls = class_of(t.device)
            if cls is None:
                continue  # not an IoT device: selected by a broad target selector
            if other_protocol(t.device) is not None:
                continue  # read by the modbus / bacnet / iot_gateways plugin, not over MQTT
            self.devices[t.device.id] = DeviceEntry(t, cls, CLASSES[cls].telemetry, cls.value)
            interval = heartbeat_override(t.device) or cfg.heartbeat_for(cls)
            self.liveness.track(t.device.id, cls, interval, now_mono)
        # the inventory's campus (and, to be safe, every campus a selected device is in)
        self.campuses = {e.target.device.campus for e in self.devices.values()
                         if e.target.device is not None}
        if campus:
            self.campuses.add(campus)
        self.unregistered: dict[str, int] = {}
        self.totals = Totals()
        # topic → its match (None: no template matches): a device publishes on the same few
        # topics all its life, so the split and compare is done once per topic, not per message
        self._matches: dict[str, TopicMatch | None] = {}
        s = cfg.streams
        self._status, self._telemetry, self._event = s.status, s.telemetry, s.event

    def shortest_interval(self) -> float:
        return min((d.interval_s for d in self.liveness.devices.values()), default=60.0)

    # ------------------------------------------------------------------ messages
    def process(self, batch: Sequence[Received], now_mono: float) -> Out:
        out: Out = {}
        totals = self.totals
        max_bytes = self.cfg.max_payload_bytes
        matches = self._matches
        for msg in batch:
            totals.messages += 1
            m = matches.get(msg.topic, _UNSEEN)
            if m is _UNSEEN:
                m = match_any(self.templates, msg.topic)
                # bounded in count and size: an MQTT topic may be 64 KiB, and random long
                # topics from any publisher must not fill memory; those are matched uncached
                if len(msg.topic) <= _MAX_CACHED_TOPIC_CHARS:
                    if len(matches) >= _MAX_TOPICS_CACHED:  # random topics only refill
                        matches.clear()
                    matches[msg.topic] = m
            if m is None:
                totals.unmatched_topics += 1
                continue
            if m.campus is not None and m.campus not in self.campuses:
                totals.other_campus += 1
                continue
            entry = self.devices.get(m.device)
            if entry is None:
                self._unregistered(m, msg, out)
                continue
            entry.messages += 1
            if len(msg.payload) > max_bytes:
                self._bad(entry, msg.topic, BadPayload(
                    BadReason.OVERSIZED, f"{len(msg.payload)} bytes > {max_bytes}"))
                continue
            try:
                items = self._decode(entry, m, msg, now_mono)
            except BadPayload as exc:
                self._bad(entry, msg.topic, exc)
                continue
            books = entry.topics.get(msg.topic)
            if books is not None and books.bad:
                books.bad = False
                log.info("%s: payloads on %s are valid again (%d bad so far)",
                         m.device, msg.topic, books.total)
            if items:
                slot = out.get(m.device)
                if slot is None:
                    out[m.device] = (entry.target, items)
                else:
                    slot[1].extend(items)
        return out

    def _device_ts(self, p: Payload, now_ns: int) -> int | None:
        if p.ts is None or not 0 <= p.ts < 1e11:  # 1e300 * 1e9 is inf: int() would raise
            return None
        ts = int(p.ts * 1e9)
        return ts if now_ns - _PAST_NS <= ts <= now_ns + _FUTURE_NS else None

    def _decode(self, entry: DeviceEntry, m: TopicMatch, msg: Received,
                now_mono: float) -> list[Item]:
        stream = m.stream
        lv = self.liveness
        dev = m.device
        items: list[Item] = []
        if stream == self._telemetry:
            p, numeric = decode_model_fields(entry.model, msg.payload)
            ts = msg.ts_ns
            if msg.retained:
                dts = self._device_ts(p, msg.ts_ns)
                if dts is None:
                    self.totals.retained_skipped += 1
                    return items
                ts = dts
                ev = lv.seen_at(dev, now_mono, msg.ts_ns, dts)
            else:
                ev = lv.seen(dev, now_mono, msg.ts_ns)
            if ev is not None:
                items.append(ev)
            items.extend(telemetry_metrics(entry.iot_class, p, ts, numeric, entry.class_tag))
            return items
        if stream == self._status:
            s = decode_status(msg.payload)
            dts = self._device_ts(s, msg.ts_ns)
            if s.state == "offline":
                detail = "offline status" + (" (retained)" if msg.retained else "")
                if isinstance(s.model_extra, dict) and isinstance(
                        s.model_extra.get("reason"), str):
                    detail += f": {str(s.model_extra['reason'])[:64]}"
                ev = lv.offline(dev, "offline_status", msg.ts_ns, dts, detail)
                if ev is not None:
                    items.append(ev)
                return items
            if msg.retained:
                if dts is None:
                    self.totals.retained_skipped += 1
                    return items
                ev = lv.seen_at(dev, now_mono, msg.ts_ns, dts)
            else:
                ev = lv.seen(dev, now_mono, msg.ts_ns)
            if ev is not None:
                items.append(ev)
            extra = s.numeric_fields()
            if extra:
                items.append(Metric("iot_telemetry",
                                    {"iot_class": entry.iot_class.value, "stream": stream},
                                    extra, dts if msg.retained and dts else msg.ts_ns))
            return items
        if stream == self._event:
            e = decode_event(msg.payload)
            if msg.retained:
                self.totals.retained_skipped += 1
                return items
            ev = lv.seen(dev, now_mono, msg.ts_ns)
            if ev is not None:
                items.append(ev)
            items.append(Event(
                key=f"iot-event:{dev}:{e.event}", kind="iot_event", state=EventState.OBSERVED,
                severity=Severity(e.severity), summary=e.message or e.event, device=dev,
                labels={"iot_class": entry.iot_class.value, "event": e.event},
                ts_ns=msg.ts_ns))
            return items
        raise BadPayload(BadReason.STREAM, f"unknown stream {stream!r}")

    def _bad(self, entry: DeviceEntry, topic: str, exc: BadPayload) -> None:
        self.totals.bad_payloads += 1
        entry.bad_total += 1
        books = entry.topics.get(topic)
        if books is None:
            key = topic if len(entry.topics) < _MAX_TOPICS_PER_DEVICE else "other"
            books = entry.topics.setdefault(key, TopicBooks())
        books.total += 1
        books.by_reason[exc.reason] = books.by_reason.get(exc.reason, 0) + 1
        if not books.bad:
            books.bad = True
            log.warning("%s: bad payload on %s (%s: %s); further bad payloads on this topic "
                        "are counted, logged again when it recovers",
                        entry.target.id, topic, exc.reason.value, exc.detail[:200])

    def _unregistered(self, m: TopicMatch, msg: Received, out: Out) -> None:
        totals = self.totals
        totals.unregistered_messages += 1
        seen = self.unregistered.get(m.device)
        if seen is not None:
            self.unregistered[m.device] = seen + 1
            return
        if len(self.unregistered) >= self.cfg.max_unregistered_tracked:
            totals.unregistered_overflow += 1
            return
        self.unregistered[m.device] = 1
        log.warning("message from %r, which is not an IoT device of the inventory (topic %s)",
                    m.device, msg.topic)
        ev = Event(
            key=f"iot-unregistered:{m.device}", kind="unregistered_iot_device",
            state=EventState.OBSERVED, severity=Severity.WARNING,
            summary=f"MQTT device {m.device!r} is not in the inventory (topic {msg.topic})",
            labels={"device_id": m.device, "topic": msg.topic,
                    **({"topic_kind": m.kind} if m.kind else {})},
            ts_ns=msg.ts_ns)
        slot = out.setdefault("", (None, []))
        slot[1].append(ev)

    # ------------------------------------------------------------------ clock
    def tick(self, now_mono: float, wall_ns: int) -> Out:
        out: Out = {}
        for ev in self.liveness.tick(now_mono, wall_ns):
            assert ev.device is not None
            entry = self.devices[ev.device]
            out.setdefault(ev.device, (entry.target, []))[1].append(ev)
        return out

    def report(self, now_mono: float, wall_ns: int) -> Out:
        """Per-device `iot_device` and `iot_bad_payload`; per-instance `iot_unregistered`."""
        out: Out = {}
        lv = self.liveness.devices
        for dev, entry in self.devices.items():
            state = lv[dev]
            fields: dict[str, FieldValue] = {
                "messages_total": entry.messages, "bad_payloads_total": entry.bad_total}
            if state.up is not None:
                fields["up"] = 1 if state.up else 0
            age = self.liveness.age_s(dev, now_mono)
            if age is not None:
                fields["last_seen_age_seconds"] = round(age, 3)
            fields["heartbeat_interval_seconds"] = state.interval_s
            items: list[Item] = [
                Metric("iot_device", {"iot_class": entry.iot_class.value}, fields, wall_ns)]
            for topic, books in entry.topics.items():
                for reason, n in books.by_reason.items():
                    items.append(Metric("iot_bad_payload",
                                        {"topic": topic, "reason": reason.value},
                                        {"count_total": n}, wall_ns))
            out[dev] = (entry.target, items)
        if self.unregistered:
            out[""] = (None, [Metric("iot_unregistered", {"device_id": d},
                                     {"messages_total": n}, wall_ns)
                              for d, n in self.unregistered.items()])
        return out
