"""Typed rows parsed from CLI output: one dataclass per kind of fact, whatever the platform."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ApState(enum.StrEnum):
    """Same values as the SNMP collector's `wlan_ap.ap_state` tag."""

    UP = "up"
    DOWN = "down"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class VersionInfo:
    vendor: str  # as detected from the output (H3C vs HPE share one CLI)
    model: str
    os_name: str  # VRP, Comware, RGOS, IOS …
    os_version: str
    hostname: str = ""
    serial: str = ""
    uptime_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class Ipv6Interface:
    name: str
    admin_up: bool
    oper_up: bool
    addresses: tuple[str, ...]  # without prefix length, as the device prints them


@dataclass(frozen=True, slots=True)
class AccessPoint:
    name: str
    mac: str  # lower case, colon separated
    model: str
    state: ApState
    ip: str = ""
    clients: int | None = None
    uptime_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class LldpNeighbor:
    local_port: str
    remote_chassis: str
    remote_port: str
    remote_sys_name: str
