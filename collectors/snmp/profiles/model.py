"""The YAML form of an SNMP profile (what a user writes), validated strictly.

```yaml
name: huawei-entity              # default: the file name without .yaml
description: Huawei boards: CPU, memory, temperature
match:                           # every given condition must hold; no `match` = every device
  sys_object_id: ["1.3.6.1.4.1.2011"]   # sysObjectID prefixes (any one)
  sys_descr: "VRP|YunShan"               # regular expression, searched, case-insensitive
  vendor: [Huawei]                       # the detected vendor (identify)
every: 1                         # read on every Nth poll of a device (default 1)
measurements:                    # only for measurements the agent does not ship
  - name: printer_supply
    description: ...
    tags: {supply: "supply description"}
    fields: {level_percent: {kind: gauge, unit: percent, description: "..."}}
metrics:
  - measurement: snmp_cpu
    tags:
      component: {object: ENTITY-MIB::entPhysicalName}   # joined on the row's index
    fields:
      usage_percent: {object: hwEntityCpuUsage}
    where:
      - {object: entPhysicalClass, in: [9]}              # rows kept only when all hold
```

A value (`tags`, `fields`, `where` entries) names a MIB `object` (a column of the row, or of
another table joined on the row's whole index, on `index:` positions of it, or on the value of
the row's `via:` column) or gives a constant `value` / `index` positions. Then, in order: `skip`
raw sentinels, `map` (unmapped → the row is skipped for tags and `where`, the field is left out),
`parse: number` for numbers written as text, `si_scale`/`precision` (ENTITY-SENSOR style),
`times` / `plus` / `percent_of` other objects of the row, `transform`, `scale`, `valid` range.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from config.base import StrictModel

Scalar = int | float | str


class ValueSpec(StrictModel):
    object: str | None = None
    value: Scalar | None = None  # a constant
    index: list[int] | None = None  # index positions: the tag value, or the join key
    via: str | None = None  # join key = the value of this column of the row
    skip: list[Scalar] = Field(default_factory=list)  # raw values that mean "no reading"
    map: dict[Scalar, Scalar] | None = None  # raw (number or enum label) → value; "skip" drops
    parse: Literal["number"] | None = None
    si_scale: str | None = None  # an EntitySensorDataScale column: × 10^(3·(scale−9))
    precision: str | None = None  # an EntitySensorPrecision column: ÷ 10^precision
    times: str | None = None
    plus: list[str] = Field(default_factory=list)
    percent_of: list[str] = Field(default_factory=list)  # value / sum(these) × 100
    transform: Literal["uw_to_dbm", "tenth_uw_to_dbm", "mw_to_dbm", "ticks_to_seconds",
                       "label"] | None = None
    default: Scalar | None = None  # a tag's value when the object gives none
    scale: float = 1.0
    valid: tuple[float, float] | None = None  # outside → no reading


class Condition(ValueSpec):
    in_: list[Scalar] | None = Field(default=None, alias="in")
    not_in: list[Scalar] | None = None
    regex: str | None = None
    not_regex: str | None = None


class MetricSpec(StrictModel):
    measurement: str
    tags: dict[str, ValueSpec] = Field(default_factory=dict)
    fields: dict[str, ValueSpec]
    where: list[Condition] = Field(default_factory=list)


class Match(StrictModel):
    sys_object_id: list[str] = Field(default_factory=list)
    sys_descr: str | None = None
    vendor: list[str] = Field(default_factory=list)


class FieldDecl(StrictModel):
    kind: Literal["gauge", "counter", "state"] = "gauge"
    unit: str = ""
    description: str


class MeasurementDecl(StrictModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str
    tags: dict[str, str] = Field(default_factory=dict)  # name → description
    fields: dict[str, FieldDecl]


class ProfileDoc(StrictModel):
    name: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    description: str = ""
    match: Match | None = None
    every: int = Field(default=1, ge=1, le=1440)  # read on every Nth poll of a device
    measurements: list[MeasurementDecl] = Field(default_factory=list)
    metrics: list[MetricSpec] = Field(min_length=1)
