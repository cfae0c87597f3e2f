"""Cap glibc's malloc arenas for the agent's process (what MALLOC_ARENA_MAX=2 does).

glibc gives each thread that allocates under contention its own arena, up to 8 per core, and
an arena keeps the high-water mark of what its thread once held. The agent's threads (the
pipeline worker, paho's network thread, the executor's workers, the store) each allocate a
tick's worth of objects in turn, so on a 1,000-switch campus RSS grew by tens of MiB of
free-but-kept arena memory (docs/performance.md, "Where memory goes"). Two arenas keep
contention low for the few threads that allocate at once. Called before any thread starts;
the operator's MALLOC_ARENA_MAX or GLIBC_TUNABLES glibc.malloc.arena_max, when set, wins.
Not glibc (musl, macOS): nothing to do.
"""

from __future__ import annotations

import ctypes
import os

M_ARENA_MAX = -8  # glibc malloc.h
DEFAULT_ARENAS = 2


def limit_malloc_arenas(arenas: int = DEFAULT_ARENAS) -> bool:
    """True when glibc accepted the cap; False when left alone (set by the operator, or no
    glibc)."""
    if os.environ.get("MALLOC_ARENA_MAX") or "arena_max" in os.environ.get(
            "GLIBC_TUNABLES", ""):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))
