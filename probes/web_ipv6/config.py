"""Options of the website IPv6-support test (shared by the poller and `campusmon ipv6-check`)."""

from __future__ import annotations

from pydantic import Field

from config.base import StrictModel


class WebIpv6Options(StrictModel):
    """Thresholds the platform does not publish are configurable; defaults are ours."""

    resolvers: list[str] = Field(default_factory=list)  # empty: /etc/resolv.conf
    tries: int = Field(default=5, ge=1, le=50)  # homepage fetches per family
    try_interval_secs: float = Field(default=0.2, ge=0, le=10)
    min_success_ratio: float = Field(default=0.9, ge=0, le=1)
    min_similarity: float = Field(default=0.98, ge=0, le=1)
    min_link_ratio: float = Field(default=0.9, ge=0, le=1)
    max_links_per_level: int = Field(default=20, ge=1, le=500)
    max_latency_ratio: float = Field(default=1.5, ge=1)
    latency_slack_secs: float = Field(default=0.02, ge=0)  # never "slower" below this gap
    timeout_secs: float = Field(default=5.0, gt=0, le=60)  # per fetch
    dns_timeout_secs: float = Field(default=2.0, gt=0, le=30)
    verify_tls: bool = True
    concurrency: int = Field(default=8, ge=1, le=64)  # link fetches in flight
