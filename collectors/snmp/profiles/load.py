"""Load profile YAML files, resolve every MIB name against the compiled MIBs, check them.

Every problem names `file:line`: an unknown MIB object, an index position the row does not
have, a join whose keys cannot line up, a measurement / field / tag nobody declared. The built-in
profiles (package data in `builtin/`) load first; a user directory adds profiles and replaces a
built-in one of the same name.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.core.catalogue import FieldKind, FieldSpec, Measurement, TagSpec
from agent.core.errors import ConfigError, Problem
from agent.core.yamlsource import load_yaml_file, locate, where
from collectors.snmp.mibs import MibDb, MibObject, UnknownObject, mib_db
from collectors.snmp.profiles.measurements import HEALTH_MEASUREMENTS
from collectors.snmp.profiles.model import (
    Condition,
    MeasurementDecl,
    MetricSpec,
    ProfileDoc,
    Scalar,
    ValueSpec,
)
from collectors.snmp.session import Oid, oid_from_str
from inventory.loader import pydantic_problems

BUILTIN_DIR = Path(__file__).with_name("builtin")
MAX_PROFILE_BYTES = 1_000_000  # a profile is a page of YAML; refuse a runaway file
_SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Value:
    """A resolved ValueSpec: every object is a MibObject."""

    spec: ValueSpec
    obj: MibObject | None
    via: MibObject | None
    si_scale: MibObject | None
    precision: MibObject | None
    times: MibObject | None
    plus: tuple[MibObject, ...]
    percent_of: tuple[MibObject, ...]
    map: Mapping[Scalar, Scalar] | None  # keys normalised: enum labels → their numbers
    skip: frozenset[Scalar]


@dataclass(frozen=True, slots=True)
class Cond:
    value: Value
    in_: frozenset[Scalar] | None
    not_in: frozenset[Scalar] | None
    regex: re.Pattern[str] | None
    not_regex: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class CompiledMetric:
    measurement: str
    scalar: bool  # every field object is a scalar: one GET, one row
    base: MibObject  # the first field object: its rows are the metric's rows
    tags: tuple[tuple[str, Value], ...]
    fields: tuple[tuple[str, Value], ...]
    where: tuple[Cond, ...]
    integer_fields: frozenset[str] = frozenset()  # counters and states; gauges are floats

    def objects(self) -> list[MibObject]:
        """Every object this metric reads (deduplicated, in order)."""
        out: dict[str, MibObject] = {}
        for v in (*(v for _, v in self.tags), *(v for _, v in self.fields),
                  *(c.value for c in self.where)):
            for o in (v.obj, v.via, v.si_scale, v.precision, v.times, *v.plus, *v.percent_of):
                if o is not None:
                    out.setdefault(o.qualified, o)
        return list(out.values())


@dataclass(frozen=True, slots=True)
class Selector:
    sys_object_id: tuple[Oid, ...] = ()
    sys_descr: re.Pattern[str] | None = None
    vendor: frozenset[str] = frozenset()

    def matches(self, object_id: Oid | None, descr: str, vendor: str) -> bool:
        if self.sys_object_id and (object_id is None or not any(
                object_id[: len(p)] == p for p in self.sys_object_id)):
            return False
        if self.sys_descr is not None and not self.sys_descr.search(descr):
            return False
        return not (self.vendor and vendor not in self.vendor)


@dataclass(frozen=True, slots=True)
class CompiledProfile:
    name: str
    description: str
    source: str  # file path
    selector: Selector | None  # None: every device
    metrics: tuple[CompiledMetric, ...]
    measurements: tuple[Measurement, ...]  # what the file declares itself
    every: int = 1  # read on every Nth poll of a device (inventory changes seldom)

    def matches(self, object_id: Oid | None, descr: str, vendor: str) -> bool:
        return self.selector is None or self.selector.matches(object_id, descr, vendor)


@dataclass(slots=True)
class ProfileSet:
    profiles: dict[str, CompiledProfile] = field(default_factory=dict)
    measurements: dict[str, Measurement] = field(default_factory=dict)

    def select(self, object_id: Oid | None, descr: str, vendor: str,
               names: Sequence[str] | None = None) -> list[CompiledProfile]:
        """`names` None: every profile whose `match` holds (auto); else exactly those named."""
        if names is not None:
            return [self.profiles[n] for n in names if n in self.profiles]
        return [p for p in self.profiles.values() if p.matches(object_id, descr, vendor)]


def _measurement_of(decl: MeasurementDecl) -> Measurement:
    return Measurement(
        decl.name, decl.description,
        tags=tuple(TagSpec(n, d) for n, d in decl.tags.items()),
        fields=tuple(FieldSpec(n, FieldKind(f.kind), f.unit, f.description)
                     for n, f in decl.fields.items()))


class _Compiler:
    def __init__(self, db: MibDb, known: Mapping[str, Measurement], src: Any) -> None:
        self.db = db
        self.known = known
        self.src = src
        self.problems: list[Problem] = []

    def _at(self, loc: Sequence[str | int]) -> str:
        return locate(self.src, loc, where(self.src))

    def _obj(self, name: str | None, loc: Sequence[str | int]) -> MibObject | None:
        if name is None:
            return None
        try:
            obj = self.db.resolve(name)
        except UnknownObject as exc:
            self.problems.append(Problem(self._at(loc), str(exc)))
            return None
        if obj.node not in ("scalar", "column"):
            self.problems.append(Problem(self._at(loc), f"{obj.qualified} is a {obj.node}, "
                                         "not a readable object (name a column or scalar)"))
            return None
        return obj

    def _map(self, spec: ValueSpec, obj: MibObject | None,
             loc: Sequence[str | int]) -> Mapping[Scalar, Scalar] | None:
        if spec.map is None:
            return None
        labels = {label: num for num, label in obj.enum.items()} if obj else {}
        out: dict[Scalar, Scalar] = {}
        for key, target in spec.map.items():
            if isinstance(key, str) and key in labels:
                out[labels[key]] = target
            elif isinstance(key, str) and obj is not None and obj.enum and not key.lstrip(
                    "-").isdigit():
                self.problems.append(Problem(self._at([*loc, "map"]), (
                    f"{key!r} is not a value of {obj.qualified} "
                    f"(it has {', '.join(obj.enum.values())})")))
            elif isinstance(key, str) and key.lstrip("-").isdigit():
                out[int(key)] = target
            else:
                out[key] = target
        return out

    def _value(self, spec: ValueSpec, base: MibObject | None,
               loc: Sequence[str | int]) -> Value:
        obj = self._obj(spec.object, [*loc, "object"])
        if spec.object is None and spec.value is None and spec.index is None:
            self.problems.append(Problem(self._at(loc), "give `object`, `value` or `index`"))
        v = Value(
            spec, obj, self._obj(spec.via, [*loc, "via"]),
            self._obj(spec.si_scale, [*loc, "si_scale"]),
            self._obj(spec.precision, [*loc, "precision"]),
            self._obj(spec.times, [*loc, "times"]),
            tuple(o for i, n in enumerate(spec.plus) if (o := self._obj(n, [*loc, "plus", i]))),
            tuple(o for i, n in enumerate(spec.percent_of)
                  if (o := self._obj(n, [*loc, "percent_of", i]))),
            self._map(spec, obj, loc), frozenset(spec.skip))
        self._check_join(v, base, loc)
        return v

    def _check_join(self, v: Value, base: MibObject | None, loc: Sequence[str | int]) -> None:
        """Index positions must exist in the row, and a join must line up with its table."""
        if base is None:
            return
        base_index = self.db.index_of(base)
        positions = v.spec.index or []
        if base.node == "scalar" and positions:
            self.problems.append(Problem(self._at([*loc, "index"]),
                                         f"bad index: {base.qualified} is a scalar"))
            return
        for p in positions:
            if base_index and not 0 <= p < len(base_index):
                names = ", ".join(o.name for o in base_index)
                self.problems.append(Problem(self._at([*loc, "index"]), (
                    f"bad index: position {p}, but {base.qualified}'s row is indexed by "
                    f"{len(base_index)} object(s) ({names})")))
        if v.obj is None or v.obj.node == "scalar" or base.node == "scalar":
            return
        if v.via is not None:
            return
        # Every object of one row (and of a row that AUGMENTS it) joins on the whole index.
        for o in (v.obj, v.times, v.si_scale, v.precision, *v.plus, *v.percent_of):
            if o is None or o.node == "scalar":
                continue
            own = self.db.index_of(o)
            if positions:
                if own and len(own) != len(positions):
                    self.problems.append(Problem(self._at([*loc, "index"]), (
                        f"bad index: {o.qualified} is indexed by {len(own)} object(s), "
                        f"the join gives {len(positions)}")))
                continue
            if own and base_index and [x.name for x in own] != [x.name for x in base_index] \
                    and not _same_kind(own, base_index):
                self.problems.append(Problem(self._at(loc), (
                    f"bad index: {o.qualified} is indexed by "
                    f"({', '.join(x.name for x in own)}), the row by "
                    f"({', '.join(x.name for x in base_index)}); give `index:` positions or "
                    "`via:` a column holding the key")))

    def metric(self, m: MetricSpec, loc: list[str | int], declared: Mapping[str, Measurement]
               ) -> CompiledMetric | None:
        meas = declared.get(m.measurement) or self.known.get(m.measurement)
        if meas is None:
            self.problems.append(Problem(self._at([*loc, "measurement"]), (
                f"measurement {m.measurement!r} is not declared: declare it under "
                "`measurements:` in this file, or write to a built-in one")))
        else:
            for f in m.fields:
                if meas.field(f) is None:
                    self.problems.append(Problem(self._at([*loc, "fields", f]), (
                        f"field {f!r} is not declared for {m.measurement} "
                        f"(declared: {', '.join(sorted(meas.field_names()))})")))
            for t in m.tags:
                if not meas.open_tags and t not in meas.tag_names():
                    self.problems.append(Problem(self._at([*loc, "tags", t]), (
                        f"tag {t!r} is not declared for {m.measurement} "
                        f"(declared: {', '.join(sorted(meas.tag_names())) or 'none'})")))
        if not m.fields:
            self.problems.append(Problem(self._at(loc), "a metric needs at least one field"))
            return None
        first = next(iter(m.fields.values()))
        base = self._obj(first.object, [*loc, "fields", next(iter(m.fields)), "object"])
        if base is None:
            if first.object is None:
                self.problems.append(Problem(self._at([*loc, "fields"]),
                                             "the first field must name an `object`"))
            return None
        fields = tuple((n, self._value(s, base, [*loc, "fields", n]))
                       for n, s in m.fields.items())
        scalar = base.node == "scalar"
        for n, v in fields:
            if v.obj is not None and (v.obj.node == "scalar") != scalar and v.spec.via is None \
                    and not v.spec.index:
                self.problems.append(Problem(self._at([*loc, "fields", n, "object"]), (
                    f"{v.obj.qualified} is a {v.obj.node}, {base.qualified} a {base.node}: "
                    "one metric reads either scalars or rows")))
        tags = tuple((n, self._value(s, base, [*loc, "tags", n])) for n, s in m.tags.items())
        conds = []
        for i, c in enumerate(m.where):
            conds.append(self._cond(c, base, [*loc, "where", i]))
        ints = frozenset(n for n in m.fields if meas is not None
                         and (spec := meas.field(n)) is not None
                         and spec.kind in (FieldKind.COUNTER, FieldKind.STATE, FieldKind.INFO))
        return CompiledMetric(m.measurement, scalar, base, tags, fields, tuple(conds), ints)

    def _cond(self, c: Condition, base: MibObject, loc: list[str | int]) -> Cond:
        regex = None
        if c.regex is not None:
            try:
                regex = re.compile(c.regex)
            except re.error as exc:
                self.problems.append(Problem(self._at([*loc, "regex"]), f"bad regex: {exc}"))
        not_regex = None
        if c.not_regex is not None:
            try:
                not_regex = re.compile(c.not_regex)
            except re.error as exc:
                self.problems.append(Problem(self._at([*loc, "not_regex"]),
                                             f"bad regex: {exc}"))
        if c.in_ is None and c.not_in is None and regex is None and not_regex is None:
            self.problems.append(Problem(self._at(loc),
                                         "give `in`, `not_in`, `regex` or `not_regex`"))
        value = self._value(c, base, loc)
        return Cond(value, self._labels(c.in_, value.obj), self._labels(c.not_in, value.obj),
                    regex, not_regex)

    @staticmethod
    def _labels(values: list[Scalar] | None, obj: MibObject | None) -> frozenset[Scalar] | None:
        """`in: [module]` may name enum labels; they compare as their numbers."""
        if values is None:
            return None
        labels = {label: num for num, label in obj.enum.items()} if obj else {}
        return frozenset(labels.get(v, v) if isinstance(v, str) else v for v in values)


def _same_kind(a: Sequence[MibObject], b: Sequence[MibObject]) -> bool:
    """Two INDEX clauses that are one key under other names (ifIndex vs a vendor's own
    ifIndex-valued object, entPhysicalIndex vs a vendor's PhysicalIndex): same count, all
    integers. A wrong join of this kind gives empty lookups, not wrong data."""
    ints = ("Integer32", "INTEGER", "Unsigned32", "Gauge32")
    return len(a) == len(b) and all(x.type in ints and y.type in ints for x, y in zip(a, b,
                                                                                     strict=True))


def compile_profile(src: Any, path: Path, known: Mapping[str, Measurement],
                    db: MibDb | None = None) -> CompiledProfile:
    """One parsed YAML document → a checked profile; ConfigError lists every problem."""
    fallback = f"{path}:1"
    try:
        doc = ProfileDoc.model_validate(src)
    except ValidationError as exc:
        raise ConfigError([Problem(p.where, f"profile: {p.message}")
                           for p in pydantic_problems(exc, src, fallback)]) from None
    c = _Compiler(db or mib_db(), known, src)
    declared: dict[str, Measurement] = {}
    for i, decl in enumerate(doc.measurements):
        if decl.name in known:
            c.problems.append(Problem(c._at(["measurements", i, "name"]), (
                f"measurement {decl.name!r} is built in: write to it without declaring it")))
        declared[decl.name] = _measurement_of(decl)
    metrics = []
    for i, m in enumerate(doc.metrics):
        cm = c.metric(m, ["metrics", i], declared)
        if cm is not None:
            metrics.append(cm)
    selector = None
    if doc.match is not None:
        oids: list[Oid] = []
        for i, s in enumerate(doc.match.sys_object_id):
            try:
                oids.append(oid_from_str(s.lstrip(".")))
            except ValueError:
                c.problems.append(Problem(c._at(["match", "sys_object_id", i]),
                                          f"bad OID {s!r}"))
        descr = None
        if doc.match.sys_descr is not None:
            try:
                descr = re.compile(doc.match.sys_descr, re.IGNORECASE)
            except re.error as exc:
                c.problems.append(Problem(c._at(["match", "sys_descr"]), f"bad regex: {exc}"))
        selector = Selector(tuple(oids), descr, frozenset(doc.match.vendor))
    if c.problems:
        raise ConfigError(c.problems)
    return CompiledProfile(doc.name or path.stem, doc.description, str(path), selector,
                           tuple(metrics), tuple(declared.values()), doc.every)


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml")
                  and p.is_file())


def load_profiles(user_dirs: Iterable[Path] = (), *, builtin: bool = True) -> ProfileSet:
    """Built-in profiles, then each user directory's (a same-named profile replaces one)."""
    known: dict[str, Measurement] = {m.name: m for m in HEALTH_MEASUREMENTS}
    out = ProfileSet(measurements=dict(known))
    problems: list[Problem] = []
    dirs = ([BUILTIN_DIR] if builtin else []) + list(user_dirs)
    for directory in dirs:
        if not directory.is_dir():
            problems.append(Problem(str(directory), "profiles_dir is not a directory"))
            continue
        seen_here: dict[str, str] = {}
        for path in _files(directory):
            if path.stat().st_size > MAX_PROFILE_BYTES:
                problems.append(Problem(f"{path}:1", f"profile larger than "
                                        f"{MAX_PROFILE_BYTES} bytes"))
                continue
            try:
                prof = compile_profile(load_yaml_file(path), path, out.measurements)
            except ConfigError as exc:
                problems.extend(exc.problems)
                continue
            if prof.name in seen_here:
                problems.append(Problem(f"{path}:1", f"profile {prof.name!r} is also defined "
                                        f"in {seen_here[prof.name]}"))
                continue
            seen_here[prof.name] = str(path)
            out.profiles[prof.name] = prof
            for m in prof.measurements:
                out.measurements[m.name] = m
    if problems:
        raise ConfigError(problems)
    return out


@functools.cache
def builtin_profiles() -> ProfileSet:
    return load_profiles()
