"""One tick's ICMP targets go out as one burst (Pinger.ping_batched), through the dualstack
poller's real path (scheduler → poller → engine → pinger). Targets: 127.0.0.0/8 addresses,
which the loopback interface answers; no namespace needed, but an ICMP socket is (skips with
the reason when neither an unprivileged datagram socket nor a raw socket may open)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from agent.core.model import Item, ProbeResult
from agent.core.plugin import Capability, Target
from agent.framework.scheduler import PollerRunner, PollerTiming, PollOutcome
from agent.framework.telemetry import PluginStats
from probes.common import Family
from probes.dualstack.config import DualStackConfig
from probes.dualstack.plugin import SPEC, DualStackPoller
from probes.icmp import IcmpUnavailable, Pinger
from tests.servers import unavailable


def _require_icmp() -> None:
    async def probe() -> None:
        p = Pinger()
        try:
            p.socket_for(Family.IPV4)
        finally:
            p.close()
    try:
        asyncio.run(probe())
    except IcmpUnavailable as exc:
        unavailable(f"no ICMP socket here: {exc}")


def test_concurrent_pings_share_one_burst_and_keep_their_own_results() -> None:
    _require_icmp()

    async def go() -> tuple[int, list[tuple[int, int, bool]], bool]:
        p = Pinger()
        try:
            addrs = [f"127.0.0.{i}" for i in range(1, 41)]
            stats = await asyncio.gather(*(p.ping_batched(a, count=2, interval_s=0.01,
                                                          timeout_s=1.0) for a in addrs))
            # another shape (count) is another burst; a lone request still works
            lone = await p.ping_batched("127.0.0.1", count=1, timeout_s=1.0)
            return (p.bursts_sent, [(s.sent, s.received, s.ok) for s in stats], lone.ok)
        finally:
            p.close()
    bursts, rows, lone_ok = asyncio.run(go())
    assert bursts == 2
    assert rows == [(2, 2, True)] * 40
    assert lone_ok


def test_a_cancelled_waiter_leaves_the_burst_to_the_others() -> None:
    _require_icmp()

    async def go() -> tuple[bool, bool]:
        p = Pinger()
        try:
            a = asyncio.ensure_future(p.ping_batched("127.0.0.2", count=1, timeout_s=1.0))
            b = asyncio.ensure_future(p.ping_batched("127.0.0.3", count=1, timeout_s=1.0))
            await asyncio.sleep(0)
            a.cancel()
            st = await b
            return a.cancelled(), st.ok
        finally:
            p.close()
    assert asyncio.run(go()) == (True, True)


def test_dualstack_poller_sends_one_tick_as_one_burst() -> None:
    """The path the agent runs: one scheduler tick of 30 targets → one ICMP burst, and every
    target gets its own probe_icmp result."""
    _require_icmp()
    cfg = DualStackConfig.model_validate(
        {"family": "ipv4", "icmp": {"count": 1, "timeout_secs": 1.0},
         "tcp": {"enabled": False}, "dns": {"enabled": False}, "http": {"enabled": False}})
    targets = [Target(id=f"t{i}", ipv4=f"127.0.1.{i}") for i in range(1, 31)]
    got: list[ProbeResult] = []

    def sink(items: Sequence[Item], target: Target | None, outcome: PollOutcome | None) -> None:
        got.extend(i for i in items if isinstance(i, ProbeResult))

    async def go() -> int:
        poller = DualStackPoller(cfg)
        runner = PollerRunner("dualstack", poller, targets, PollerTiming(60, 10, 0),
                              asyncio.Semaphore(1000), asyncio.Semaphore(1000), sink,
                              PluginStats("dualstack", "dualstack"))
        try:
            await runner.run_once()
            assert poller.engine is not None
            return poller.engine.pinger.bursts_sent
        finally:
            await poller.close()
    assert asyncio.run(go()) == 1
    assert sorted(r.tags["address"] for r in got) == sorted(t.ipv4 or "" for t in targets)
    assert all(r.probe == "icmp" and r.ok for r in got)


def test_dualstack_tick_as_the_agent_builds_it_is_one_poll_many() -> None:
    """The spec declares BATCH_POLLS, so the runtime's runner calls `poll_many` once per
    tick: one burst (`Pinger.ping_many`), a result and an ok outcome per target."""
    _require_icmp()
    assert Capability.BATCH_POLLS in SPEC.capabilities
    cfg = DualStackConfig.model_validate(
        {"family": "ipv4", "icmp": {"count": 2, "interval_secs": 0.01, "timeout_secs": 1.0},
         "tcp": {"enabled": False}, "dns": {"enabled": False}, "http": {"enabled": False}})
    targets = [Target(id=f"t{i}", ipv4=f"127.0.2.{i}") for i in range(1, 41)]
    got: list[ProbeResult] = []
    outcomes: list[PollOutcome] = []

    def sink(items: Sequence[Item], target: Target | None, outcome: PollOutcome | None) -> None:
        assert outcome is not None
        outcomes.append(outcome)
        got.extend(i for i in items if isinstance(i, ProbeResult))

    async def go() -> int:
        poller = DualStackPoller(cfg)
        runner = PollerRunner("dualstack", poller, targets, PollerTiming(60, 10, 0),
                              asyncio.Semaphore(256), asyncio.Semaphore(256), sink,
                              PluginStats("dualstack", "dualstack"),
                              batched=Capability.BATCH_POLLS in SPEC.capabilities)
        try:
            await runner.run_once()
            assert poller.engine is not None
            return poller.engine.pinger.bursts_sent
        finally:
            await poller.close()
    assert asyncio.run(go()) == 1
    assert sorted(r.tags["address"] for r in got) == sorted(t.ipv4 or "" for t in targets)
    assert all(r.probe == "icmp" and r.ok and r.values["loss_ratio"] == 0.0 for r in got)
    assert sorted(o.target.id for o in outcomes if o.ok) == sorted(t.id for t in targets)
