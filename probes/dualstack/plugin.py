"""The `dualstack` poller: ICMP, TCP, DNS and HTTP(S) over IPv4 and IPv6 in one cycle.

One plugin with a list of probers rather than one plugin per probe type: the IPv6 regression
signal needs every probe of a target, both families, from the same cycle, and one shared ICMP
socket per family serves all targets of the instance. Each probe can still be switched off.
Items per target: `ProbeResult`s tagged `family` (→ `probe_icmp|tcp|dns|http`) and one
`probe_ipv6_regression` metric when both families are probed. A tick is one `poll_many`
(Capability.BATCH_POLLS): every target's ICMP goes out in one burst.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from agent.core.model import Item, ProbeResult
from agent.core.plugin import (
    BatchReport,
    BuildContext,
    Capability,
    DefaultTargets,
    PluginKind,
    PluginSpec,
    Target,
)
from probes.dualstack.cli import register as register_cli
from probes.dualstack.config import DualStackConfig
from probes.dualstack.measurements import MEASUREMENTS
from probes.dualstack.plan import Plan, plan_for

if TYPE_CHECKING:
    from probes.dualstack.engine import Engine, Report
    from probes.regression import Regression


class DualStackPoller:
    def __init__(self, cfg: DualStackConfig) -> None:
        self.cfg = cfg
        self.engine: Engine | None = None
        # target id → (the target, its plan): a plan depends only on the target and the config,
        # so it is built once, not every tick (rebuilt when the target object changes)
        self._plans: dict[str, tuple[Target, Plan]] = {}

    async def start(self) -> None:
        if self.engine is None:
            # imported here: dnspython and cryptography load only where probes run, not in
            # every `campusmon` command
            from probes.dualstack.engine import Engine
            self.engine = Engine(self.cfg)

    def _plan(self, target: Target) -> Plan:
        known = self._plans.get(target.id)
        if known is None or known[0] is not target:
            known = self._plans[target.id] = (target, plan_for(target, self.cfg))
        return known[1]

    async def poll(self, target: Target) -> Sequence[Item]:
        await self.start()
        assert self.engine is not None
        return _items(await self.engine.run(self._plan(target)))

    async def poll_many(self, targets: Sequence[Target], report: BatchReport) -> None:
        """The tick's path (spec capability BATCH_POLLS): every target's ICMP in one burst,
        TCP/DNS/HTTP per target concurrently; each target reported as soon as it is done."""
        await self.start()
        assert self.engine is not None
        plans: list[Plan] = []
        bad: list[tuple[int, Exception]] = []
        for i, t in enumerate(targets):
            try:
                plans.append(self._plan(t))
            except Exception as exc:  # one unusable target; the others are probed
                bad.append((i, exc))
                plans.append(Plan(t.id, icmp=False))
        for i, why in bad:
            report(i, why)

        def done(i: int, results: list[ProbeResult] | BaseException,
                 regression: Regression | None) -> None:
            if regression is not None and not isinstance(results, BaseException):
                report(i, [*results, regression.metric()])
            else:
                report(i, results)
        await self.engine.run_many(plans, done)

    async def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None


def _items(report: Report) -> list[Item]:
    items: list[Item] = list(report.results)
    if report.regression is not None:
        items.append(report.regression.metric())
    return items


def build(cfg: DualStackConfig, ctx: BuildContext) -> DualStackPoller:
    return DualStackPoller(cfg)


SPEC = PluginSpec(
    name="dualstack", kind=PluginKind.POLLER, config_model=DualStackConfig, build=build,
    description="ICMP, TCP, DNS, HTTP(S) probes over IPv4 and IPv6 with an IPv6 regression "
                "signal",
    example={"type": "dualstack", "interval_secs": 60,
             "targets": {"inventory": False, "static": [
                 {"id": "campus-portal", "hostname": "www.example.edu.cn", "port": 443}]}},
    default_targets=DefaultTargets.INVENTORY,
    capabilities=Capability.BATCH_POLLS,
    measurements=MEASUREMENTS,
    cli=register_cli,
)
