"""The `dualstack` poller: ICMP, TCP, DNS and HTTP(S) over IPv4 and IPv6 in one cycle.

One plugin with a list of probers rather than one plugin per probe type: the IPv6 regression
signal needs every probe of a target, both families, from the same cycle, and one shared ICMP
socket per family serves all targets of the instance. Each probe can still be switched off.
Items per target: `ProbeResult`s tagged `family` (→ `probe_icmp|tcp|dns|http`) and one
`probe_ipv6_regression` metric when both families are probed.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.model import Item
from agent.plugin import BuildContext, PluginKind, PluginSpec, Target
from probes.common import is_ip
from probes.dualstack.config import SERVICE_PORTS, DualStackConfig
from probes.dualstack.engine import Engine, Plan


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


class DualStackPoller:
    def __init__(self, cfg: DualStackConfig) -> None:
        self.cfg = cfg
        self.engine: Engine | None = None

    async def start(self) -> None:
        if self.engine is None:
            self.engine = Engine(self.cfg)

    async def poll(self, target: Target) -> Sequence[Item]:
        await self.start()
        assert self.engine is not None
        report = await self.engine.run(plan_for(target, self.cfg))
        items: list[Item] = list(report.results)
        if report.regression is not None:
            items.append(report.regression.metric())
        return items

    async def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None


def build(cfg: DualStackConfig, ctx: BuildContext) -> DualStackPoller:
    return DualStackPoller(cfg)


SPEC = PluginSpec(
    name="dualstack", kind=PluginKind.POLLER, config_model=DualStackConfig, build=build,
    description="ICMP, TCP, DNS, HTTP(S) probes over IPv4 and IPv6 with an IPv6 regression "
                "signal",
    example={"type": "dualstack", "interval_secs": 60,
             "targets": {"inventory": False, "static": [
                 {"id": "campus-portal", "hostname": "www.example.edu.cn", "port": 443}]}},
    default_targets="inventory",
)
