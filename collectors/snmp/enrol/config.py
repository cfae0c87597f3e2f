"""Settings of an enrolment scan: what to sweep, what the crawl may enter, how fast.

The same model configures the scheduled `enrolment` plugin and `campusmon enrol` (which takes
it from the config's `enrolment` input when there is one, else the defaults below).
"""

from __future__ import annotations

import ipaddress
import re

from pydantic import Field, field_validator

from config.base import StrictModel

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# sysLocation "building/room" (what the simulated campus and many admins write)
DEFAULT_LOCATION_PATTERNS = (r"^\s*(?P<building>[\w.\-]+)\s*/\s*(?P<room>[\w.\-]*)\s*$",)


def parse_network(text: str) -> Network:
    """`10.0.0.0/24`, `2001:db8::/64`, or a bare address (a /32 or /128)."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f"not an IPv4/IPv6 prefix or address: {text!r}") from None


class EnrolConfig(StrictModel):
    subnets: list[str] = Field(default_factory=list)  # swept on every run (the plugin)
    # prefixes a sweep and the LLDP crawl may enter; empty = the subnets swept
    allow: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)  # never probed, even when allowed
    # credential sets tried in order per address; empty = every SNMP set of the config,
    # SNMPv3 ones first (in config order), then v2c
    credentials: list[str] = Field(default_factory=list)
    seeds: list[str] = Field(default_factory=list)  # addresses or inventory ids to crawl from
    port: int = Field(default=161, ge=1, le=65535)
    icmp: bool = True  # also ping every address (a device that pings but refuses SNMP is told)
    crawl: bool = True  # follow LLDP management addresses of every device found
    # SNMP requests of the sweep per second (each credential tried is one request); ICMP
    # echoes go at the same pace
    rate_per_sec: float = Field(default=50.0, gt=0, le=10_000)
    parallel_probes: int = Field(default=16, ge=1, le=256)
    max_addresses: int = Field(default=4096, ge=1, le=1_048_576)
    deadline_secs: float = Field(default=300.0, gt=0, le=86_400)  # the whole scan
    request_timeout_secs: float = Field(default=1.0, gt=0, le=30)
    retries: int = Field(default=0, ge=0, le=3)
    # regexes over sysLocation with named groups `building` and/or `room` (inventory ids)
    location_patterns: list[str] = Field(
        default_factory=lambda: list(DEFAULT_LOCATION_PATTERNS))

    @field_validator("subnets", "allow", "exclude")
    @classmethod
    def _prefixes(cls, v: list[str]) -> list[str]:
        for text in v:
            parse_network(text)
        return v

    @field_validator("location_patterns")
    @classmethod
    def _patterns(cls, v: list[str]) -> list[str]:
        for p in v:
            try:
                rx = re.compile(p)
            except re.error as exc:
                raise ValueError(f"location pattern {p!r}: {exc}") from None
            if not {"building", "room"} & set(rx.groupindex):
                raise ValueError(f"location pattern {p!r} has no (?P<building>…) or "
                                 "(?P<room>…) group")
        return v
