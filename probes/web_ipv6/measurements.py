"""What the web_ipv6 poller writes (the catalogue, agent/core/catalogue.py)."""

from __future__ import annotations

from agent.core.catalogue import Measurement, gauge, state, tag

MEASUREMENTS: tuple[Measurement, ...] = (
    Measurement(
        "web_ipv6_support", "the national website IPv6-support test (ratios absent when "
        "nothing was measured); full result: JSON schema campusmon.web_ipv6/1",
        tags=(tag("site", "the site's host name"),),
        fields=(state("aaaa", "1 the site has an AAAA record"),
                state("homepage_ipv6", "1 the homepage loads over IPv6"),
                state("ns_ipv6", "1 a name server answers over IPv6"),
                state("content_consistent", "1 IPv6 and IPv4 pages agree"),
                state("pass", "1 every item passed"),
                gauge("success_ratio", "ratio", "IPv6 homepage loads that succeeded"),
                gauge("links_l2_ratio", "ratio", "second-level links reachable over IPv6"),
                gauge("links_l3_ratio", "ratio", "third-level links reachable over IPv6"),
                gauge("latency_ratio", "ratio", "IPv6/IPv4 median connect + first byte"),
                gauge("content_similarity", "ratio", "IPv6 vs IPv4 page similarity"))),
)
