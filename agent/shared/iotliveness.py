"""Liveness of IoT devices the agent polls (Modbus, CoAP, BACnet, RTSP …), the MQTT way.

A polled device is down after `down_after` polls in a row failed (default 2: at most two
intervals after its last answer, the same bound as MQTT's stale factor 1.5 × heartbeat + one
tick), and up again at the first answer. Events and the `iot_device` series have the MQTT
listener's shape (key `iot:<device>`, `iot_class` label), so alert rules, dashboards and audits
count a device alike whatever it speaks. Pure: the clock is passed in.
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
            gauge("last_seen_age_seconds", "seconds", "time since the device last answered")),
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
