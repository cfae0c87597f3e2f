"""Last-seen per device, stale detection and the down/up events.

A device is down when its last-will or an `offline` status arrives (at once), or when nothing
arrived for `stale_factor` × its heartbeat interval (checked every tick, so a device is down
within stale_factor × interval + one tick of its last message). A device never seen since the
collector started goes down the same way, counted from the start. Pure logic with the clock
passed in: tests drive it without sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.core.model import Event, EventState, Severity
from collectors.mqtt.classes import IotClass


@dataclass(slots=True)
class DeviceLiveness:
    device: str
    iot_class: IotClass
    interval_s: float
    since_mono: float  # tracking started (or collector started)
    last_seen_mono: float | None = None
    last_seen_wall_ns: int | None = None
    up: bool | None = None  # None: not known yet
    reason: str = ""


def down_event(d: DeviceLiveness, reason: str, ts_ns: int, detail: str = "") -> Event:
    """`reason` is a short code (a label); `detail` goes in the summary only."""
    return Event(
        key=f"iot:{d.device}", kind="device_down", state=EventState.RAISED,
        severity=Severity.WARNING,
        summary=f"{d.device} ({d.iot_class.value}) down: {detail or reason}",
        device=d.device, labels={"iot_class": d.iot_class.value, "reason": reason}, ts_ns=ts_ns)


def up_event(d: DeviceLiveness, ts_ns: int) -> Event:
    return Event(
        key=f"iot:{d.device}", kind="device_up", state=EventState.RESOLVED,
        severity=Severity.INFO, summary=f"{d.device} ({d.iot_class.value}) up again",
        device=d.device, labels={"iot_class": d.iot_class.value}, ts_ns=ts_ns)


class Liveness:
    def __init__(self, stale_factor: float) -> None:
        self.stale_factor = stale_factor
        self.devices: dict[str, DeviceLiveness] = {}

    def track(self, device: str, cls: IotClass, interval_s: float, now_mono: float) -> None:
        self.devices[device] = DeviceLiveness(device, cls, interval_s, now_mono)

    def seen(self, device: str, now_mono: float, wall_ns: int) -> Event | None:
        """A live message from the device: it is up."""
        d = self.devices[device]
        if d.last_seen_mono is None or now_mono >= d.last_seen_mono:
            d.last_seen_mono = now_mono
            d.last_seen_wall_ns = wall_ns
        if d.up is True:
            return None
        was_down = d.up is False
        d.up, d.reason = True, ""
        return up_event(d, wall_ns) if was_down else None

    def seen_at(self, device: str, now_mono: float, now_wall_ns: int,
                device_wall_ns: int) -> Event | None:
        """A retained message stamped by the device: alive at that time, not necessarily now."""
        d = self.devices[device]
        age_s = max(0.0, (now_wall_ns - device_wall_ns) / 1e9)
        if d.last_seen_wall_ns is not None and device_wall_ns <= d.last_seen_wall_ns:
            return None
        d.last_seen_mono = now_mono - age_s
        d.last_seen_wall_ns = device_wall_ns
        if self._stale(d, now_mono) or d.up is True:
            return None
        was_down = d.up is False
        d.up, d.reason = True, ""
        return up_event(d, now_wall_ns) if was_down else None

    def offline(self, device: str, reason: str, wall_ns: int,
                device_wall_ns: int | None = None, detail: str = "") -> Event | None:
        """An `offline` status or last will: down at once, unless it predates a later sign of
        life (a retained will re-delivered after the device came back)."""
        d = self.devices[device]
        if (device_wall_ns is not None and d.last_seen_wall_ns is not None
                and device_wall_ns < d.last_seen_wall_ns):
            return None
        if d.up is False:
            return None
        d.up, d.reason = False, reason
        return down_event(d, reason, wall_ns, detail)

    def _stale(self, d: DeviceLiveness, now_mono: float) -> bool:
        ref = d.last_seen_mono if d.last_seen_mono is not None else d.since_mono
        return now_mono - ref > self.stale_factor * d.interval_s

    def tick(self, now_mono: float, wall_ns: int) -> list[Event]:
        out: list[Event] = []
        for d in self.devices.values():
            if d.up is not False and self._stale(d, now_mono):
                never = d.last_seen_mono is None
                d.up = False
                d.reason = "never_seen" if never else "stale"
                silent = now_mono - (d.since_mono if never else d.last_seen_mono or 0.0)
                out.append(down_event(
                    d, d.reason, wall_ns,
                    f"nothing for {silent:.0f}s (heartbeat every {d.interval_s:g}s)"))
        return out

    def age_s(self, device: str, now_mono: float) -> float | None:
        d = self.devices[device]
        return None if d.last_seen_mono is None else max(0.0, now_mono - d.last_seen_mono)
