"""Plausible telemetry per class, and malformed payloads, for simulated devices. Which
generator a class uses is said in its record (collectors/mqtt/classes.py).

Each device keeps its own state (counters only grow) and a seeded random generator, so a run is
reproducible. 5G and Wi-Fi quality depend on the room: about a third of rooms are weak spots
(deep indoor, far from the small cell), which is what a coverage audit should find.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from agent.shared.iotclasses import IotClass

MALFORMED_KINDS = ("broken_json", "wrong_type", "oversized")


@dataclass
class RoomRadio:
    """Per-room radio conditions shared by the 5G CPE and the Wi-Fi sensor in that room."""

    rsrp_dbm: float
    sinr_db: float
    dl_mbps: float
    ul_mbps: float
    wifi_24_dbm: float
    wifi_5_dbm: float
    weak: bool

    @staticmethod
    def for_room(room: str, seed: int) -> RoomRadio:
        rng = random.Random(f"{seed}:{room}")
        weak = rng.random() < 0.34
        if weak:
            return RoomRadio(rng.uniform(-112, -104), rng.uniform(-2, 5), rng.uniform(60, 170),
                             rng.uniform(8, 35), rng.uniform(-76, -68), rng.uniform(-84, -75),
                             True)
        return RoomRadio(rng.uniform(-92, -78), rng.uniform(12, 24), rng.uniform(280, 720),
                         rng.uniform(50, 110), rng.uniform(-58, -45), rng.uniform(-65, -52),
                         False)


@dataclass
class DeviceState:
    cls: IotClass
    rng: random.Random
    radio: RoomRadio
    counters: dict[str, int] = field(default_factory=dict)
    started: float = 0.0

    def bump(self, name: str, lo: int, hi: int) -> int:
        self.counters[name] = self.counters.get(name, 0) + self.rng.randint(lo, hi)
        return self.counters[name]


def _gauss(rng: random.Random, mu: float, sigma: float, lo: float, hi: float) -> float:
    return round(min(hi, max(lo, rng.gauss(mu, sigma))), 1)


def camera(s: DeviceState) -> dict[str, Any]:
    r = s.rng
    return {"fps": r.choice((25, 25, 25, 20)), "bitrate_kbps": round(r.uniform(3500, 4500)),
            "recording": True, "temperature_c": _gauss(r, 42, 3, -40, 120),
            "packet_loss_percent": round(r.uniform(0, 0.4), 2)}


def nvr(s: DeviceState) -> dict[str, Any]:
    r = s.rng
    return {"channels_total": 32, "channels_recording": 32 - r.choice((0, 0, 0, 1)),
            "disks_total": 8, "disks_failed": 0,
            "storage_used_percent": _gauss(r, 78, 2, 0, 100), "retention_days": 30}


def door(s: DeviceState) -> dict[str, Any]:
    r = s.rng
    return {"door_open": r.random() < 0.1, "locked": r.random() > 0.1, "tamper": False,
            "swipes_total": s.bump("swipes_total", 0, 6),
            "denied_total": s.bump("denied_total", 0, 1 if r.random() < 0.1 else 0)}


def attendance(s: DeviceState) -> dict[str, Any]:
    return {"punches_total": s.bump("punches_total", 0, 8),
            "failed_total": s.bump("failed_total", 0, 1 if s.rng.random() < 0.05 else 0),
            "users_enrolled": 960}


def broadcast(s: DeviceState) -> dict[str, Any]:
    r = s.rng
    playing = r.random() < 0.3
    return {"playing": playing, "volume_percent": 60 if playing else 0,
            "zones_active": r.randint(1, 6) if playing else 0,
            "amplifier_temp_c": _gauss(r, 45 if playing else 32, 2, -40, 150)}


def payment(s: DeviceState) -> dict[str, Any]:
    n = s.rng.randint(0, 5)
    s.counters["transactions_total"] = s.counters.get("transactions_total", 0) + n
    s.counters["amount_fen_total"] = s.counters.get("amount_fen_total", 0) + sum(
        s.rng.randint(300, 1800) for _ in range(n))
    return {"transactions_total": s.counters["transactions_total"],
            "amount_fen_total": s.counters["amount_fen_total"],
            "failed_total": s.bump("failed_total", 0, 1 if s.rng.random() < 0.03 else 0),
            "offline_pending": 0}


def biometric(s: DeviceState) -> dict[str, Any]:
    return {"matches_total": s.bump("matches_total", 0, 4),
            "rejects_total": s.bump("rejects_total", 0, 1 if s.rng.random() < 0.05 else 0),
            "templates_enrolled": 2400, "match_ms": round(s.rng.uniform(120, 260))}


def env(s: DeviceState) -> dict[str, Any]:
    r = s.rng
    return {"temperature_c": _gauss(r, 24, 1.5, -40, 85),
            "humidity_percent": _gauss(r, 58, 5, 0, 100), "co2_ppm": round(r.uniform(450, 1400)),
            "pm25_ugm3": round(r.uniform(8, 60)), "noise_db": _gauss(r, 48, 6, 0, 150)}


def smart(s: DeviceState) -> dict[str, Any]:
    r = s.rng
    on = r.random() < 0.7
    return {"projector_on": on, "display_on": on, "power_w": round(r.uniform(350, 480) if on
                                                                   else r.uniform(3, 8), 1),
            "occupancy": r.randint(20, 50) if on else 0, "lamp_hours": 1830}


def cpe5g(s: DeviceState) -> dict[str, Any]:
    r, q = s.rng, s.radio
    return {"rsrp_dbm": _gauss(r, q.rsrp_dbm, 2, -156, -31),
            "rsrq_db": _gauss(r, -10 if not q.weak else -15, 1.5, -43, 20),
            "sinr_db": _gauss(r, q.sinr_db, 2, -23, 40), "band": "n78",
            "cell": f"PCI-{300 + int(-q.rsrp_dbm) % 20}",
            "dl_mbps": round(max(0.0, r.gauss(q.dl_mbps, q.dl_mbps * 0.1)), 1),
            "ul_mbps": round(max(0.0, r.gauss(q.ul_mbps, q.ul_mbps * 0.1)), 1)}


def wifi(s: DeviceState) -> dict[str, Any]:
    r, q = s.rng, s.radio
    return {"readings": [
        {"band": "2.4GHz", "rssi_dbm": _gauss(r, q.wifi_24_dbm, 2, -120, 0), "ssid": "i-campus",
         "channel": r.choice((1, 6, 11))},
        {"band": "5GHz", "rssi_dbm": _gauss(r, q.wifi_5_dbm, 2, -120, 0), "ssid": "i-campus",
         "channel": r.choice((36, 44, 149, 157))},
    ]}


def malformed(kind: str, rng: random.Random, typed_field: str,
              max_bytes: int = 65_536) -> bytes:
    """A payload the collector must count and survive (invalid for any class: `typed_field`
    is a reading the device's class must have as a number or list)."""
    if kind == "broken_json":
        return rng.choice((b'{"temperature_c": 23.4, ', b"\xff\xfe garbage", b"{{}", b"",
                           b'{"fps": 25'))
    if kind == "wrong_type":
        return json.dumps(rng.choice((
            {typed_field: "n/a"}, {"ts": "yesterday"}, [1, 2, 3], "just a string",
        ))).encode()
    if kind == "oversized":
        return b'{"blob": "' + b"x" * (max_bytes + 16) + b'"}'
    raise ValueError(kind)
