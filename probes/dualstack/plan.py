"""What to probe on one target: a `Plan`, from an inventory device, a static target or the
command line. Inventory `services` (or a static target's port) decide the probes."""

from __future__ import annotations

from dataclasses import dataclass

from agent.core.plugin import Target
from probes.common import is_ip
from probes.dualstack.config import SERVICE_PORTS, DualStackConfig


@dataclass(frozen=True, slots=True)
class Plan:
    target: str
    hostname: str | None = None
    ipv4: str | None = None
    ipv6: str | None = None
    icmp: bool = True
    tcp_ports: tuple[int, ...] = ()
    dns_names: tuple[str, ...] = ()  # non-empty: the target is a resolver to probe
    urls: tuple[str, ...] = ()


def plan_for(target: Target, cfg: DualStackConfig) -> Plan:
    """What to probe on a target: inventory `services` (or a static target's port) decide."""
    services = set(target.device.services) if target.device is not None else set()
    port = target.port
    if port == 53:
        services.add("dns")
    elif port == 443:
        services.add("https")
    elif port == 80:
        services.add("http")
    ports = {SERVICE_PORTS[s] for s in services if s in SERVICE_PORTS}
    ports.update(cfg.tcp.ports)
    if port is not None:
        ports.add(port)
    host = target.hostname
    ipv4, ipv6 = target.ipv4, target.ipv6
    if host and is_ip(host):
        if ":" in host:
            ipv6 = ipv6 or host
        else:
            ipv4 = ipv4 or host
        host = None
    urls: list[str] = []
    if target.id in cfg.http.urls:
        urls.append(cfg.http.urls[target.id])
    else:
        name = host or ipv4 or (f"[{ipv6}]" if ipv6 else None)
        for scheme in ("http", "https"):
            if scheme in services and name:
                default = 80 if scheme == "http" else 443
                suffix = f":{port}" if port not in (None, default) and len(services) == 1 else ""
                urls.append(f"{scheme}://{name}{suffix}{cfg.http.path}")
    return Plan(target=target.id, hostname=host, ipv4=ipv4, ipv6=ipv6, icmp=True,
                tcp_ports=tuple(sorted(ports)),
                dns_names=tuple(cfg.dns.names) if "dns" in services else (),
                urls=tuple(urls))
