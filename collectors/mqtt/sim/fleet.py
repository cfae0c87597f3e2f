"""Run the simulated fleet: one MQTT connection per device (each with its own last will),
heartbeats, telemetry, occasional outages and malformed messages; record the ground truth.

Outages are planned up front from the seed: a share of devices goes down once, either
`silent` (connected but mute: only staleness reveals it) or `last_will` (connection dropped
without DISCONNECT: the broker publishes the will at once). The ground truth says who went down
when, what each class published, and every 5G and Wi-Fi reading, so tests and the demo can check
the agent against it.
"""

from __future__ import annotations

import heapq
import json
import logging
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from collectors.mqtt.classes import CLASSES, IotClass, class_of, heartbeat_override
from collectors.mqtt.client import BrokerOptions, Publisher, TlsFiles
from collectors.mqtt.readings import MALFORMED_KINDS, DeviceState, RoomRadio, malformed
from collectors.mqtt.topics import TopicTemplate
from inventory.loader import load_inventory
from inventory.models import Inventory

log = logging.getLogger("campusmon.sim.iot")

DEFAULT_TEMPLATE = "campus/{campus}/{building}/{kind}/{device}/{stream}"


@dataclass(frozen=True)
class FleetOptions:
    host: str = "127.0.0.1"
    port: int = 1883
    protocol: Literal["3.1.1", "5"] = "5"
    username: str | None = None
    password: str | None = None
    tls: TlsFiles | None = None
    seed: int = 1
    topic_template: str = DEFAULT_TEMPLATE
    telemetry_qos: int = 0
    outage_fraction: float = 0.15  # share of devices that go down once during the run
    outage_secs: float | None = None  # None: 4 × the device's heartbeat
    malformed_rate: float = 0.02  # share of telemetry messages replaced by malformed ones
    event_rate: float = 0.02  # chance per beat of an `event` message (door held open …)
    default_heartbeat_secs: float = 5.0
    goodbye: bool = True  # on stop, publish a retained `offline` for every device
    connect_timeout_s: float = 20.0


@dataclass
class SimDevice:
    id: str
    cls: IotClass
    kind: str
    building: str
    room: str | None
    heartbeat_s: float
    status_topic: str
    telemetry_topic: str
    event_topic: str
    state: DeviceState
    publisher: Publisher | None = None
    muted: bool = False
    started_mono: float = 0.0


@dataclass
class Outage:
    device: str
    iot_class: str
    mode: Literal["silent", "last_will"]
    start_s: float  # offset from the start of the run
    length_s: float
    down_at: float | None = None  # wall clock, Unix seconds
    up_at: float | None = None


@dataclass
class Truth:
    broker: str
    started: float = 0.0
    ended: float = 0.0
    per_class: dict[str, dict[str, int]] = field(default_factory=dict)
    outages: list[Outage] = field(default_factory=list)
    readings_5g: list[dict[str, Any]] = field(default_factory=list)
    wifi_survey: list[dict[str, Any]] = field(default_factory=list)
    malformed: dict[str, int] = field(default_factory=dict)  # by kind
    unconnected: list[str] = field(default_factory=list)

    def count(self, cls: IotClass, what: str, n: int = 1) -> None:
        row = self.per_class.setdefault(cls.value, {})
        row[what] = row.get(what, 0) + n

    def to_json(self) -> dict[str, Any]:
        return {
            "broker": self.broker, "started": self.started, "ended": self.ended,
            "per_class": self.per_class,
            "outages": [o.__dict__ for o in self.outages],
            "readings_5g": self.readings_5g, "wifi_survey": self.wifi_survey,
            "malformed": self.malformed, "unconnected": self.unconnected,
        }


def fleet_devices(inv: Inventory, opts: FleetOptions) -> list[SimDevice]:
    tmpl = TopicTemplate(opts.topic_template)
    out: list[SimDevice] = []
    for d in inv.devices:
        cls = class_of(d)
        if cls is None:
            continue
        values = {"campus": inv.campus.code, "building": d.building or "none",
                  "room": d.room or "none", "kind": d.kind.value, "device": d.id}
        radio = RoomRadio.for_room(d.room or d.id, opts.seed)
        state = DeviceState(cls, random.Random(f"{opts.seed}:{d.id}"), radio)
        out.append(SimDevice(
            d.id, cls, d.kind.value, d.building or "none", d.room,
            heartbeat_override(d) or opts.default_heartbeat_secs,
            tmpl.render(**values, stream="status"), tmpl.render(**values, stream="telemetry"),
            tmpl.render(**values, stream="event"), state))
    return out


