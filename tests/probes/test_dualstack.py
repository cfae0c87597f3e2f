"""Dual-stack probes against real servers in namespaces (see conftest.py for the lab)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from typing import Any

import pytest

from agent.core.model import Item, Metric, ProbeResult
from agent.core.plugin import Target
from probes.dualstack.config import DualStackConfig
from probes.dualstack.engine import Engine
from probes.dualstack.plan import Plan
from probes.dualstack.plugin import DualStackPoller
from tests.probes.conftest import (
    RESOLVER4,
    RESOLVER6,
    SLOW_V6_PORT,
    V6ONLY_TCP_PORT,
    ZONE,
    DualStackLab,
)

pytestmark = [pytest.mark.root, pytest.mark.timeout(120)]

# short bursts; generous timeouts and a 0.25 s floor for "much slower", so a loaded CI machine
# does not turn scheduling noise into failures or false ipv6_slow signals
FAST = {"resolvers": [RESOLVER4], "icmp": {"count": 3, "interval_secs": 0.02,
                                           "timeout_secs": 1.0},
        "tcp": {"timeout_secs": 2.0}, "http": {"timeout_secs": 3.0},
        "dns": {"timeout_secs": 2.0}, "regression": {"slow_min_secs": 0.25}}


def _run(plan: Plan, cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        eng = Engine(DualStackConfig.model_validate({**FAST, **(cfg or {})}))
        try:
            return (await eng.run(plan)).to_json()
        finally:
            eng.close()
    return asyncio.run(go())


def _probes(rep: dict[str, Any], family: str, probe: str) -> list[dict[str, Any]]:
    fam = rep["families"].get(family) or {"probes": []}
    return [p for p in fam["probes"] if p["probe"] == probe]


def test_target_up_on_both_families(dslab: DualStackLab) -> None:
    rep = dslab.run(_run, Plan("both", hostname=f"both.{ZONE}", tcp_ports=(80,),
                               urls=(f"http://both.{ZONE}/",)))
    for fam, addr in (("ipv4", "10.99.1.2"), ("ipv6", "fd00:99:1::2")):
        assert rep["families"][fam]["address"] == addr
        for probe in ("icmp", "tcp", "http"):
            [p] = _probes(rep, fam, probe)
            assert p["ok"], (fam, probe, p)
            assert p["tags"]["family"] == fam
        icmp = _probes(rep, fam, "icmp")[0]["fields"]
        assert icmp["loss_ratio"] == 0.0
        assert icmp["rtt_min_seconds"] <= icmp["rtt_avg_seconds"] <= icmp["rtt_max_seconds"]
        assert "jitter_seconds" in icmp
        http = _probes(rep, fam, "http")[0]["fields"]
        assert http["status_code"] == 200
        for phase in ("connect", "first_byte", "transfer"):
            assert http[f"{phase}_seconds"] >= 0
    assert rep["ipv6_regression"]["reason"] == "none"
    assert rep["ipv6_regression"]["regression"] == 0


def test_ipv6_dropped_gives_regression(dslab: DualStackLab) -> None:
    rep = dslab.run(_run, Plan("dropped", ipv4="10.99.2.2", ipv6="fd00:99:2::2",
                               tcp_ports=(80,)))
    assert all(p["ok"] for p in rep["families"]["ipv4"]["probes"])
    assert not any(p["ok"] for p in rep["families"]["ipv6"]["probes"])
    assert _probes(rep, "ipv6", "icmp")[0]["fields"]["loss_ratio"] == 1.0
    assert rep["ipv6_regression"] == {
        "regression": 1, "reason": "ipv6_failed",
        "detail": rep["ipv6_regression"]["detail"]}


def test_ipv6_much_slower_gives_regression(dslab: DualStackLab) -> None:
    rep = dslab.run(_run, Plan("slow", hostname=f"both.{ZONE}", icmp=False,
                               urls=(f"http://both.{ZONE}:{SLOW_V6_PORT}/",)))
    v4, v6 = _probes(rep, "ipv4", "http")[0], _probes(rep, "ipv6", "http")[0]
    assert v4["ok"] and v6["ok"]
    assert v6["fields"]["first_byte_seconds"] >= 0.3  # the server's deliberate delay
    assert rep["ipv6_regression"]["reason"] == "ipv6_slow"


def test_aaaa_only_name(dslab: DualStackLab) -> None:
    rep = dslab.run(_run, Plan("v6only", hostname=f"v6only.{ZONE}", tcp_ports=(80,)))
    assert rep["families"]["ipv4"]["address"] is None
    assert "no A record" in rep["families"]["ipv4"]["note"]
    assert rep["families"]["ipv6"]["address"] == "fd00:99:1::3"
    assert _probes(rep, "ipv6", "icmp")[0]["ok"]
    assert rep["families"]["ipv4"]["probes"] == []
    # no IPv4 to compare with: not an IPv6 regression
    assert rep["ipv6_regression"]["regression"] == 0


def test_no_aaaa_and_dead_aaaa(dslab: DualStackLab) -> None:
    rep = dslab.run(_run, Plan("v4only", hostname=f"v4only.{ZONE}"))
    assert rep["ipv6_regression"]["reason"] == "no_aaaa"
    rep = dslab.run(_run, Plan("deadv6", hostname=f"deadv6.{ZONE}", tcp_ports=(80,)))
    assert rep["families"]["ipv6"]["address"] == "fd00:99:1::99"
    assert rep["ipv6_regression"]["reason"] == "aaaa_dead"


def test_tcp_service_listening_on_ipv6_only(dslab: DualStackLab) -> None:
    rep = dslab.run(_run, Plan("both", hostname=f"both.{ZONE}",
                               tcp_ports=(V6ONLY_TCP_PORT,)), {"icmp": {"enabled": False}})
    [v4] = _probes(rep, "ipv4", "tcp")
    [v6] = _probes(rep, "ipv6", "tcp")
    assert not v4["ok"] and v4["error_type"] == "refused"
    assert v6["ok"] and v6["fields"]["connect_seconds"] > 0
    assert rep["ipv6_regression"]["reason"] == "none"  # v4 fails: not an IPv6 regression


def test_dns_server_answers_a_aaaa_ns_over_both_families(dslab: DualStackLab) -> None:
    rep = dslab.run(_run, Plan("resolver", ipv4=RESOLVER4, ipv6=RESOLVER6, icmp=False,
                               dns_names=(f"both.{ZONE}", ZONE, f"nxdomain.{ZONE}")))
    seen = {}
    for fam in ("ipv4", "ipv6"):
        for p in _probes(rep, fam, "dns"):
            t = p["tags"]
            seen[(fam, t["transport"], t["qtype"], t["name"])] = p
    for fam in ("ipv4", "ipv6"):
        for transport in ("udp", "tcp"):
            a = seen[(fam, transport, "A", f"both.{ZONE}")]
            aaaa = seen[(fam, transport, "AAAA", f"both.{ZONE}")]
            ns = seen[(fam, transport, "NS", ZONE)]
            assert a["ok"] and a["fields"]["answers"] == 1
            assert aaaa["ok"] and aaaa["fields"]["answers"] == 1
            assert ns["ok"] and ns["fields"]["answers"] == 1
            # NS of a host name: NODATA — the resolver works, no records
            nodata = seen[(fam, transport, "NS", f"both.{ZONE}")]
            assert nodata["ok"] and nodata["fields"]["answers"] == 0
            nx = seen[(fam, transport, "A", f"nxdomain.{ZONE}")]
            assert not nx["ok"] and nx["error_type"] == "dns" and "NXDOMAIN" in nx["detail"]


def _poll_plugin(target: Target) -> list[tuple[str, dict[str, str], dict[str, Any]]]:
    async def go() -> list[tuple[str, dict[str, str], dict[str, Any]]]:
        poller = DualStackPoller(DualStackConfig.model_validate(FAST))
        await poller.start()
        try:
            items = await poller.poll(target)
        finally:
            await poller.close()
        out = []
        for it in items:
            m = it.to_metric() if isinstance(it, ProbeResult) else it
            assert isinstance(m, Metric) and m.name.startswith("probe_")
            out.append((m.name, dict(m.tags), dict(m.fields)))
        return out
    return asyncio.run(go())


def test_plugin_emits_paired_probe_metrics(dslab: DualStackLab) -> None:
    target = Target(id="portal", hostname=f"www.{ZONE}", port=80)
    rows = dslab.run(_poll_plugin, target)
    names = {(n, t.get("family")) for n, t, _ in rows}
    for probe in ("probe_icmp", "probe_tcp", "probe_http"):
        assert (probe, "ipv4") in names and (probe, "ipv6") in names
    [reg] = [r for r in rows if r[0] == "probe_ipv6_regression"]
    assert reg[1] == {"reason": "none"} and reg[2] == {"regression": 0}


def _ping(address: str) -> tuple[bool, str, str]:
    async def go() -> tuple[bool, str, str]:
        from probes.icmp import Pinger
        p = Pinger()
        try:
            stats = await p.ping(address, count=2, interval_s=0.01, timeout_s=1.0)
        finally:
            p.close()
        return stats.ok, stats.detail, stats.error.value if stats.error else ""
    return asyncio.run(go())


def test_link_local_address_with_scope(dslab: DualStackLab) -> None:
    out = dslab.lab.exec(dslab.s1, "ip", "-6", "-o", "addr", "show", "dev", "s1", "scope",
                         "link")
    lladdr = out.split()[3].split("/")[0]
    ok, detail, _ = dslab.run(_ping, f"{lladdr}%c1")
    assert ok, detail


def test_no_route_is_unreachable_not_a_timeout(dslab: DualStackLab) -> None:
    """The client namespace has no default route: sendto fails, typed, no wait."""
    ok, detail, error = dslab.run(_ping, "10.99.77.1")
    assert not ok and error == "unreachable", detail


Row = tuple[str, tuple[tuple[str, str], ...], int]


def _batch_vs_single(targets: list[Target]) -> tuple[list[list[Row]], list[list[Row]], int]:
    """Each target's (measurement, tags, success) through `poll_many` (the tick's path) and
    through `poll` (one target), and how many ICMP bursts the batch sent."""
    def rows(items: Sequence[Item]) -> list[Row]:
        out = []
        for it in items:
            m = it.to_metric() if isinstance(it, ProbeResult) else it
            assert isinstance(m, Metric)
            out.append((m.name, tuple(sorted(m.tags.items())), int(m.fields.get("success", -1))))
        return sorted(out)

    async def go() -> tuple[list[list[Row]], list[list[Row]], int]:
        poller = DualStackPoller(DualStackConfig.model_validate(FAST))
        await poller.start()
        assert poller.engine is not None
        got: dict[int, Sequence[Item] | BaseException] = {}
        try:
            def report(i: int, result: Sequence[Item] | BaseException) -> None:
                got.setdefault(i, result)
            await poller.poll_many(targets, report)
            bursts = poller.engine.pinger.bursts_sent
            single = [rows(await poller.poll(t)) for t in targets]
        finally:
            await poller.close()
        batch = []
        for i in range(len(targets)):
            r = got[i]
            assert not isinstance(r, BaseException), r
            batch.append(rows(r))
        return batch, single, bursts
    return asyncio.run(go())


def test_batched_tick_gives_each_target_what_a_single_poll_gives(dslab: DualStackLab) -> None:
    """poll_many (Capability.BATCH_POLLS: the scheduler's path) over names, literal addresses,
    a dropped IPv6, a TCP port and an unroutable address: per target the same measurements,
    tags and outcomes as `poll`, all ICMP of the tick in one burst."""
    targets = [Target(id="portal", hostname=f"www.{ZONE}", port=80),
               Target(id="both", hostname=f"both.{ZONE}"),
               Target(id="dropped", ipv4="10.99.2.2", ipv6="fd00:99:2::2"),
               Target(id="v6tcp", hostname=f"both.{ZONE}", port=V6ONLY_TCP_PORT),
               Target(id="noroute", ipv4="10.99.77.1")]
    batch, single, bursts = dslab.run(_batch_vs_single, targets)
    assert bursts == 1
    assert batch == single
    by_id = dict(zip((t.id for t in targets), batch, strict=True))
    assert ("probe_ipv6_regression", (("reason", "ipv6_failed"),), -1) in by_id["dropped"]
    assert ("probe_icmp", (("address", "10.99.1.2"), ("family", "ipv4")), 1) in by_id["both"]
    assert [r[2] for r in by_id["noroute"] if r[0] == "probe_icmp"] == [0]


def _slow_name_and_literal() -> tuple[list[int], dict[int, list[tuple[str, bool]]], int]:
    """poll_many over [a name only a silent resolver could answer, a literal address]: the
    order targets are reported in, each one's (probe, ok), and the ICMP bursts sent."""
    async def go() -> tuple[list[int], dict[int, list[tuple[str, bool]]], int]:
        # the resolver: a UDP socket bound in this namespace and never read, so the lookup
        # runs into its timeout (an unbound port would refuse at once)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as hole:
            hole.bind(("127.0.0.1", 53))
            cfg = {**FAST, "family": "ipv4", "resolvers": ["127.0.0.1"],
                   "dns": {"timeout_secs": 3.0}, "icmp": {"count": 1, "timeout_secs": 1.0}}
            poller = DualStackPoller(DualStackConfig.model_validate(cfg))
            await poller.start()
            assert poller.engine is not None
            order: list[int] = []
            got: dict[int, list[tuple[str, bool]]] = {}

            def report(i: int, result: Sequence[Item] | BaseException) -> None:
                assert not isinstance(result, BaseException), result
                order.append(i)
                got[i] = [(r.probe, r.ok) for r in result if isinstance(r, ProbeResult)]
            try:
                await poller.poll_many([Target(id="slow", hostname=f"both.{ZONE}"),
                                        Target(id="up", ipv4="10.99.1.2")], report)
                bursts = poller.engine.pinger.bursts_sent
            finally:
                await poller.close()
        return order, got, bursts
    return asyncio.run(go())


def test_batched_tick_slow_name_does_not_hold_back_the_burst(dslab: DualStackLab) -> None:
    """A name whose resolver does not answer is looked up while the tick's ICMP burst goes
    out without it: the literal target is pinged and reported first (before, every name was
    resolved before the burst, so the lookup's timeout delayed every target of the chunk)."""
    order, got, bursts = dslab.run(_slow_name_and_literal)
    assert order == [1, 0]
    assert got[1] == [("icmp", True)]
    assert got[0] == []  # lookup failed: no address, nothing to probe (as `poll` gives)
    assert bursts == 1


def _batch_vs_single_all_names_late(targets: list[Target]
                                    ) -> tuple[list[list[Row]], list[list[Row]], int]:
    from probes.dualstack import engine
    engine.RESOLVE_WAIT_S = 0.0  # in this forked child only: every name misses the burst
    return _batch_vs_single(targets)


def test_batched_tick_names_resolved_after_the_burst_give_what_poll_gives(
        dslab: DualStackLab) -> None:
    """Names that answer after the burst left (here: all of them) are probed as `run` probes
    them: per target the same measurements, tags and outcomes as `poll`."""
    targets = [Target(id="portal", hostname=f"www.{ZONE}", port=80),
               Target(id="both", hostname=f"both.{ZONE}"),
               Target(id="dropped", ipv4="10.99.2.2", ipv6="fd00:99:2::2"),
               Target(id="v6tcp", hostname=f"both.{ZONE}", port=V6ONLY_TCP_PORT)]
    batch, single, bursts = dslab.run(_batch_vs_single_all_names_late, targets)
    assert batch == single
    assert bursts >= 2  # the literal target's burst, then the late names' own
    by_id = dict(zip((t.id for t in targets), batch, strict=True))
    assert ("probe_icmp", (("address", "10.99.1.2"), ("family", "ipv4")), 1) in by_id["both"]
    assert ("probe_ipv6_regression", (("reason", "ipv6_failed"),), -1) in by_id["dropped"]
