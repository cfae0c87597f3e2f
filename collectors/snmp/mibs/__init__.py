"""The compiled MIB objects (`objects.json`, built by `build.py` from the MIB sources).

Names resolve as `MIB::object` or a bare `object` when only one MIB defines it. Loaded once
per process; the file is package data, so a profile never needs a MIB file at runtime.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collectors.snmp.session import Oid, oid_from_str

OBJECTS_FILE = Path(__file__).with_name("objects.json")


@dataclass(frozen=True, slots=True)
class MibObject:
    mib: str
    name: str
    oid: Oid
    node: str  # scalar | column | table | row
    type: str  # base syntax ("Integer32", "OCTET STRING", "Counter64" …); "" for tables/rows
    enum: Mapping[int, str]
    units: str
    row: str  # a column's row, qualified (MIB::entry); "" otherwise
    index: tuple[str, ...]  # a row's INDEX objects, qualified
    augments: str  # a row that AUGMENTS another (shares its index), qualified

    @property
    def qualified(self) -> str:
        return f"{self.mib}::{self.name}"


class UnknownObject(KeyError):
    """No compiled MIB defines the name, or several do and the name is not qualified."""

    def __str__(self) -> str:
        return str(self.args[0])


class MibDb:
    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.sources_sha256: str = doc.get("sources_sha256", "")
        self._objects: dict[str, MibObject] = {}
        self._by_name: dict[str, list[str]] = {}
        for qualified, e in doc["objects"].items():
            mib, _, name = qualified.partition("::")
            self._objects[qualified] = MibObject(
                mib, name, oid_from_str(e["oid"]), e["node"], e.get("type", ""),
                {int(k): v for k, v in e.get("enum", {}).items()}, e.get("units", ""),
                self._qualify(mib, e.get("row", "")), tuple(e.get("index", ())),
                e.get("augments", ""))
            self._by_name.setdefault(name, []).append(qualified)

    @staticmethod
    def _qualify(mib: str, name: str) -> str:
        return f"{mib}::{name}" if name and "::" not in name else name

    def __len__(self) -> int:
        return len(self._objects)

    def resolve(self, name: str) -> MibObject:
        if "::" in name:
            obj = self._objects.get(name)
            if obj is None:
                raise UnknownObject(f"unknown MIB object {name!r} (not in the compiled MIBs)")
            return obj
        found = self._by_name.get(name, [])
        if not found:
            raise UnknownObject(f"unknown MIB object {name!r} (not in the compiled MIBs)")
        if len(found) > 1:
            raise UnknownObject(f"{name!r} is defined by {', '.join(sorted(found))}: "
                                "write MIB::object")
        return self._objects[found[0]]

    def index_of(self, column: MibObject) -> tuple[MibObject, ...]:
        """The INDEX objects of a column's row (through AUGMENTS); () for scalars."""
        if not column.row:
            return ()
        row = self._objects.get(column.row)
        seen = 0
        while row is not None and row.augments and seen < 8:  # bounded: no AUGMENTS loops
            row = self._objects.get(row.augments)
            seen += 1
        if row is None:
            return ()
        return tuple(self._objects[i] for i in row.index if i in self._objects)


@functools.cache
def mib_db() -> MibDb:
    return MibDb(json.loads(OBJECTS_FILE.read_text(encoding="utf-8")))
