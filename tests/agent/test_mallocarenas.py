"""The agent caps glibc's malloc arenas before its threads start (real glibc, real threads;
counted with glibc's own malloc_info report)."""

from __future__ import annotations

import ast
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Eight live threads each allocate (and keep) blocks malloc serves (> pymalloc's 512 bytes), then
# glibc's malloc_info counts the arenas ("<heap nr=...>").
CHILD = """
import ctypes, sys, threading
from agent.framework.mallocarenas import limit_malloc_arenas
capped = limit_malloc_arenas() if sys.argv[1] == "cap" else None
kept = []
ready, done = threading.Barrier(9), threading.Event()
def work():  # all eight alive at once (an exited thread's arena is handed to the next)
    kept.append([bytes(4096) for _ in range(200)])
    ready.wait()
    done.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
ready.wait()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
libc.malloc_info.argtypes = (ctypes.c_int, ctypes.c_void_p)
libc.fclose.argtypes = (ctypes.c_void_p,)
fp = libc.fopen(sys.argv[2].encode(), b"w")
libc.malloc_info(0, fp)
libc.fclose(fp)
print(capped, open(sys.argv[2]).read().count("<heap nr="))
done.set()
for t in threads: t.join()
"""

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")


def _arenas(tmp_path: Path, mode: str, env: dict[str, str] | None = None) -> tuple[str, int]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("MALLOC_ARENA_MAX", "GLIBC_TUNABLES")} | (env or {})
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(tmp_path / f"{mode}.xml")],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
                         check=True).stdout.split()
    return out[0], int(out[1])


def test_the_cap_holds_eight_threads_to_two_arenas(tmp_path: Path) -> None:
    capped, n = _arenas(tmp_path, "cap")
    assert capped == "True" and n <= 2
    # without it the same threads get their own arenas (what the cap saves)
    _, n_free = _arenas(tmp_path, "free")
    assert n_free > 2


def test_the_operators_setting_wins(tmp_path: Path) -> None:
    capped, n = _arenas(tmp_path, "cap", {"MALLOC_ARENA_MAX": "4"})
    assert capped == "False" and 2 < n <= 4


def test_the_glibc_tunable_wins_too(tmp_path: Path) -> None:
    capped, n = _arenas(tmp_path, "cap", {"GLIBC_TUNABLES": "glibc.malloc.arena_max=3"})
    assert capped == "False" and 2 < n <= 3


def test_the_agent_run_command_caps_before_building() -> None:
    """`cmd_run` calls the cap (a statement, not a comment) before it builds the Agent."""
    tree = ast.parse((REPO / "agent" / "app" / "cli.py").read_text())
    (cmd_run,) = [f for f in ast.walk(tree)
                  if isinstance(f, ast.FunctionDef) and f.name == "cmd_run"]
    calls = [c.func.id for c in ast.walk(cmd_run)
             if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)]
    assert "limit_malloc_arenas" in calls and "Agent" in calls
    lines = {c.func.id: c.lineno for c in ast.walk(cmd_run)
             if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
    assert lines["limit_malloc_arenas"] < lines["Agent"]
