"""Typed audit results: one `Indicator` per figure, with its cited target and its evidence.

An indicator never carries a target without a `Source` (an entry of docs/standards.md and the
document it restates); where that page says a figure was not found, `target` is None and `note`
says so.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Source:
    """An entry of docs/standards.md (anchor from the row) and the document behind it."""

    row: str  # e.g. "b8"
    document: str  # document name as cited there
    detail: str  # the figure or requirement, in a few words
    url: str = ""

    @property
    def cite(self) -> str:
        """Short cite used as a metric tag (`standards b8`)."""
        return f"standards {self.row}"

    @property
    def anchor(self) -> str:
        """Its anchor in docs/standards.md: `b.2` → `b-2`, `c3'` → `c3p`."""
        return standards_anchor(self.row)

    @property
    def link(self) -> str:
        return f"{STANDARDS_DOC}#{self.anchor}"

    @property
    def label(self) -> str:
        return f"{self.document} ({self.link})"


STANDARDS_DOC = "docs/standards.md"


def standards_anchor(row: str) -> str:
    return row.replace(".", "-").replace("'", "p")


class Op(enum.StrEnum):
    GE = ">="
    LE = "<="


@dataclass(frozen=True, slots=True)
class Target:
    value: float
    source: Source
    op: Op = Op.GE

    def met_by(self, value: float) -> bool:
        # a tiny tolerance: shares are computed in floating point from integer counts
        if self.op is Op.GE:
            return value >= self.value - 1e-9
        return value <= self.value + 1e-9


@dataclass(frozen=True, slots=True)
class Reference:
    """A cited figure shown for context (an older target, a peer baseline); never decides pass."""

    label_zh: str
    label_en: str
    value: float
    source: Source


class Status(enum.StrEnum):
    OK = "ok"
    FAIL = "fail"
    UNKNOWN = "unknown"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One device, room, link or site behind a figure, and what was found about it."""

    subject: str  # device id, room id, link (device/ifname), site
    kind: str  # "device" | "room" | "link" | "site" | "system" | "host"
    status: Status
    detail: str
    building: str = ""
    rule: str = ""  # the rule that classified it (localization), when one applies


@dataclass(frozen=True, slots=True)
class Indicator:
    id: str
    family: str  # ipv6 | wireless | 5g | bandwidth | localization
    title_zh: str
    title_en: str
    value: float | None  # None: nothing measured
    unit: str  # "%", "Mbps", "GB", "count", "Mbps/1000"
    scope: str = "campus"  # "campus" or "building:<id>"
    target: Target | None = None
    references: tuple[Reference, ...] = ()
    numerator: float | None = None  # for shares: lets the province roll-up re-aggregate
    denominator: float | None = None
    evidence: tuple[Evidence, ...] = ()
    note: str = ""  # why there is no target, what was excluded
    unknown: int = 0  # items that could not be classified (counted apart, never guessed)
    counted: str = ""  # what numerator and denominator count ("devices", "rooms" …), if items

    @property
    def passed(self) -> bool | None:
        if self.target is None or self.value is None:
            return None
        return self.target.met_by(self.value)

    @property
    def source(self) -> Source | None:
        return self.target.source if self.target is not None else None


@dataclass(frozen=True, slots=True)
class CampusInfo:
    code: str
    name: str
    province: str | None = None
    students: int = 0
    staff: int = 0


@dataclass(frozen=True, slots=True)
class Chart:
    """A time series drawn in the report (e.g. egress utilisation)."""

    id: str
    title_zh: str
    title_en: str
    unit: str
    series: tuple[tuple[str, tuple[tuple[int, float], ...]], ...]  # (label, ((ts_ns, v), …))
    threshold: float | None = None  # drawn as a dashed line (configuration, not a target)


@dataclass(frozen=True, slots=True)
class Table:
    """A plain table in the report (e.g. every teaching place with its Wi-Fi and 5G facts)."""

    id: str
    title_zh: str
    title_en: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class CampusAudit:
    campus: CampusInfo
    window_start_ns: int
    window_end_ns: int
    indicators: tuple[Indicator, ...]
    charts: tuple[Chart, ...] = field(default=())
    tables: tuple[Table, ...] = field(default=())

    def get(self, indicator_id: str, scope: str = "campus") -> Indicator | None:
        return next((i for i in self.indicators
                     if i.id == indicator_id and i.scope == scope), None)