def plan_outages(devs: Sequence[SimDevice], duration_s: float | None,
                 opts: FleetOptions) -> list[Outage]:
    if duration_s is None or opts.outage_fraction <= 0 or not devs:
        return []
    rng = random.Random(f"{opts.seed}:outages")
    k = max(1, round(opts.outage_fraction * len(devs)))
    out: list[Outage] = []
    for i, d in enumerate(rng.sample(list(devs), min(k, len(devs)))):
        length = opts.outage_secs or 4 * d.heartbeat_s
        start = rng.uniform(0.2, 0.5) * duration_s
        if start + length + 2 * d.heartbeat_s > duration_s:
            continue  # would not come back up inside the run
        out.append(Outage(d.id, d.cls.value, "last_will" if i % 2 == 0 else "silent",
                          start, length))
    return out


class Fleet:
    def __init__(self, inventory: Inventory, opts: FleetOptions,
                 duration_s: float | None = None) -> None:
        self.inv = inventory
        self.opts = opts
        self.duration_s = duration_s
        self.devices = fleet_devices(inventory, opts)
        self.by_id = {d.id: d for d in self.devices}
        self.truth = Truth(f"{opts.host}:{opts.port}")
        self.truth.outages = plan_outages(self.devices, duration_s, opts)
        self._rng = random.Random(f"{opts.seed}:fleet")
        self.stop_event = threading.Event()

    # ------------------------------------------------------------------ connections
    def _connect(self, d: SimDevice) -> Publisher:
        o = self.opts
        bopts = BrokerOptions(host=o.host, port=o.port, client_id=f"sim-{d.id}",
                              protocol=o.protocol, username=o.username, password=o.password,
                              tls=o.tls, keepalive_secs=10)
        will = json.dumps({"state": "offline", "reason": "last_will"}).encode()
        pub = Publisher(bopts, will=(d.status_topic, will, 1, True))
        pub.start(timeout_s=0)  # connect in the background; waited for below
        return pub

    def _birth(self, d: SimDevice) -> None:
        assert d.publisher is not None
        d.started_mono = time.monotonic()
        d.publisher.publish(d.status_topic, json.dumps(
            {"state": "online", "ts": round(time.time(), 3), "uptime_s": 0}), 1, True)
        self.truth.count(d.cls, "status")

    # ------------------------------------------------------------------ publishing
    def _beat(self, d: SimDevice) -> None:
        pub = d.publisher
        if pub is None or d.muted:
            return
        now = time.time()
        pub.publish(d.status_topic, json.dumps(
            {"state": "online", "ts": round(now, 3),
             "uptime_s": round(time.monotonic() - d.started_mono)}), 1, True)
        self.truth.count(d.cls, "status")
        qos = self.opts.telemetry_qos
        if self._rng.random() < self.opts.malformed_rate:
            kind = self._rng.choice(MALFORMED_KINDS)
            bad = malformed(kind, self._rng, CLASSES[d.cls].sim.typed_field)
            pub.publish(d.telemetry_topic, bad, qos)
            self.truth.count(d.cls, "malformed")
            self.truth.malformed[kind] = self.truth.malformed.get(kind, 0) + 1
            return
        reading = CLASSES[d.cls].sim.readings(d.state)
        pub.publish(d.telemetry_topic, json.dumps(reading), qos)
        self.truth.count(d.cls, "telemetry")
        if d.cls is IotClass.CPE_5G:
            self.truth.readings_5g.append({"device": d.id, "building": d.building,
                                           "room": d.room, "ts": now, **reading})
        elif d.cls is IotClass.WIFI_SURVEY:
            self.truth.wifi_survey.append({"device": d.id, "building": d.building,
                                           "room": d.room, "ts": now, **reading})
        ev = CLASSES[d.cls].sim.event
        if ev is not None and self._rng.random() < self.opts.event_rate:
            pub.publish(d.event_topic, json.dumps({"event": ev[0], "severity": ev[1]}), 1)
            self.truth.count(d.cls, "event")

    def _outage_start(self, o: Outage) -> None:
        d = self.by_id[o.device]
        o.down_at = time.time()
        d.muted = True
        if o.mode == "last_will" and d.publisher is not None:
            d.publisher.kill()
            d.publisher = None
        log.info("outage: %s down (%s) for %.0fs", d.id, o.mode, o.length_s)

    def _outage_end(self, o: Outage) -> bool:
        """Bring the device back; False while its new connection is not up yet (the caller
        asks again shortly: waiting here would delay every other device's heartbeat)."""
        d = self.by_id[o.device]
        if d.publisher is None:
            d.publisher = self._connect(d)
        if not d.publisher.connected:
            return False
        d.muted = False
        o.up_at = time.time()
        self._birth(d)
        log.info("outage: %s back", d.id)
        return True

    # ------------------------------------------------------------------ the run
    def run(self) -> Truth:
        t0 = time.monotonic()
        self.truth.started = time.time()
        for d in self.devices:
            d.publisher = self._connect(d)
        deadline = t0 + self.opts.connect_timeout_s
        while time.monotonic() < deadline and not all(
                d.publisher is not None and d.publisher.connected for d in self.devices):
            if self.stop_event.wait(0.05):
                break
        for d in self.devices:
            if d.publisher is not None and d.publisher.connected:
                self._birth(d)
            else:
                self.truth.unconnected.append(d.id)
        if self.truth.unconnected:
            log.warning("%d simulated devices could not connect to %s:%d",
                        len(self.truth.unconnected), self.opts.host, self.opts.port)
        start = time.monotonic()
        heap: list[tuple[float, int, str, str]] = []
        seq = 0
        for d in self.devices:
            heapq.heappush(heap, (start + self._rng.uniform(0.1, d.heartbeat_s), seq, "beat",
                                  d.id))
            seq += 1
        for i, o in enumerate(self.truth.outages):
            heapq.heappush(heap, (start + o.start_s, seq, "down", str(i)))
            heapq.heappush(heap, (start + o.start_s + o.length_s, seq + 1, "up", str(i)))
            seq += 2
        end = None if self.duration_s is None else start + self.duration_s
        try:
            while heap:
                due, _, what, ref = heap[0]
                now = time.monotonic()
                if end is not None and due > end:
                    self.stop_event.wait(max(0.0, end - now))
                    break
                if due > now:
                    if self.stop_event.wait(due - now):
                        break
                    continue
                heapq.heappop(heap)
                if what == "beat":
                    d = self.by_id[ref]
                    self._beat(d)
                    heapq.heappush(heap, (due + d.heartbeat_s, seq, "beat", ref))
                    seq += 1
                elif what == "down":
                    self._outage_start(self.truth.outages[int(ref)])
                elif not self._outage_end(self.truth.outages[int(ref)]):
                    heapq.heappush(heap, (now + 0.05, seq, "up", ref))
                    seq += 1
        finally:
            self.truth.ended = time.time()  # publishing ends here; closing takes a moment
            self._shutdown()
        return self.truth

    def _shutdown(self) -> None:
        pubs = [d for d in self.devices if d.publisher is not None]
        infos = []
        for d in pubs:
            assert d.publisher is not None
            if self.opts.goodbye and d.publisher.connected:
                infos.append((d.publisher, d.publisher.publish(d.status_topic, json.dumps(
                    {"state": "offline", "reason": "simulator stopped",
                     "ts": round(time.time(), 3)}), 1, True)))
        for pub, info in infos:
            pub.wait_published([info], 2.0)
        for d in pubs:  # DISCONNECT everyone first, then wait for the threads
            assert d.publisher is not None
            d.publisher.disconnect()
        for d in pubs:
            assert d.publisher is not None
            d.publisher.stop()
            d.publisher = None


