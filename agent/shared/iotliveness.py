"""Liveness of IoT devices the agent polls (Modbus, CoAP, BACnet, RTSP …) or hears through a
gateway (ChirpStack, zigbee2mqtt, Sparkplug B), the MQTT way.

A polled device is down after `down_after` polls in a row failed (default 2: at most two
intervals after its last answer, the same bound as MQTT's stale factor 1.5 × heartbeat + one
tick), and up again at the first answer. Events and the `iot_device` series have the MQTT
listener's shape (key `iot:<device>`, `iot_class` label), so alert rules, dashboards and audits
count a device alike whatever it speaks. Pure: the clock is passed in.

A device heard through a gateway (`HeardLiveness`) is down at once when the gateway says so
(zigbee2mqtt `offline`, Sparkplug NDEATH/DDEATH), or when nothing came for `stale_factor` × its
expected interval (checked every tick), and up at its next message.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.core.catalogue import Measurement, gauge, state, tag
from agent.core.model import Event, FieldValue, Metric
from agent.shared.iotclasses import device_down, device_up

IOT_DEVICE = Measurement(
    "iot_device", "liveness of one IoT device, whatever protocol it speaks",
    tags=(tag("iot_class", "the device's IoT class (camera, env_sensor, energy_meter …)"),
          tag("protocol", "how the agent reaches it: modbus, coap, bacnet, rtsp, onvif …")),
    fields=(state("up", "1 answered its last poll(s), 0 down (down after 2 failed polls)"),
            gauge("last_seen_age_seconds", "seconds", "time since the device last answered"),
            gauge("heartbeat_interval_seconds", "seconds",
                  "expected interval between messages (devices heard through a gateway)")),
)


@dataclass(slots=True)
class Polled:
    iot_class: str
    up: bool | None = None
    failures: int = 0
    last_ok_mono: float | None = None


class PollLiveness:
    def __init__(self, protocol: str, down_after: int = 2) -> None:
        self.protocol = protocol
        self.down_after = down_after
        self.devices: dict[str, Polled] = {}

    def _get(self, device: str, iot_class: str) -> Polled:
        d = self.devices.get(device)
        if d is None:
            d = self.devices[device] = Polled(iot_class)
        return d

    def ok(self, device: str, iot_class: str, now_mono: float, wall_ns: int) -> Event | None:
        d = self._get(device, iot_class)
        d.failures, d.last_ok_mono = 0, now_mono
        was_down = d.up is False
        d.up = True
        return device_up(device, iot_class, wall_ns) if was_down else None

    def failed(self, device: str, iot_class: str, wall_ns: int, reason: str,
               detail: str = "") -> Event | None:
        """`reason`: a short code (timeout, unreachable, no_video …), `detail` for people."""
        d = self._get(device, iot_class)
        d.failures += 1
        if d.up is False or d.failures < self.down_after:
            return None
        d.up = False
        return device_down(device, iot_class, reason, wall_ns,
                           f"{detail or reason} ({d.failures} polls in a row)")

    def metric(self, device: str, now_mono: float, wall_ns: int) -> Metric | None:
        """The device's `iot_device` row; None while nothing is known yet."""
        d = self.devices[device]
        fields: dict[str, FieldValue] = {}
        if d.up is not None:
            fields["up"] = 1 if d.up else 0
        if d.last_ok_mono is not None:
            fields["last_seen_age_seconds"] = round(max(0.0, now_mono - d.last_ok_mono), 3)
        if not fields:
            return None
        return Metric("iot_device", {"iot_class": d.iot_class, "protocol": self.protocol},
                      fields, wall_ns)


@dataclass(slots=True)
class Heard:
    iot_class: str
    interval_s: float
    since_mono: float
    up: bool | None = None
    last_mono: float | None = None
    reason: str = ""


class HeardLiveness:
    """Devices whose messages arrive on their own (through a gateway over MQTT)."""

    def __init__(self, protocol: str, stale_factor: float = 1.5) -> None:
        self.protocol = protocol
        self.stale_factor = stale_factor
        self.devices: dict[str, Heard] = {}

    def track(self, device: str, iot_class: str, interval_s: float, now_mono: float) -> None:
        self.devices[device] = Heard(iot_class, interval_s, now_mono)

    def seen(self, device: str, now_mono: float, wall_ns: int) -> Event | None:
        d = self.devices[device]
        d.last_mono = now_mono
        was_down = d.up is False
        d.up, d.reason = True, ""
        return device_up(device, d.iot_class, wall_ns) if was_down else None

    def offline(self, device: str, reason: str, wall_ns: int, detail: str = "") -> Event | None:
        d = self.devices[device]
        if d.up is False:
            return None
        d.up, d.reason = False, reason
        return device_down(device, d.iot_class, reason, wall_ns, detail)

    def tick(self, now_mono: float, wall_ns: int) -> list[Event]:
        out: list[Event] = []
        for name, d in self.devices.items():
            ref = d.last_mono if d.last_mono is not None else d.since_mono
            if d.up is not False and now_mono - ref > self.stale_factor * d.interval_s:
                d.up = False
                d.reason = "never_seen" if d.last_mono is None else "stale"
                out.append(device_down(name, d.iot_class, d.reason, wall_ns,
                                       f"nothing for {now_mono - ref:.0f}s (expected every "
                                       f"{d.interval_s:g}s)"))
        return out

    def metric(self, device: str, now_mono: float, wall_ns: int) -> Metric:
        d = self.devices[device]
        fields: dict[str, FieldValue] = {"heartbeat_interval_seconds": d.interval_s}
        if d.up is not None:
            fields["up"] = 1 if d.up else 0
        if d.last_mono is not None:
            fields["last_seen_age_seconds"] = round(max(0.0, now_mono - d.last_mono), 3)
        return Metric("iot_device", {"iot_class": d.iot_class, "protocol": self.protocol},
                      fields, wall_ns)
