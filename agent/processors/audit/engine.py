"""Run every indicator family over one campus's input; turn results into `audit_indicator`."""

from __future__ import annotations

from agent.core.model import FieldValue, Metric
from agent.processors.audit import (
    bandwidth,
    cellular,
    health,
    ipv6,
    localization,
    rooms,
    wireless,
)
from agent.processors.audit.inputs import AuditInput
from agent.processors.audit.model import CampusAudit, Indicator


def run_audit(inp: AuditInput,
              saturation_percent: float = bandwidth.DEFAULT_SATURATION_PERCENT) -> CampusAudit:
    bw, charts = bandwidth.analyse(inp, saturation_percent)
    rooms_wifi = wireless.room_wifi(inp)
    indicators: list[Indicator] = [
        *ipv6.indicators(inp),
        *wireless.indicators(inp, rooms_wifi),
        *cellular.indicators(inp),
        *bw,
        *localization.indicators(inp),
    ]
    return CampusAudit(inp.campus, inp.start_ns, inp.end_ns, tuple(indicators), tuple(charts),
                       (rooms.teaching_places(inp, rooms_wifi), health.device_health(inp)))


def audit_metrics(audit: CampusAudit, ts_ns: int) -> list[Metric]:
    """One `audit_indicator` point per indicator and scope (docs/metrics.md, Audits)."""
    out = []
    for ind in audit.indicators:
        if ind.value is None:
            continue  # nothing measured: no point rather than a misleading zero
        tags = {"campus": audit.campus.code, "indicator": ind.id, "family": ind.family,
                "unit": ind.unit, "scope": ind.scope}
        fields: dict[str, FieldValue] = {"value": float(ind.value)}
        if ind.target is not None:
            tags["source"] = ind.target.source.cite
            fields["target"] = float(ind.target.value)
            fields["pass"] = 1 if ind.passed else 0
        if ind.unknown:
            fields["unknown"] = ind.unknown
        out.append(Metric("audit_indicator", tags, fields, ts_ns))
    return out
