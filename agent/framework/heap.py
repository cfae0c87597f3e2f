"""After start-up: the objects every later garbage collection would walk for nothing.

Imports, pydantic schemas, the catalogue, the inventory and the built plugins are alive for
the agent's lifetime, several hundred thousand tracked objects. CPython's full (oldest
generation) collection walks them every time; at MQTT ingest rates that was 13–15 % of the
collector's CPU (docs/performance.md). `gc.freeze()` moves them to the permanent generation
that collections skip. What is frozen was alive anyway; frozen objects that later die in a
reference cycle are not collected, so a reload unfreezes before dropping the old plugins and
settles again once they are unreachable (agent/framework/runtime.py; tests/agent/test_heap.py),
and only the agent's own process freezes (`campusmon run`).
"""

from __future__ import annotations

import gc


def settle_heap() -> int:
    """Collect once, then freeze what survived; returns the objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
