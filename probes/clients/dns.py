"""dnspython, wrapped: the only module that imports it.

Queries go to an explicit resolver address over UDP or TCP, so the probe knows which family and
transport it measured. dnspython's exceptions become `ProbeFailure`s with a typed `ErrorType`:
a malformed answer is PARSE, a timeout TIMEOUT, an error rcode DNS.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver

from agent.core.model import ErrorType
from probes.common import ProbeFailure, describe, error_type_of

QTYPES = ("A", "AAAA", "NS")


@dataclass(frozen=True, slots=True)
class DnsAnswer:
    rcode: str
    answers: tuple[str, ...]  # rdata text of the records of the asked type
    duration_s: float


def system_resolvers() -> list[str]:
    """Nameservers of /etc/resolv.conf (empty when it cannot be read)."""
    try:
        res = dns.resolver.Resolver(configure=True)
    except (dns.exception.DNSException, OSError):
        return []
    return [str(ns) for ns in res.nameservers]


async def query(name: str, qtype: str, server: str, *, transport: str = "udp",
                port: int = 53, timeout_s: float = 2.0) -> DnsAnswer:
    """One query to one server; raises ProbeFailure. NXDOMAIN/NODATA are answers, not errors."""
    try:
        q = dns.message.make_query(name, dns.rdatatype.from_text(qtype))
    except dns.exception.DNSException as exc:
        raise ProbeFailure(ErrorType.PARSE, f"bad query {name} {qtype}: {describe(exc)}") from None
    t0 = time.perf_counter()
    try:
        if transport == "tcp":
            resp = await dns.asyncquery.tcp(q, server, timeout=timeout_s, port=port)
        else:
            resp = await dns.asyncquery.udp(q, server, timeout=timeout_s, port=port,
                                            ignore_unexpected=True)
    except dns.exception.Timeout:
        raise ProbeFailure(ErrorType.TIMEOUT, f"{server} gave no answer in {timeout_s}s") from None
    except (dns.message.Truncated, dns.query.BadResponse) as exc:
        raise ProbeFailure(ErrorType.PROTOCOL, describe(exc)) from None
    except dns.exception.DNSException as exc:  # FormError, malformed wire data, …
        raise ProbeFailure(ErrorType.PARSE, f"malformed answer: {describe(exc)}") from None
    except (OSError, EOFError) as exc:
        et = error_type_of(exc) if isinstance(exc, OSError) else ErrorType.PROTOCOL
        raise ProbeFailure(et, describe(exc)) from None
    elapsed = time.perf_counter() - t0
    rdtype = dns.rdatatype.from_text(qtype)
    answers: list[str] = []
    for rrset in resp.answer:
        if rrset.rdtype == rdtype:
            answers.extend(r.to_text() for r in rrset)
    return DnsAnswer(dns.rcode.to_text(resp.rcode()), tuple(answers), elapsed)


async def lookup(name: str, qtype: str, servers: list[str], *, timeout_s: float = 2.0,
                 transport: str = "udp") -> DnsAnswer:
    """Ask each server in turn until one answers (a resolver's job, reduced to what we need).
    An error rcode other than NXDOMAIN is a failure; NXDOMAIN is an empty answer."""
    if not servers:
        raise ProbeFailure(ErrorType.DNS, "no resolver configured and none in /etc/resolv.conf")
    last: ProbeFailure | None = None
    for server in servers:
        try:
            ans = await query(name, qtype, server, timeout_s=timeout_s, transport=transport)
        except ProbeFailure as exc:
            last = exc
            continue
        if ans.rcode in ("NOERROR", "NXDOMAIN"):
            return ans
        last = ProbeFailure(ErrorType.DNS, f"{server}: {ans.rcode} for {name} {qtype}")
    assert last is not None
    raise last


def parent_names(name: str) -> list[str]:
    """www.a.edu.cn → [www.a.edu.cn, a.edu.cn, edu.cn, cn]: where to look for NS records."""
    try:
        labels = dns.name.from_text(name).labels
    except dns.exception.DNSException:
        return []
    out = []
    for i in range(len(labels) - 1):  # the last label is the root
        out.append(b".".join(labels[i:-1]).decode("ascii", "replace"))
    return out
