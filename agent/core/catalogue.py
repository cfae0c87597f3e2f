"""The measurement catalogue: every measurement a plugin writes, declared in code.

A plugin's `PluginSpec.measurements` lists what it writes: the measurement name, its own tags
(with meaning), its fields with kind, unit and one-line description. The framework adds the
place tags (`PLACE_TAGS`) to every series, so a plugin never declares them. Everything
downstream (docs/metrics.md, the Prometheus exporter's types and units, the lint of dashboards,
audit inputs and alert rules) reads this one catalogue, so a renamed field fails a test instead
of silently breaking a panel.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


class FieldKind(enum.StrEnum):
    GAUGE = "gauge"  # a level that goes up and down
    COUNTER = "counter"  # only grows (or resets); an integer end to end
    STATE = "state"  # a small integer whose values are written down (1 up, 2 down …)
    INFO = "info"  # the constant 1 of an `*_info` measurement; its facts are tags
    EVENT = "event"  # text of an event row (summary, message)
    TEXT = "text"  # a text field (kept by stores that keep text; never exported as a number)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    kind: FieldKind
    unit: str  # "" for dimensionless; "seconds", "bytes", "bps", "percent", "dBm", "celsius" …
    description: str


@dataclass(frozen=True, slots=True)
class TagSpec:
    name: str
    description: str


def gauge(name: str, unit: str, description: str) -> FieldSpec:
    return FieldSpec(name, FieldKind.GAUGE, unit, description)


def counter(name: str, unit: str, description: str) -> FieldSpec:
    return FieldSpec(name, FieldKind.COUNTER, unit, description)


def state(name: str, description: str) -> FieldSpec:
    return FieldSpec(name, FieldKind.STATE, "", description)


def info(description: str = "constant 1; the facts are the tags") -> FieldSpec:
    return FieldSpec("info", FieldKind.INFO, "", description)


def text(name: str, description: str) -> FieldSpec:
    return FieldSpec(name, FieldKind.TEXT, "", description)


def tag(name: str, description: str) -> TagSpec:
    return TagSpec(name, description)


# Added by the framework from the inventory (or the static target) to every series of a
# target; plugins never declare or set them.
PLACE_TAGS: tuple[TagSpec, ...] = (
    tag("campus", "the inventory's campus code, unique in the province"),
    tag("building", "inventory building of the device"),
    tag("room", "inventory room of the device"),
    tag("device", "inventory device id"),
    tag("kind", "inventory device kind (switch, router, ap, camera …)"),
    tag("vendor", "inventory vendor of the device"),
    tag("roles", "comma-joined inventory roles (egress, uplink, core …)"),
    tag("target", "a static target that is not an inventory device"),
)
PLACE_TAG_NAMES: frozenset[str] = frozenset(t.name for t in PLACE_TAGS)


@dataclass(frozen=True, slots=True)
class Measurement:
    """One measurement: its tags (beyond the place tags) and its fields."""

    name: str
    description: str
    tags: tuple[TagSpec, ...] = ()
    fields: tuple[FieldSpec, ...] = ()
    # readings whose names come from the device (IoT payloads' extra numeric fields): any field
    # name is allowed, with this kind; None = only the declared fields
    open_fields: FieldKind | None = None
    # tag names that come from the device or the user (a profile's own index tags); None = only
    # the declared tags
    open_tags: bool = False

    def field(self, name: str) -> FieldSpec | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def field_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields)

    def tag_names(self) -> frozenset[str]:
        return frozenset(t.name for t in self.tags)


@dataclass(frozen=True, slots=True)
class Owned:
    measurement: Measurement
    owner: str  # plugin name, or "framework"


class CatalogueError(ValueError):
    """Two owners declared one measurement differently, or an item breaks its declaration."""


@dataclass(slots=True)
class Catalogue:
    """Every declared measurement by name. Instance state only."""

    _by_name: dict[str, list[Owned]] = field(default_factory=dict)

    @classmethod
    def of(cls, declarations: Iterable[tuple[str, Sequence[Measurement]]]) -> Catalogue:
        cat = cls()
        for owner, measurements in declarations:
            for m in measurements:
                cat.add(m, owner)
        return cat

    def add(self, m: Measurement, owner: str) -> None:
        """Two plugins may write one measurement (`wlan_ap` from SNMP and from SSH) only with
        the same field kinds and units: one datum, one name, one meaning."""
        owned = self._by_name.setdefault(m.name, [])
        for other in owned:
            for f in m.fields:
                g = other.measurement.field(f.name)
                if g is not None and (g.kind, g.unit) != (f.kind, f.unit):
                    raise CatalogueError(
                        f"{m.name}.{f.name}: {owner} declares {f.kind}/{f.unit or '-'}, "
                        f"{other.owner} {g.kind}/{g.unit or '-'}"
                    )
        owned.append(Owned(m, owner))

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def owners(self, name: str) -> list[str]:
        return [o.owner for o in self._by_name.get(name, ())]

    def declarations(self, name: str) -> list[Owned]:
        return list(self._by_name.get(name, ()))

    def has(self, name: str) -> bool:
        return name in self._by_name

    def field(self, measurement: str, name: str) -> FieldSpec | None:
        """The field's declaration (the first owner's: all agree on kind and unit)."""
        for o in self._by_name.get(measurement, ()):
            f = o.measurement.field(name)
            if f is not None:
                return f
            if o.measurement.open_fields is not None:
                return FieldSpec(name, o.measurement.open_fields, "", "reading named by the device")
        return None

    def has_tag(self, measurement: str, name: str) -> bool:
        if name in PLACE_TAG_NAMES:
            return True
        return any(
            o.measurement.open_tags or name in o.measurement.tag_names()
            for o in self._by_name.get(measurement, ())
        )


def undeclared(
    declared: Mapping[str, Measurement], name: str, tags: Iterable[str], fields: Iterable[str]
) -> str | None:
    """Why a metric breaks its plugin's declarations, or None when it keeps them."""
    m = declared.get(name)
    if m is None:
        return f"measurement {name!r} is not declared"
    if m.open_fields is None:
        extra = sorted(set(fields) - m.field_names())
        if extra:
            return f"{name}: undeclared field(s) {', '.join(extra)}"
    if not m.open_tags:
        extra_tags = sorted(set(tags) - m.tag_names() - PLACE_TAG_NAMES)
        if extra_tags:
            return f"{name}: undeclared tag(s) {', '.join(extra_tags)}"
    return None


def probe_measurement(probe: str, description: str, tags: Sequence[TagSpec],
                      fields: Sequence[FieldSpec]) -> Measurement:
    """`probe_<probe>` as `ProbeResult.to_metric` writes it: the framework's `success`,
    `duration_seconds` and `error_type` (on failure), plus the probe's own tags and fields
    (phases end in `_seconds`)."""
    return Measurement(
        f"probe_{probe}", description,
        tags=(*tags, tag("error_type", "bounded failure cause, only on failure")),
        fields=(state("success", "1 the probe succeeded, 0 it failed"),
                gauge("duration_seconds", "seconds", "the whole probe"), *fields))
