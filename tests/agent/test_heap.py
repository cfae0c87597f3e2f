"""settle_heap: what start-up left alive leaves the collections; later garbage is still
collected. In a subprocess: freezing is process-wide, and this test run's heap is not ours."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CODE = """
import gc, weakref
from agent.framework.heap import settle_heap

class Node:
    pass

kept = [Node() for _ in range(10_000)]
frozen = settle_heap()
assert frozen >= 10_000, frozen
assert gc.get_freeze_count() == frozen

# garbage made after start-up (a reference cycle, as a finished poll's objects can be)
a, b = Node(), Node()
a.other, b.other = b, a
gone = weakref.ref(a)
del a, b
gc.collect()
assert gone() is None, "a cycle made after the freeze was not collected"

# a reload unfreezes first, so the old plugins' cycles can be collected
old = Node()
old.self = old
settle_heap()
dead = weakref.ref(old)
del old
gc.collect()
assert dead() is not None  # frozen: not collected
gc.unfreeze()
gc.collect()
assert dead() is None
print("ok")
"""


def test_settle_heap_freezes_start_up_and_later_garbage_is_collected() -> None:
    out = subprocess.run([sys.executable, "-c", CODE], cwd=REPO, capture_output=True,
                         text=True, timeout=60, check=True).stdout.strip()
    assert out == "ok"
