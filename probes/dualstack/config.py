"""Configuration of the dual-stack probe plugin (framework keys are handled elsewhere)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from config.base import StrictModel
from config.models import AddressFamily
from probes.icmp import IcmpMode

# inventory `services` → the TCP port to connect to
SERVICE_PORTS: dict[str, int] = {"ssh": 22, "telnet": 23, "dns": 53, "http": 80, "https": 443,
                                 "rdp": 3389, "mqtt": 1883, "rtsp": 554, "ldap": 389}


class IcmpOptions(StrictModel):
    enabled: bool = True
    count: int = Field(default=3, ge=1, le=50)  # echoes per burst
    interval_secs: float = Field(default=0.1, ge=0.0, le=5.0)
    timeout_secs: float = Field(default=1.0, gt=0, le=30)  # wait after the last echo
    socket: IcmpMode = IcmpMode.AUTO


class TcpOptions(StrictModel):
    enabled: bool = True
    ports: list[int] = Field(default_factory=list)  # added to the ports of the target's services
    timeout_secs: float = Field(default=2.0, gt=0, le=30)


QType = Literal["A", "AAAA", "NS"]
Transport = Literal["udp", "tcp"]


def _qtypes() -> list[QType]:
    return ["A", "AAAA", "NS"]


def _transports() -> list[Transport]:
    return ["udp", "tcp"]


class DnsOptions(StrictModel):
    """Targets offering the `dns` service (or with port 53) are resolvers to probe: every
    name × qtype × transport over each family; success = rcode NOERROR."""

    enabled: bool = True
    names: list[str] = Field(default_factory=lambda: ["."])
    qtypes: list[QType] = Field(default_factory=_qtypes)
    transports: list[Transport] = Field(default_factory=_transports)
    timeout_secs: float = Field(default=2.0, gt=0, le=30)


class HttpOptions(StrictModel):
    """Targets offering `http`/`https` (or port 80/443) get GET <scheme>://<host>/<path>."""

    enabled: bool = True
    path: str = "/"
    urls: dict[str, str] = Field(default_factory=dict)  # target id → full URL (overrides)
    verify_tls: bool = True
    max_redirects: int = Field(default=5, ge=0, le=20)
    timeout_secs: float = Field(default=5.0, gt=0, le=60)


class RegressionOptions(StrictModel):
    slow_ratio: float = Field(default=2.0, gt=1.0)  # IPv6 latency / IPv4 latency
    slow_min_secs: float = Field(default=0.02, ge=0.0)  # and at least this much slower


class DualStackConfig(StrictModel):
    family: AddressFamily = AddressFamily.BOTH
    resolvers: list[str] = Field(default_factory=list)  # for target names; empty: resolv.conf
    icmp: IcmpOptions = IcmpOptions()
    tcp: TcpOptions = TcpOptions()
    dns: DnsOptions = DnsOptions()
    http: HttpOptions = HttpOptions()
    regression: RegressionOptions = RegressionOptions()
