"""Run without root: the probes that need privileges say why, the others still run.

How: the pytest process (root) forks; the child joins the lab's client namespace, finishes its
imports (`prepare`), then drops to uid/gid 65534 (nobody) with setresuid/setresgid and no
supplementary groups, and only then runs the probes. Running `runuser -u nobody -- campusmon`
would not work here because nobody cannot read the venv's interpreter under /root/.pyenv; the
fork keeps the already-loaded interpreter and tests exactly the unprivileged socket calls.
ICMP's outcome depends on `net.ipv4.ping_group_range` of the namespace, set per test.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from probes.dualstack.plan import Plan
from tests.probes.conftest import ZONE, DualStackLab
from tests.probes.test_dualstack import _probes, _run

pytestmark = [pytest.mark.root, pytest.mark.timeout(120)]

NOBODY = 65534


def _warm_up() -> None:
    """Load lazily imported modules while the child can still read them."""
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype

    for rtype, text in (("A", "10.0.0.1"), ("AAAA", "::1"), ("NS", "ns.example.")):
        dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rtype), text)
    import probes.discovery.client  # noqa: F401  (scapy)


def _probe_as_nobody() -> dict[str, Any]:
    assert os.geteuid() == NOBODY and os.getegid() == NOBODY
    return _run(Plan("both", hostname=f"both.{ZONE}", tcp_ports=(80,)))


def test_icmp_says_why_and_tcp_still_runs(dslab: DualStackLab) -> None:
    dslab.lab.sysctl(dslab.client, "net.ipv4.ping_group_range", "1 0")  # nobody excluded
    rep = dslab.run(_probe_as_nobody, uid=NOBODY, prepare=_warm_up)
    for fam in ("ipv4", "ipv6"):
        [icmp] = _probes(rep, fam, "icmp")
        assert not icmp["ok"] and icmp["error_type"] == "permission"
        assert "ping_group_range" in icmp["detail"] and "CAP_NET_RAW" in icmp["detail"]
        [tcp] = _probes(rep, fam, "tcp")
        assert tcp["ok"], tcp
    # DNS resolution of the name worked unprivileged too
    assert rep["families"]["ipv6"]["address"] == "fd00:99:1::2"
    # a probe that cannot run is not an IPv6 regression
    assert rep["ipv6_regression"]["reason"] == "none"


def test_icmp_runs_unprivileged_when_ping_group_range_allows(dslab: DualStackLab) -> None:
    dslab.lab.sysctl(dslab.client, "net.ipv4.ping_group_range", f"{NOBODY} {NOBODY}")
    try:
        rep = dslab.run(_probe_as_nobody, uid=NOBODY, prepare=_warm_up)
    finally:
        dslab.lab.sysctl(dslab.client, "net.ipv4.ping_group_range", "1 0")
    for fam in ("ipv4", "ipv6"):
        [icmp] = _probes(rep, fam, "icmp")
        assert icmp["ok"] and icmp["fields"]["loss_ratio"] == 0.0, icmp


def _discover_as_nobody() -> dict[str, Any]:
    from inventory.models import Inventory
    from probes.discovery.plugin import DiscoveryConfig, discover_once

    cfg = DiscoveryConfig(interfaces=["c1"], listen_secs=0.1)
    return asyncio.run(discover_once("c1", cfg, Inventory.empty()))


def test_discovery_without_cap_net_raw_reports_permission(dslab: DualStackLab) -> None:
    doc = dslab.run(_discover_as_nobody, uid=NOBODY, prepare=_warm_up)
    assert doc["error_type"] == "permission"
    assert "CAP_NET_RAW" in doc["detail"]
