"""Registers → field values, by the map. Pure; a value that cannot be a reading is set aside.

Within a register the bytes are big-endian (Modbus application protocol 4.2); the order of the
words of a 32/64-bit value is the device's (`word_order`: big = high word first).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from collectors.modbus.regmap import Block, RegisterMap, RegisterSpec

_FORMATS = {"int16": ">h", "uint16": ">H", "int32": ">i", "uint32": ">I", "int64": ">q",
            "uint64": ">Q", "float32": ">f", "float64": ">d"}


class BadValue(ValueError):
    """A register value that is not a reading (NaN, infinity: a meter's "no value")."""


@dataclass(frozen=True, slots=True)
class Decoded:
    values: dict[str, float | int]
    bad: list[tuple[str, str]]  # (field, why)


def value_of(spec: RegisterSpec, word_order: str, words: Sequence[int]) -> float | int:
    if spec.type == "bool":
        assert spec.bit is not None
        return (words[0] >> spec.bit) & 1
    ordered = list(words) if word_order == "big" else list(reversed(words))
    raw = b"".join(w.to_bytes(2, "big") for w in ordered)
    v: float | int = struct.unpack(_FORMATS[spec.type], raw)[0]
    if isinstance(v, float) and not math.isfinite(v):
        raise BadValue(f"{spec.type} is {v}")
    if spec.scale == 1.0 and spec.offset == 0.0:
        return v  # integers stay integers (counters)
    out = v * spec.scale + spec.offset
    return float(out)


def decode_block(m: RegisterMap, block: Block, data: Sequence[int] | Sequence[bool]) -> Decoded:
    """`data`: registers (or bits) from `block.address`, at least `block.count` of them."""
    values: dict[str, float | int] = {}
    bad: list[tuple[str, str]] = []
    for r in block.registers:
        at = r.address - block.address
        if block.function.is_bits:
            values[r.field] = 1 if data[at] else 0
            continue
        words = [int(w) for w in data[at:at + r.width]]
        try:
            values[r.field] = value_of(r, m.order_of(r), words)
        except BadValue as exc:
            bad.append((r.field, str(exc)))
    return Decoded(values, bad)


def encode(spec: RegisterSpec, word_order: str, value: float | int) -> list[int]:
    """The registers a device holds for `value` (the inverse of `value_of`): for simulators
    and tests."""
    if spec.type == "bool":
        assert spec.bit is not None
        return [(1 << spec.bit) if value else 0]
    raw_value = (value - spec.offset) / spec.scale if (spec.scale, spec.offset) != (1.0, 0.0) \
        else value
    if spec.type.startswith(("int", "uint")):
        raw_value = round(raw_value)
    raw = struct.pack(_FORMATS[spec.type], raw_value)
    words = [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]
    return words if word_order == "big" else list(reversed(words))
