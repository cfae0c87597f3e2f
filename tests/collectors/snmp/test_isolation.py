"""A dead device costs at most its own timeout and never delays the others in the tick.

200 targets through the real `PollerRunner` and `snmp` plugin: 199 point at the snmpsim
recordings server (several recordings, each target its own session), one at a loopback UDP
port that swallows every request. This is a behavioural bound on isolation, not a benchmark.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from agent.core.model import ErrorType, Item, Metric
from agent.core.plugin import BuildContext, Target
from agent.framework.scheduler import PollerRunner, PollerTiming, PollOutcome
from agent.framework.telemetry import PluginStats
from collectors.snmp.plugin import SnmpConfig, build
from config.credentials import SnmpV2cCredential
from inventory.models import Inventory
from tests.collectors.snmp.conftest import SnmpAgent

# Recordings with a system group and a specific sysObjectID: one GET per device and tick
# (snmpsim answers a few hundred requests a second; the bound below is about isolation).
COMMUNITIES = ("dahua-nvr", "apc_smt750x-nmc2", "axiscam_p1435-le", "jetdirect_m130nw",
               "vrp_ne", "zxr10_5950", "ruijie_s6150", "vrp_5720")
DEAD_TIMEOUT_S = 8.0


@pytest.fixture
def silent_udp() -> Iterator[int]:
    """A bound UDP port that reads nothing and answers nothing (a dead SNMP agent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


@pytest.mark.timeout(120)
async def test_dead_device_delays_the_tick_by_at_most_its_timeout(
        snmpsim_fixtures: SnmpAgent, silent_udp: int, tmp_path: Path) -> None:
    creds = {c: SnmpV2cCredential(name=c, type="snmp_v2c", community=c) for c in COMMUNITIES}
    creds["dead"] = SnmpV2cCredential(name="dead", type="snmp_v2c", community="x")
    targets = [Target(id=f"dev{i:03d}", ipv4="127.0.0.1", port=snmpsim_fixtures.port,
                      credential=COMMUNITIES[i % len(COMMUNITIES)]) for i in range(199)]
    targets.append(Target(id="dead", ipv4="127.0.0.1", port=silent_udp, credential="dead"))
    cfg = SnmpConfig(profiles=["system"], transport="pysnmp",
                     request_timeout_secs=DEAD_TIMEOUT_S, retries=0)
    ctx = BuildContext(instance="snmp/isolation", inventory=Inventory.empty(),
                       credentials=creds, data_dir=tmp_path, config_dir=tmp_path)
    poller = build(cfg, ctx)
    done_at: dict[str, float] = {}
    outcomes: dict[str, PollOutcome] = {}
    items_of: dict[str, Sequence[Item]] = {}

    def sink(items: Sequence[Item], target: Target | None, outcome: PollOutcome | None) -> None:
        assert target is not None and outcome is not None
        done_at[target.id] = time.monotonic()
        outcomes[target.id] = outcome
        items_of[target.id] = items

    runner = PollerRunner(
        "snmp/isolation", poller, targets,
        PollerTiming(interval_s=60.0, timeout_s=30.0, jitter_s=0.0),
        asyncio.Semaphore(256), asyncio.Semaphore(256), sink, PluginStats("snmp", "isolation"))
    try:
        t0 = time.monotonic()
        await runner.run_once()
        tick_s = time.monotonic() - t0
    finally:
        await poller.close()

    dead = outcomes.pop("dead")
    assert dead.error is ErrorType.TIMEOUT
    # Its own timeout, once (pysnmp's timer and a busy loop may add a little, never another T).
    assert DEAD_TIMEOUT_S <= dead.duration_s < 2 * DEAD_TIMEOUT_S
    assert len(outcomes) == 199 and all(o.ok for o in outcomes.values()), [
        (t, o.error, o.detail) for t, o in outcomes.items() if not o.ok][:5]
    for tid, items in items_of.items():
        if tid != "dead":
            names = {m.name for m in items if isinstance(m, Metric)}
            assert "snmp_device_info" in names, tid
    # Nobody waited for the dead one: every good device finished before its timeout ran out,
    # and the tick lasted the dead device's timeout, not timeout × anything.
    assert max(done_at[t] for t in outcomes) - t0 < DEAD_TIMEOUT_S
    assert tick_s < 2 * DEAD_TIMEOUT_S
