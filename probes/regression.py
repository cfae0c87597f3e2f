"""The per-target IPv6 regression signal: IPv4 works while IPv6 does not, or much worse.

Pure function of one cycle's results so it is easy to test and to reuse (CLI, plugin).
Reasons, in order of precedence:
- `no_aaaa`: the name has an A record but no AAAA;
- `aaaa_dead`: the AAAA exists but nothing answers there while the A address works;
- `ipv6_failed`: some probe works over IPv4 and fails over IPv6;
- `ipv6_slow`: a probe works on both but IPv6 takes `slow_ratio`× IPv4 and `slow_min_secs` more;
- `none`.
Nothing is flagged when IPv4 fails too: that is an outage, not an IPv6 regression.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agent.core.model import Metric, ProbeResult

# the latency field that stands for each probe when comparing the two families
_LATENCY = {"icmp": "rtt_avg_seconds", "tcp": "connect_seconds", "http": "first_byte_seconds",
            "dns": None}


@dataclass(frozen=True, slots=True)
class Regression:
    reason: str
    detail: str = ""

    @property
    def regression(self) -> int:
        return 0 if self.reason == "none" else 1

    def metric(self) -> Metric:
        return Metric("probe_ipv6_regression", {"reason": self.reason},
                      {"regression": self.regression})

    def to_json(self) -> dict[str, object]:
        return {"regression": self.regression, "reason": self.reason, "detail": self.detail}


def _key(r: ProbeResult) -> tuple[str, ...]:
    """What makes a v4 result comparable with a v6 one: same probe and parameters."""
    return (r.probe, *(f"{k}={v}" for k, v in sorted(r.tags.items())
                       if k not in ("family", "address", "error_type")))


def _latency(r: ProbeResult) -> float | None:
    field_name = _LATENCY.get(r.probe)
    if field_name is None:
        return r.duration_s if r.probe != "dns" else None
    if field_name.endswith("_seconds") and field_name[:-8] in r.phases:
        return r.phases[field_name[:-8]]
    v = r.values.get(field_name)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def assess(results: Sequence[ProbeResult], *, has_a: bool | None, has_aaaa: bool | None,
           slow_ratio: float, slow_min_secs: float) -> Regression:
    """`has_a`/`has_aaaa`: None when the target is an address, not a name."""
    v4 = {_key(r): r for r in results if r.tags.get("family") == "ipv4"}
    v6 = {_key(r): r for r in results if r.tags.get("family") == "ipv6"}
    v4_ok = [k for k, r in v4.items() if r.ok]
    if not v4_ok:
        return Regression("none", "IPv4 does not work either (outage, not an IPv6 regression)"
                          if v4 else "no IPv4 results to compare with")
    if has_a and has_aaaa is False:
        return Regression("no_aaaa", "the name has an A record but no AAAA")
    if has_aaaa and v6 and not any(r.ok for r in v6.values()):
        return Regression("aaaa_dead", "nothing answers at the AAAA address; IPv4 works")
    failed = [k for k in v4_ok if k in v6 and not v6[k].ok]
    if failed:
        names = ", ".join(" ".join(k) for k in failed[:3])
        return Regression("ipv6_failed", f"works over IPv4, fails over IPv6: {names}")
    for k in v4_ok:
        if k not in v6 or not v6[k].ok:
            continue
        a, b = _latency(v4[k]), _latency(v6[k])
        if a is None or b is None:
            continue
        if b > slow_ratio * a and b - a > slow_min_secs:
            return Regression("ipv6_slow", f"{' '.join(k)}: IPv6 {b * 1000:.1f} ms vs "
                              f"IPv4 {a * 1000:.1f} ms")
    return Regression("none")