@dataclass
class FleetHandle:
    """A fleet running in a background thread; `stop()` ends it and returns the truth."""

    fleet: Fleet
    thread: threading.Thread
    truth_path: Path | None = None
    result: Truth | None = None

    def stop(self, timeout_s: float = 30.0) -> Truth:
        self.fleet.stop_event.set()
        self.thread.join(timeout_s)
        truth = self.result or self.fleet.truth
        if self.truth_path is not None:
            write_truth(truth, self.truth_path)
        return truth

    @property
    def running(self) -> bool:
        return self.thread.is_alive()


def _inventory(inv: Inventory | str | Path) -> Inventory:
    return inv if isinstance(inv, Inventory) else load_inventory(Path(inv).resolve())


def write_truth(truth: Truth, path: str | Path) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(truth.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")


def run_fleet(host: str, port: int, inventory: Inventory | str | Path, duration_s: float,
              opts: FleetOptions | None = None, truth_path: str | Path | None = None) -> Truth:
    """Run for `duration_s` seconds (blocking); return (and optionally write) the truth."""
    o = opts or FleetOptions()
    o = FleetOptions(**{**o.__dict__, "host": host, "port": port})
    truth = Fleet(_inventory(inventory), o, duration_s).run()
    if truth_path is not None:
        write_truth(truth, truth_path)
    return truth


def start_fleet(host: str, port: int, inventory: Inventory | str | Path,
                duration_s: float | None = None, opts: FleetOptions | None = None,
                truth_path: str | Path | None = None) -> FleetHandle:
    """Start in a background thread (until `stop()`, or for `duration_s`)."""
    o = opts or FleetOptions()
    o = FleetOptions(**{**o.__dict__, "host": host, "port": port})
    fleet = Fleet(_inventory(inventory), o, duration_s)
    handle = FleetHandle(fleet, threading.Thread(target=lambda: None),
                         Path(truth_path) if truth_path else None)

    def main() -> None:
        handle.result = fleet.run()

    handle.thread = threading.Thread(target=main, name="iot-fleet", daemon=True)
    handle.thread.start()
    return handle
