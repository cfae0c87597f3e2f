"""Name → address per family through explicit resolvers (config, else /etc/resolv.conf).

The probes do not use getaddrinfo: it hides which family answered, merges A and AAAA, and may
be served by nscd or a hosts file; an IPv6 audit has to see the DNS answers themselves.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.core.model import ErrorType
from probes.clients import dns as dnsclient
from probes.common import Family, ProbeFailure, is_ip, normalise_ip


class Resolver:
    def __init__(self, servers: Sequence[str] = (), timeout_s: float = 2.0) -> None:
        self.servers = list(servers) or dnsclient.system_resolvers()
        self.timeout_s = timeout_s

    async def lookup(self, name: str, family: Family) -> list[str]:
        """Addresses of `name` in `family` (empty: the name has no such record)."""
        qtype = "A" if family is Family.IPV4 else "AAAA"
        ans = await dnsclient.lookup(name, qtype, self.servers, timeout_s=self.timeout_s)
        return [normalise_ip(a) for a in ans.answers if is_ip(a)]

    async def resolve(self, name: str, family: Family) -> str:
        addrs = await self.lookup(name, family)
        if not addrs:
            rtype = "A" if family is Family.IPV4 else "AAAA"
            raise ProbeFailure(ErrorType.DNS, f"no {rtype} record for {name}")
        return addrs[0]

    async def nameservers(self, name: str) -> tuple[str, list[str]]:
        """The zone holding `name` (closest enclosing name with NS records) and its NS names."""
        for zone in dnsclient.parent_names(name):
            ans = await dnsclient.lookup(zone, "NS", self.servers, timeout_s=self.timeout_s)
            if ans.answers:
                return zone, [a.rstrip(".") for a in ans.answers]
        return "", []
