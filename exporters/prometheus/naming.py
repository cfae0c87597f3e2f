"""From our data standard to Prometheus conventions, without touching prometheus-client.

Types and units come from the catalogue (agent/core/catalogue.py), never from name suffixes:
a COUNTER field is a counter (`_total` added), an INFO field is an info family (its sample is
`<measurement>_info`, or the measurement itself when it already ends in `_info`), STATE and
GAUGE fields are gauges; TEXT and EVENT fields are not samples. A gauge ending in a suffix
Prometheus reserves (`_count`, `_sum`, `_bucket`, `_created`) or in `_total` gets `_value`.
HELP names the measurement and field and spells out the declared unit. A measurement the
catalogue does not know (a plugin outside it) falls back to the Metric's own kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.core.catalogue import Catalogue, FieldKind, FieldSpec
from agent.core.model import FieldValue, Metric, MetricKind

_BAD = re.compile(r"[^a-zA-Z0-9_]")
_RESERVED = ("_count", "_sum", "_bucket", "_created", "_total")
_UNITS = {
    "seconds": "in seconds", "bytes": "in bytes", "percent": "in percent (0-100)",
    "bps": "in bits per second", "Mbps": "in megabits per second", "ratio": "as a ratio (0-1)",
    "dBm": "in dBm", "dB": "in dB", "MHz": "in MHz", "celsius": "in degrees Celsius",
}


def sanitize(name: str) -> str:
    name = _BAD.sub("_", name)
    return name if name and not name[0].isdigit() else f"_{name}"


@dataclass(frozen=True, slots=True)
class Family:
    name: str  # without `_total` for counters and `_info` for infos: the library adds them
    kind: str  # "counter" | "gauge" | "info"
    help: str

    @property
    def sample_name(self) -> str:
        if self.kind == "counter":
            return f"{self.name}_total"
        return f"{self.name}_info" if self.kind == "info" else self.name


_CACHE_MAX = 100_000
_label_names: dict[str, str] = {}


@dataclass(slots=True)
class Families:
    """`family_for` against one catalogue, computed once per (measurement, field, kind,
    integer or not)."""

    catalogue: Catalogue | None = None
    _cache: dict[tuple[str, str, MetricKind, bool], Family] = field(default_factory=dict)

    def get(self, m: Metric, name: str, value: FieldValue) -> Family:
        key = (m.name, name, m.kind, type(value) is int)
        try:
            return self._cache[key]
        except KeyError:
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            fam = self._cache[key] = family_for(m, name, value, self.catalogue)
            return fam


def _declared(m: Metric, name: str, value: FieldValue, cat: Catalogue | None) -> FieldSpec:
    spec = cat.field(m.name, name) if cat is not None else None
    if spec is not None:
        return spec
    if name == "info":  # the catalogue's `info()` field, outside a catalogue
        return FieldSpec(name, FieldKind.INFO, "", "")
    # not in the catalogue: the maker's word, integers only (a float never counts)
    counter = (m.kind is MetricKind.COUNTER and isinstance(value, int)
               and not isinstance(value, bool))
    return FieldSpec(name, FieldKind.COUNTER if counter else FieldKind.GAUGE, "", "")


def family_for(m: Metric, name: str, value: FieldValue,
               catalogue: Catalogue | None = None) -> Family:
    """The family a numeric field's sample belongs to (text and event fields are never
    samples: `sample_value` leaves them out first)."""
    spec = _declared(m, name, value, catalogue)
    if spec.kind is FieldKind.INFO:
        base = sanitize(m.name if name == "info" else f"{m.name}_{name}")
        return Family(base.removesuffix("_info"), "info",
                      f"campusmon {m.name}: text facts as labels, value 1; see docs/metrics.md")
    counter = spec.kind is FieldKind.COUNTER
    fam = sanitize(f"{m.name}_{name}")
    if counter:
        fam = fam.removesuffix("_total")
    elif fam.endswith(_RESERVED):  # promtool: only histograms, summaries, counters own these
        fam = f"{fam}_value"
    words = _UNITS.get(spec.unit, f"in {spec.unit}" if spec.unit else "")
    what = f"{'counter' if counter else 'gauge'}{', ' + words if words else ''}"
    return Family(fam, "counter" if counter else "gauge",
                  f"campusmon {m.name}.{name} ({what}); see docs/metrics.md")


def sample_value(value: FieldValue) -> float | None:
    """Numbers only: text fields are not samples (they are labels of `*_info` series)."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        f = float(value)  # OverflowError past the float range: the scrape skips and counts
        return f if f == f else None
    return None


def labels_for(m: Metric) -> dict[str, str]:
    """The series' labels: tag names sanitised, empty values left out."""
    return labels_exact(m)[0]


def labels_exact(m: Metric) -> tuple[dict[str, str], bool]:
    """(labels, exact): not exact when a tag was renamed or left out (an empty value), the
    only ways two series of one measurement can end up with the same labels."""
    out = {}
    exact = True
    for k, v in m.tags.items():
        if v == "":
            exact = False
            continue
        name = _label_names.get(k)
        if name is None:
            if len(_label_names) >= _CACHE_MAX:
                _label_names.clear()
            name = _label_names[k] = sanitize(k)
        exact = exact and name == k
        out[name] = v
    return out, exact
