"""The inventory as written: strict pydantic models for YAML blocks and CSV rows."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import BeforeValidator, Field, field_validator

from config.base import StrictModel
from inventory.models import DeviceKind, RoomKind

_MAC_RE = re.compile(r"^[0-9a-f]{12}$")


def normalize_mac(value: str) -> str:
    """Accept aa:bb:.., aa-bb-.., aabb.ccdd.eeff; return lower-case colon form."""
    hexdigits = re.sub(r"[:\-.]", "", value.strip().lower())
    if not _MAC_RE.match(hexdigits):
        raise ValueError(f"malformed MAC address {value!r}")
    return ":".join(hexdigits[i : i + 2] for i in range(0, 12, 2))


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [p.strip() for p in re.split(r"[;|,]", value) if p.strip()]
    return value


StrList = Annotated[list[str], BeforeValidator(_split_list)]


class DeviceDefaults(StrictModel):
    vendor: str | None = None
    model: str | None = None
    owner: str | None = None
    credential: str | None = None
    roles: StrList | None = None
    services: StrList | None = None
    labels: dict[str, str] = Field(default_factory=dict)


class RawDevice(StrictModel):
    id: str = Field(min_length=1)
    kind: DeviceKind
    building: str | None = None  # only for devices listed at campus level or in CSV
    room: str | None = None
    ipv4: str | None = None
    ipv6: str | None = None
    mac: str | None = None
    vendor: str | None = None
    model: str | None = None
    owner: str | None = None
    credential: str | None = None
    roles: StrList | None = None
    parent: str | None = None
    parent_port: str | None = None
    services: StrList | None = None
    hostname: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("ipv4")
    @classmethod
    def _v4(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        try:
            return str(ipaddress.IPv4Address(v.strip()))
        except ValueError:
            raise ValueError(f"malformed IPv4 address {v!r}") from None

    @field_validator("ipv6")
    @classmethod
    def _v6(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        try:
            return str(ipaddress.IPv6Address(v.strip()))  # compressed canonical form
        except ValueError:
            raise ValueError(f"malformed IPv6 address {v!r}") from None

    @field_validator("mac")
    @classmethod
    def _mac(cls, v: str | None) -> str | None:
        return normalize_mac(v) if v else None


class RawRoom(StrictModel):
    id: str = Field(min_length=1)
    name: str | None = None
    kind: RoomKind
    floor: int | None = None
    defaults: DeviceDefaults = DeviceDefaults()
    devices: list[RawDevice] = Field(default_factory=list)


class RawBuilding(StrictModel):
    id: str = Field(min_length=1)
    name: str | None = None
    defaults: DeviceDefaults = DeviceDefaults()
    rooms: list[RawRoom] = Field(default_factory=list)
    devices: list[RawDevice] = Field(default_factory=list)


class RawCampus(StrictModel):
    code: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    name: str
    students: int = Field(default=0, ge=0)
    staff: int = Field(default=0, ge=0)
    province: str | None = None


class RawImport(StrictModel):
    csv: str


class RawInventory(StrictModel):
    campus: RawCampus
    defaults: DeviceDefaults = DeviceDefaults()
    buildings: list[RawBuilding] = Field(default_factory=list)
    devices: list[RawDevice] = Field(default_factory=list)
    imports: list[RawImport] = Field(default_factory=list)
