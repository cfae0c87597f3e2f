"""From our data standard to Prometheus conventions, without touching prometheus-client.

`<measurement>_<field>`, sanitised; a counter gets `_total`; a gauge ending in a suffix that
Prometheus reserves for histograms (`_count`, `_sum`, `_bucket`, `_created`) gets `_value`;
an `*_info` measurement's `info` field is the measurement itself (`snmp_device_info`, not
`snmp_device_info_info`); HELP text names the measurement and field and spells out the unit
the suffix encodes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.core.model import FieldValue, Metric, MetricKind

_BAD = re.compile(r"[^a-zA-Z0-9_]")
# Fields of a counter measurement that are gauges all the same (rates, speeds, states).
_GAUGE_SUFFIXES = ("_bps", "_mbps", "_percent", "_per_second", "_ratio", "_status", "_seconds",
                   "_state", "_count")
# Integer fields with these endings are counters in every MIB and collector we know of.
_COUNTER_SUFFIXES = ("_octets", "_pkts", "_packets", "_errors", "_discards", "_receives",
                     "_transmits", "_datagrams")
_RESERVED = ("_count", "_sum", "_bucket", "_created")
_UNITS = {
    "seconds": "in seconds", "bytes": "in bytes", "percent": "in percent (0-100)",
    "bps": "in bits per second", "mbps": "in megabits per second", "ratio": "as a ratio (0-1)",
    "dbm": "in dBm", "db": "in dB", "mhz": "in MHz", "celsius": "in degrees Celsius",
    "per_second": "per second",
}


def sanitize(name: str) -> str:
    name = _BAD.sub("_", name)
    return name if name and not name[0].isdigit() else f"_{name}"


@dataclass(frozen=True, slots=True)
class Family:
    name: str  # without `_total` for counters: the library adds it to the sample name
    kind: str  # "counter" | "gauge"
    help: str

    @property
    def sample_name(self) -> str:
        return f"{self.name}_total" if self.kind == "counter" else self.name


_families: dict[tuple[str, str, MetricKind, bool], Family] = {}
_label_names: dict[str, str] = {}
_CACHE_MAX = 100_000


def cached_family(m: Metric, field: str, value: FieldValue) -> Family:
    """`family_for`, computed once per (measurement, field, kind, integer or not)."""
    key = (m.name, field, m.kind, type(value) is int)
    fam = _families.get(key)
    if fam is None:
        if len(_families) >= _CACHE_MAX:
            _families.clear()
        fam = _families[key] = family_for(m, field, value)
    return fam


def is_counter(m: Metric, field: str, value: FieldValue) -> bool:
    if field.endswith("_total"):
        return True
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    if field.endswith(_COUNTER_SUFFIXES):  # interface and IP-MIB counters, however marked
        return True
    return m.kind is MetricKind.COUNTER and not field.endswith(_GAUGE_SUFFIXES)


def family_for(m: Metric, field: str, value: FieldValue) -> Family:
    counter = is_counter(m, field, value)
    own_info = field == "info" and m.name.endswith("_info")
    base = m.name if own_info else f"{m.name}_{field}"
    name = sanitize(base)
    if counter and name.endswith("_total"):
        name = name[: -len("_total")]
    if name.endswith(_RESERVED):  # promtool: only histograms and summaries own these
        name = f"{name}_value"
    unit = ""
    for suffix, words in _UNITS.items():
        if field.removesuffix("_total").endswith(suffix):
            unit = f", {words}"
            break
    what = "counter" if counter else "gauge"
    text = f"campusmon {m.name}.{field} ({what}{unit}); see docs/metrics.md"
    if field == "info":
        text = f"campusmon {m.name}: text facts as labels, value 1; see docs/metrics.md"
    return Family(name, "counter" if counter else "gauge", text)


def sample_value(value: FieldValue) -> float | None:
    """Numbers only: text fields are not samples (they are labels of `*_info` series)."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        f = float(value)
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
