"""A listener context that records what a listener emits, and a bounded wait for it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from agent.core.model import Event, Item, Metric
from agent.core.plugin import ListenerContext, Target


@dataclass
class Recorder:
    items: list[tuple[Target | None, Item]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def emit(self, items: Sequence[Item], target: Target | None = None) -> None:
        self.items.extend((target, i) for i in items)

    def context(self, targets: Sequence[Target]) -> ListenerContext:
        return ListenerContext(emit=self.emit, targets=targets, count_error=self.errors.append)

    def events(self, kind: str | None = None) -> list[tuple[Target | None, Event]]:
        return [(t, i) for t, i in self.items
                if isinstance(i, Event) and (kind is None or i.kind == kind)]

    def metrics(self, name: str) -> list[Metric]:
        return [i for _, i in self.items if isinstance(i, Metric) and i.name == name]


async def wait_for(cond: Callable[[], bool], steps: int = 400, step_s: float = 0.025) -> bool:
    """Wait (bounded: steps x step_s) for `cond`; a correctness wait, never a timing check."""
    for _ in range(steps):
        if cond():
            return True
        await asyncio.sleep(step_s)
    return cond()
