"""Configuration of the `snmp_trap` listener."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from config.base import StrictModel

_LISTEN = re.compile(r"^(\[[0-9A-Fa-f:.%\w]+\]|[0-9.]+|[\w.-]+):(\d{1,5})$")


def split_listen(s: str) -> tuple[str, int]:
    """`0.0.0.0:162` / `[::]:162` → (host, port)."""
    m = _LISTEN.match(s.strip())
    if m is None:
        raise ValueError(f"listen address {s!r} is not HOST:PORT or [IPv6]:PORT")
    host, port = m.group(1).strip("[]"), int(m.group(2))
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port} out of range")
    return host, port


class TrapUser(StrictModel):
    credential: str  # a named snmp_v3 credential set
    # hex engine IDs of the devices sending v3 traps as this user (the sender is authoritative
    # for a trap); informs need none (we are authoritative for those)
    engine_ids: list[str] = Field(default_factory=list)
    # AES-192/256 key extension (no RFC fixes one): reeder (Cisco …) or blumenthal (net-snmp)
    aes_key_extension: Literal["reeder", "blumenthal"] = "reeder"

    @field_validator("engine_ids")
    @classmethod
    def _hex(cls, v: list[str]) -> list[str]:
        for e in v:
            h = e.lower().removeprefix("0x").replace(":", "")
            if not re.fullmatch(r"[0-9a-f]{10,64}", h) or len(h) % 2:
                raise ValueError(f"engine ID {e!r} is not 5-32 octets of hex")
        return [e.lower().removeprefix("0x").replace(":", "") for e in v]


class SnmpTrapConfig(StrictModel):
    listen: list[str] = Field(default_factory=lambda: ["0.0.0.0:162", "[::]:162"], min_length=1)
    communities: list[str] = Field(default_factory=list)  # named snmp_v2c credential sets
    users: list[TrapUser] = Field(default_factory=list)
    # relays (a central trap forwarder) whose traps name the original sender in
    # snmpTrapAddress.0 (RFC 3584 §3.1); a v1 trap's agent-addr is used the same way
    trusted_relays: list[str] = Field(default_factory=list)
    engine_id: str | None = None  # hex; our own engine (informs); default derived by pysnmp
    queue_max_messages: int = Field(default=20000, ge=10)
    batch_max: int = Field(default=500, ge=1)
    report_interval_secs: float = Field(default=30.0, gt=0)
    unknown_report_secs: float = Field(default=3600.0, gt=0)  # one event per unknown sender
    max_message_bytes: int = Field(default=65507, ge=484)

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: list[str]) -> list[str]:
        for s in v:
            split_listen(s)
        return v
