"""Province roll-up: the same indicators over several campuses.

Shares and means are re-aggregated from their numerators and denominators (Σn / Σd), never
averaged across campuses; capacities, volumes and counts add up; 95th percentiles and peaks
take the highest campus (the figure an inspector looks for). Targets carry over unchanged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from agent.processors.audit.model import CampusAudit, Indicator

_MAX = frozenset({"egress_utilization_p95", "egress_utilization_peak"})
_SUM_UNITS = frozenset({"count", "GB", "min", "Mbps"})


def _combine(group: Sequence[Indicator]) -> Indicator:
    first = group[0]
    vals = [i.value for i in group if i.value is not None]
    value: float | None
    num: float | None = None
    den: float | None = None
    if first.id in _MAX:
        value = max(vals) if vals else None
    elif all(i.numerator is not None and i.denominator is not None for i in group):
        num = sum(i.numerator or 0.0 for i in group)
        den = sum(i.denominator or 0.0 for i in group)
        value = (num / den * (100.0 if first.unit == "%" else 1.0)) if den else None
    elif first.unit in _SUM_UNITS:
        value = sum(vals) if vals else None
    else:
        value = None  # no sound way to combine (e.g. a mean without its weights)
    return Indicator(first.id, first.family, first.title_zh, first.title_en, value, first.unit,
                     first.scope, first.target, first.references, num, den, (),
                     first.note, sum(i.unknown for i in group), first.counted)


def roll_up(audits: Sequence[CampusAudit]) -> list[Indicator]:
    groups: dict[tuple[str, str], list[Indicator]] = defaultdict(list)
    for a in audits:
        for ind in a.indicators:
            if ind.scope == "campus" or ind.scope.startswith("isp:"):
                groups[(ind.id, ind.scope)].append(ind)
    return [_combine(g) for g in groups.values()]
