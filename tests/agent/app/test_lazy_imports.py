"""Start-up cost: importing the built-in plugins (what every `campusmon` command and the agent
do first) must not load the heavy client libraries of plugins nobody configured; each loads
where its plugin is built. A subprocess, so this test's own imports do not count."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

# (library, the plugin that loads it when built)
LAZY = (("bacpypes3", "bacnet"), ("influxdb_client", "influxdb"))


def test_builtin_specs_load_no_client_library() -> None:
    code = ("import sys, agent.app.builtins as b; assert b.BUILTIN_SPECS; "
            f"print(' '.join(m for m, _ in {LAZY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, timeout=120, check=True).stdout.strip()
    assert out == "", f"imported at start: {out}"
