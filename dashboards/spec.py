"""Dashboards described as typed data; build.py renders them with grafana-foundation-sdk."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

DATASOURCE_UID = "campusmon-vm"
DATASOURCE_NAME = "campusmon VictoriaMetrics"

# Variable filters every device-level query carries ("All" is the regex .*).
CAMPUS = 'campus=~"$campus"'
DEVICE = 'campus=~"$campus",building=~"$building",kind=~"$kind"'


class PanelKind(enum.StrEnum):
    TIMESERIES = "timeseries"
    STAT = "stat"
    TABLE = "table"
    BARGAUGE = "bargauge"
    GAUGE = "gauge"


@dataclass(frozen=True, slots=True)
class Query:
    expr: str
    legend: str = ""
    instant: bool = False


@dataclass(frozen=True, slots=True)
class Threshold:
    value: float | None  # None = the base step
    color: str


@dataclass(frozen=True, slots=True)
class PanelSpec:
    kind: PanelKind
    title_zh: str
    title_en: str
    description: str
    unit: str
    queries: tuple[Query, ...]
    thresholds: tuple[Threshold, ...] = (Threshold(None, "green"),)
    min: float | None = None
    max: float | None = None
    width: int = 12
    height: int = 8

    @property
    def title(self) -> str:
        return f"{self.title_zh} {self.title_en}"


@dataclass(frozen=True, slots=True)
class DashboardSpec:
    uid: str
    title_zh: str
    title_en: str
    description: str
    audience: str
    panels: tuple[PanelSpec, ...]
    tags: tuple[str, ...] = field(default_factory=tuple)
    variables: tuple[str, ...] = ("campus", "building", "kind")

    @property
    def title(self) -> str:
        return f"{self.title_zh} {self.title_en}"
