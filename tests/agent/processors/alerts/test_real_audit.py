"""audit_below_target driven by the real audit processor (engineer G's `audit`), chained before
the alerts processor as the agent chains processors: the campus's IPv6 egress share (25%) is
below the cited target (27%, standards b8) → one info alert, in Alertmanager and the log; the
next evaluation repeats the indicator and no second notification follows."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from agent.core.model import Item
from agent.processors.audit.plugin import AuditConfig, AuditProcessor
from exporters.alertlog.plugin import AlertLogConfig, AlertLogExporter
from exporters.alertmanager.plugin import AlertmanagerConfig, AlertmanagerExporter
from tests.agent.processors.alerts.helpers import FakeClock, processor
from tests.agent.processors.alerts.rig import Rig
from tests.agent.processors.alerts.sinks import logged
from tests.agent.processors.audit.crafted import MIN, T0, inventory, points
from tests.exporters.alertmanager.amserver import Alertmanager


class Chain:
    def __init__(self, *procs: object) -> None:
        self.procs = procs

    def process(self, items: Sequence[Item]) -> Sequence[Item]:
        for p in self.procs:
            items = p.process(items)  # type: ignore[attr-defined]
        return items


@pytest.mark.timeout(60)
async def test_indicator_below_target(tmp_path: Path, alertmanager_e2e: Alertmanager) -> None:
    inv = inventory()
    audit_clock = [0.0]
    audit = AuditProcessor(AuditConfig(emit_interval_secs=60, window_secs=3600), inv,
                           lambda: audit_clock[0], wall_ns=lambda: T0 + 5 * MIN)
    clock = FakeClock(now_ns=time.time_ns() - 3600 * 10**9)
    alerts = processor(inv, clock, rule_names=["audit_below_target"])
    run = f"audit-{time.time_ns()}"
    rig = Rig(tmp_path, Chain(audit, alerts), {
        "am": AlertmanagerExporter(AlertmanagerConfig(url=alertmanager_e2e.url,
                                                      extra_labels={"run": run})),
        "log": AlertLogExporter(AlertLogConfig(path=str(tmp_path / "alerts.jsonl")), tmp_path)})
    rig.submit(points(inv))
    for _ in range(2):  # two audit evaluations, a minute apart
        audit_clock[0] += 61
        clock.advance(61)
        rig.submit([])
        await rig.flush()
        for name in rig.outputs:
            await rig.deliver(name)
    ours = {a["annotations"]["key"]: a for a in alertmanager_e2e.alerts()
            if a["labels"].get("run") == run}
    key = "audit_below_target:ipv6_egress_traffic_share/campus/"
    assert key in ours
    assert ours[key]["labels"]["severity"] == "info"
    assert ours[key]["annotations"]["summary"].startswith(
        "ipv6_egress_traffic_share (standards b8) is 25 %, target 27")
    raised = [k for k, s in logged(tmp_path / "alerts.jsonl") if s == "raised"]
    assert raised.count(key) == 1
    rig.close()
