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


# The runtime's order on a reload: the old plugins must not be frozen again. A real agent
# (config file, inventory, registry) with a test poller whose instance sits in a reference
# cycle; after the reload its weak reference must die (frozen, it would live on).
RELOAD_CODE = """
import asyncio, gc, sys, weakref
from pathlib import Path
from agent.app.builtins import BUILTIN_SPECS
from agent.core.catalogue import Measurement, gauge
from agent.core.plugin import DefaultTargets, PluginKind, PluginSpec, Registry
from agent.framework.runtime import Agent
from config.base import StrictModel
from config.loader import load_config

class Cfg(StrictModel):
    pass

made = []

class Cyclic:
    def __init__(self):
        self.me = self  # only a collection frees it
    async def start(self): pass
    async def poll(self, target): return []
    async def close(self): pass

def build(cfg, ctx):
    made.append(weakref.ref(p := Cyclic()))
    return p

spec = PluginSpec(name="test_cyclic", kind=PluginKind.POLLER, config_model=Cfg, build=build,
                  description="test-only", default_targets=DefaultTargets.INVENTORY,
                  measurements=(Measurement("test_cyclic", "test-only",
                                            fields=(gauge("value", "", "one"),)),))
tmp = Path(sys.argv[1])
(tmp / "inventory.yaml").write_text(
    "campus:\\n  code: t\\n  name: t\\nbuildings:\\n  - id: b0\\n    name: b0\\n"
    "devices:\\n  - id: sw\\n    kind: access_switch\\n    building: b0\\n"
    "    ipv4: 127.0.0.1\\n")
(tmp / "agent.yaml").write_text(
    "agent:\\n  inventory: inventory.yaml\\n  data_dir: data\\n  interval_secs: 60\\n"
    "  local_store: {enabled: false}\\ninputs:\\n  - type: test_cyclic\\n")
registry = Registry([*BUILTIN_SPECS, spec])

async def main():
    agent = Agent(load_config(tmp / "agent.yaml", registry), registry, settle_heap=True)
    task = asyncio.create_task(agent.run())
    while len(made) < 1 or gc.get_freeze_count() == 0:
        await asyncio.sleep(0.05)
    first = made[0]
    assert first() is not None
    agent.request_reload()
    while len(made) < 2:
        await asyncio.sleep(0.05)
    for _ in range(100):  # the settle after the reload
        await asyncio.sleep(0.05)
        gc.collect()
        if first() is None:
            break
    agent.request_stop()
    await asyncio.wait_for(task, 30)
    print("collected" if first() is None else "kept")

asyncio.run(main())
"""


def test_a_reload_does_not_freeze_the_old_plugins(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", RELOAD_CODE, str(tmp_path)], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "collected", out.stderr[-2000:]
