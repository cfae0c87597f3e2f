"""Register maps as data: a YAML file per device model, validated with `file:line` errors.

A map names the registers a device serves (function, address, type, word order, scale, unit)
and the field each becomes. A user adds a device we do not ship by writing one YAML file, no
code; `campusmon check-config` validates it. The read plan (`plan_reads`) merges registers of one
unit and function into as few requests as the map allows: a device's own request limit
(`max_registers_per_request`; Eastron meters: 30 parameters = 60 registers) and holes no wider
than `max_gap_registers` (some devices answer "illegal address" for a hole: set it to 0).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from agent.core.errors import ConfigError, Problem
from agent.core.yamlsource import SourceDict, SourceList, load_yaml_file, load_yaml_text, where
from config.base import StrictModel
from inventory.loader import pydantic_problems

# Modbus application protocol v1.1b3, 6.1–6.4: at most 125 registers / 2000 bits per read.
MAX_REGISTERS = 125
MAX_BITS = 2000
MAX_REGISTERS_IN_MAP = 2000  # a bound on user input: a map is read every tick


class Function(enum.StrEnum):
    COIL = "coil"  # 01 read coils
    DISCRETE_INPUT = "discrete_input"  # 02 read discrete inputs
    HOLDING = "holding"  # 03 read holding registers
    INPUT = "input"  # 04 read input registers

    @property
    def is_bits(self) -> bool:
        return self in (Function.COIL, Function.DISCRETE_INPUT)

    @property
    def code(self) -> int:
        return _CODES[self]


_CODES = {Function.COIL: 1, Function.DISCRETE_INPUT: 2, Function.HOLDING: 3, Function.INPUT: 4}
_BY_CODE = {v: k for k, v in _CODES.items()}

ValueType = Literal["bool", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32",
                    "float64"]
WIDTH: dict[str, int] = {"bool": 1, "int16": 1, "uint16": 1, "int32": 2, "uint32": 2,
                         "int64": 4, "uint64": 4, "float32": 2, "float64": 4}
FieldName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
UnitId = Annotated[int, Field(ge=0, le=255)]


class RegisterSpec(StrictModel):
    field: FieldName
    function: Function
    address: int = Field(ge=0, le=65535)  # protocol address (0-based), not the 3xxxx number
    type: ValueType = "uint16"
    word_order: Literal["big", "little"] | None = None  # None: the map's
    bit: int | None = Field(default=None, ge=0, le=15)  # a bool packed in a register
    scale: float = 1.0
    offset: float = 0.0
    unit: str = Field(default="", max_length=16)
    unit_id: UnitId | None = None  # None: the map's
    description: str = Field(default="", max_length=200)

    @field_validator("function", mode="before")
    @classmethod
    def _code(cls, v: Any) -> Any:
        """`function: 4` or `function: input`."""
        if isinstance(v, int) and not isinstance(v, bool):
            if v not in _BY_CODE:
                raise ValueError("function codes 1, 2, 3, 4 (or coil, discrete_input, holding, "
                                 "input)")
            return _BY_CODE[v]
        return v

    @model_validator(mode="after")
    def _shape(self) -> RegisterSpec:
        if self.function.is_bits:
            if self.type != "bool":
                raise ValueError(f"a {self.function.value} is one bit: type must be bool")
            if self.bit is not None:
                raise ValueError("bit applies to registers, not to coils or discrete inputs")
        elif self.type == "bool" and self.bit is None:
            raise ValueError("a bool in a register needs `bit` (0 = least significant)")
        elif self.bit is not None and self.type != "bool":
            raise ValueError("bit goes with type bool")
        if self.address + self.width > 65536:
            raise ValueError(f"{self.type} at {self.address} runs past address 65535")
        if self.scale == 0:
            raise ValueError("scale 0 would turn every reading into the offset")
        return self

    @property
    def width(self) -> int:
        return 1 if self.function.is_bits else WIDTH[self.type]


class RegisterMap(StrictModel):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
    description: str = Field(default="", max_length=200)
    source: str = Field(default="", max_length=500)  # the manual the register table is from
    iot_class: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")] | None = None
    unit_id: UnitId = 1
    word_order: Literal["big", "little"] = "big"  # big: high word first (the usual)
    max_registers_per_request: int = Field(default=MAX_REGISTERS, ge=1, le=MAX_REGISTERS)
    max_gap_registers: int = Field(default=0, ge=0, le=MAX_REGISTERS)
    registers: list[RegisterSpec] = Field(min_length=1, max_length=MAX_REGISTERS_IN_MAP)
    where: str = ""  # file:line the map was read from (set by the loader)

    def order_of(self, r: RegisterSpec) -> str:
        return r.word_order or self.word_order

    def unit_of(self, r: RegisterSpec) -> int:
        return self.unit_id if r.unit_id is None else r.unit_id


@dataclass(frozen=True, slots=True)
class Block:
    """One read request: `count` registers (or bits) from `address`, and what lies in it."""

    unit_id: int
    function: Function
    address: int
    count: int
    registers: tuple[RegisterSpec, ...]


def plan_reads(m: RegisterMap, split: frozenset[tuple[int, Function, int]] = frozenset()
               ) -> list[Block]:
    """Fewest requests the map allows. `split` holds blocks (unit, function, start) a device
    refused as a whole ("illegal data address" for a hole): their registers go one by one."""
    groups: dict[tuple[int, Function], list[RegisterSpec]] = {}
    for r in m.registers:
        groups.setdefault((m.unit_of(r), r.function), []).append(r)
    out: list[Block] = []
    for (unit, fn), regs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1].code)):
        regs.sort(key=lambda r: (r.address, r.width))
        limit = MAX_BITS if fn.is_bits else m.max_registers_per_request
        gap = m.max_gap_registers
        cur: list[RegisterSpec] = []
        start = end = 0
        for r in regs:
            r_end = r.address + r.width
            if cur and r.address - end <= gap and max(end, r_end) - start <= limit:
                cur.append(r)
                end = max(end, r_end)
                continue
            if cur:
                out.extend(_emit(unit, fn, start, end, cur, split))
            cur, start, end = [r], r.address, r_end
        if cur:
            out.extend(_emit(unit, fn, start, end, cur, split))
    return out


def _emit(unit: int, fn: Function, start: int, end: int, regs: list[RegisterSpec],
          split: frozenset[tuple[int, Function, int]]) -> list[Block]:
    if (unit, fn, start) in split and len(regs) > 1:
        return [Block(unit, fn, r.address, r.width, (r,)) for r in regs]
    return [Block(unit, fn, start, end - start, tuple(regs))]


# ------------------------------------------------------------------ loading
def _check(m: RegisterMap, src: Any, fallback: str) -> list[Problem]:
    """What pydantic cannot see per register: duplicate fields, overlaps, request limits."""
    problems: list[Problem] = []
    regs_src = src.get("registers") if isinstance(src, SourceDict) else None

    def place(i: int) -> str:
        return where(regs_src, i) if isinstance(regs_src, SourceList) else fallback

    fields: dict[str, int] = {}
    cells: dict[tuple[int, Function, int], tuple[int, RegisterSpec]] = {}
    for i, r in enumerate(m.registers):
        if r.field in fields:
            problems.append(Problem(place(i), f"field '{r.field}' again (first at "
                                              f"{place(fields[r.field])})"))
        fields.setdefault(r.field, i)
        if not r.function.is_bits and r.width > m.max_registers_per_request:
            problems.append(Problem(place(i), f"{r.type} needs {r.width} registers, more than "
                                              f"max_registers_per_request "
                                              f"{m.max_registers_per_request}"))
        for a in range(r.address, r.address + r.width):
            key = (m.unit_of(r), r.function, a)
            other = cells.get(key)
            # several bools may share a register (one bit each); nothing else may overlap
            if other is not None and not (r.bit is not None and other[1].bit is not None
                                          and r.bit != other[1].bit):
                problems.append(Problem(place(i), f"'{r.field}' overlaps '{other[1].field}' "
                                                  f"({r.function.value} register {a})"))
                break
            cells.setdefault(key, (i, r))
    return problems


def parse_map(src: Any, file_name: str) -> RegisterMap:
    fallback = where(src) or file_name
    if not isinstance(src, dict):
        raise ConfigError.one(f"{file_name}:1", "a register map is a mapping with 'name' and "
                                                "'registers'")
    try:
        m = RegisterMap.model_validate(src)
    except ValidationError as exc:
        raise ConfigError(pydantic_problems(exc, src, fallback)) from None
    problems = _check(m, src, fallback)
    if problems:
        raise ConfigError(problems)
    return m.model_copy(update={"where": fallback})


def load_map_file(path: Path) -> RegisterMap:
    return parse_map(load_yaml_file(path), str(path))


def shipped_maps() -> dict[str, RegisterMap]:
    """The maps shipped in collectors/modbus/maps/ (each cites the manual it is from)."""
    out: dict[str, RegisterMap] = {}
    folder = resources.files("collectors.modbus").joinpath("maps")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            m = parse_map(load_yaml_text(entry.read_text("utf-8"),
                                         f"collectors/modbus/maps/{entry.name}"),
                          f"collectors/modbus/maps/{entry.name}")
            out[m.name] = m
    return out


def load_maps(paths: Iterable[Path]) -> dict[str, RegisterMap]:
    """Shipped maps plus the user's (files, or directories of *.yaml); every problem in every
    file is reported at once. A user map may replace a shipped one of the same name."""
    maps = shipped_maps()
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted([*p.glob("*.yaml"), *p.glob("*.yml")]))
        elif p.is_file():
            files.append(p)
        else:
            problems.append(Problem(str(p), "no such register map file or directory"))
    for f in files:
        try:
            m = load_map_file(f)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        if m.name in seen:
            problems.append(Problem(m.where, f"map '{m.name}' again (also at {seen[m.name]})"))
            continue
        seen[m.name] = m.where
        maps[m.name] = m
    if problems:
        raise ConfigError(problems)
    return maps


def names(maps: Sequence[RegisterMap]) -> str:
    return ", ".join(sorted(m.name for m in maps))
