"""The runtime side of the catalogue: a plugin writes only what its spec declares.

Checked once per (measurement, tag names, field names) shape and cached, so the cost on the
hot path is two key tuples and a dict lookup per item (a third of what adding the place tags
costs; a producer writes its keys in one order, so each shape is judged once). In production
an item breaking its declarations is set aside, counted (`agent_rejected`, reason
`undeclared_*`) and logged once per cause; in strict mode (tests:
`CAMPUSMON_STRICT_CATALOGUE=1`) it raises, so a plugin writing an undeclared field fails its
tests instead of silently breaking a dashboard.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from agent.core.catalogue import PLACE_TAG_NAMES, CatalogueError, Measurement
from agent.core.model import Metric

STRICT_ENV = "CAMPUSMON_STRICT_CATALOGUE"
_CACHE_MAX = 10_000  # shapes per plugin; open tag sets could grow it, so it is bounded

Shape = tuple[str, tuple[str, ...], tuple[str, ...]]


def strict_from_env() -> bool:
    return os.environ.get(STRICT_ENV, "") not in ("", "0", "false", "no")


class DeclarationCheck:
    """One plugin's (or the framework's) declarations, and the shapes already judged."""

    def __init__(self, owner: str, declared: Iterable[Measurement],
                 strict: bool | None = None) -> None:
        self.owner = owner
        self.declared = {m.name: m for m in declared}
        self.strict = strict_from_env() if strict is None else strict
        self._seen: dict[Shape, tuple[str, str] | None] = {}

    def problem(self, m: Metric) -> tuple[str, str] | None:
        """(reason, detail) when `m` breaks the declarations, else None; raises in strict
        mode. Tags the framework adds (place tags) are allowed: plugins may not declare them,
        and sub-entities (an AP behind its controller) set their own place."""
        shape = (m.name, tuple(m.tags), tuple(m.fields))
        try:
            found = self._seen[shape]
        except KeyError:
            found = self._judge(shape)
            if len(self._seen) >= _CACHE_MAX:
                self._seen.clear()
            self._seen[shape] = found
        if found is not None and self.strict:
            raise CatalogueError(f"{self.owner}: {found[1]}")
        return found

    def _judge(self, shape: Shape) -> tuple[str, str] | None:
        name, tags, fields = shape[0], frozenset(shape[1]), frozenset(shape[2])
        decl = self.declared.get(name)
        if decl is None:
            return ("undeclared_measurement",
                    f"measurement {name!r} is not declared on the plugin's spec")
        if decl.open_fields is None:
            extra = sorted(fields - decl.field_names())
            if extra:
                return ("undeclared_field", f"{name}: undeclared field(s) {', '.join(extra)}")
        if not decl.open_tags:
            extra = sorted(tags - decl.tag_names() - PLACE_TAG_NAMES)
            if extra:
                return ("undeclared_tag", f"{name}: undeclared tag(s) {', '.join(extra)}")
        return None
