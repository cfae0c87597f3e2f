"""The `audit` processor: keeps what the audits need from the item stream and, every
`emit_interval_secs`, emits `audit_indicator` points per campus plus the inventory facts
(`audit_*_info`) the central report needs.

Synchronous and without I/O, as every processor. Memory is bounded: the last point per series
for facts, and a window (`window_secs`, at most `max_samples_per_series` points) for the series
whose history matters (egress counters, 5G samples, Wi-Fi surveys).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence

from pydantic import AliasChoices, Field

from agent.core.model import Item, Metric
from agent.core.plugin import BuildContext, PluginKind, PluginSpec
from agent.processors.audit.bandwidth import DEFAULT_SATURATION_PERCENT
from agent.processors.audit.cli import register as register_cli
from agent.processors.audit.egress import EGRESS_ROLE
from agent.processors.audit.engine import audit_metrics, run_audit
from agent.processors.audit.inputs import (
    MEASUREMENTS,
    AuditInput,
    SeriesKey,
    inventory_metrics,
    series_key,
)
from agent.processors.audit.measurements import MEASUREMENTS as WRITES
from config.base import StrictModel
from inventory.models import Inventory

WINDOWED = frozenset({"snmp_interface", "snmp_ip_traffic", "snmp_ip_if_traffic", "cellular_5g",
                      "wifi_survey"})
# counters are only kept for the egress devices: the audits read no other device's history
EGRESS_ONLY = frozenset({"snmp_interface", "snmp_ip_traffic", "snmp_ip_if_traffic"})


class AuditConfig(StrictModel):
    # how often results are emitted; spelt like every other "how often" (`*_interval_secs`),
    # the old `emit_every_secs` still read
    emit_interval_secs: float = Field(default=300.0, gt=0, validation_alias=AliasChoices(
        "emit_interval_secs", "emit_every_secs"))
    window_secs: float = Field(default=3600.0, gt=0)  # history kept for rates and 5G samples
    max_samples_per_series: int = Field(default=2000, ge=2)
    saturation_percent: float = Field(default=DEFAULT_SATURATION_PERCENT, gt=0, le=100)
    emit_inventory: bool = True  # publish audit_*_info for `campusmon report --from`


class AuditProcessor:
    def __init__(self, cfg: AuditConfig, inventory: Inventory,
                 clock: Callable[[], float] = time.monotonic,
                 wall_ns: Callable[[], int] = time.time_ns) -> None:
        self.cfg = cfg
        self.inventory = inventory
        self._clock = clock
        self._wall_ns = wall_ns
        self._egress = {d.id for d in inventory.devices if EGRESS_ROLE in d.roles}
        self._last: dict[tuple[str, SeriesKey], Metric] = {}
        self._window: dict[tuple[str, SeriesKey], deque[Metric]] = {}
        self._next_emit = clock() + cfg.emit_interval_secs

    def _keep(self, m: Metric) -> None:
        if m.name not in MEASUREMENTS or m.name.startswith("audit_"):
            return
        key = (m.name, series_key(m.tags))
        if m.name in WINDOWED:
            if m.name in EGRESS_ONLY and m.tags.get("device") not in self._egress:
                return  # other devices' counters: no audit reads them
            dq = self._window.get(key)
            if dq is None:
                dq = self._window[key] = deque(maxlen=self.cfg.max_samples_per_series)
            dq.append(m)
        else:
            prev = self._last.get(key)
            if prev is not None and prev.ts_ns == m.ts_ns:
                m = Metric(m.name, m.tags, {**prev.fields, **m.fields}, m.ts_ns, m.kind)
            self._last[key] = m

    def snapshot_input(self) -> AuditInput:
        end = self._wall_ns()
        start = end - int(self.cfg.window_secs * 1e9)
        for dq in self._window.values():
            while dq and dq[0].ts_ns < start:
                dq.popleft()
        # a fact not refreshed within the window is stale (device gone, row removed): the same
        # rule the report applies to its window
        for key in [k for k, m in self._last.items() if m.ts_ns < start]:
            del self._last[key]
        for key in [k for k, dq in self._window.items() if not dq]:
            del self._window[key]
        points: list[Metric] = list(self._last.values())
        for dq in self._window.values():
            points.extend(dq)
        return AuditInput.from_inventory(self.inventory, points, start, end)

    def process(self, items: Sequence[Item]) -> Sequence[Item]:
        for it in items:
            if isinstance(it, Metric):
                self._keep(it)
        if self._clock() < self._next_emit:
            return items
        self._next_emit = self._clock() + self.cfg.emit_interval_secs
        return [*items, *self.emit()]

    def emit(self) -> list[Metric]:
        inp = self.snapshot_input()
        ts = inp.end_ns
        audit = run_audit(inp, self.cfg.saturation_percent)
        out = audit_metrics(audit, ts)
        if self.cfg.emit_inventory:
            out.extend(inventory_metrics(self.inventory, ts))
        return out

    def close(self) -> None:
        self._last.clear()
        self._window.clear()


def build(cfg: AuditConfig, ctx: BuildContext) -> AuditProcessor:
    return AuditProcessor(cfg, ctx.inventory)


SPEC = PluginSpec(
    name="audit", kind=PluginKind.PROCESSOR, config_model=AuditConfig, build=build,
    description="IPv6, Wi-Fi/5G coverage, egress bandwidth and 国产化 audits as metrics",
    example={"type": "audit", "emit_interval_secs": 300, "window_secs": 3600},
    measurements=WRITES,
    cli=register_cli,
)
