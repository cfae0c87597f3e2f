"""`campusmon demo` (what `make demo` runs) collects points and shows them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agent.agentproc import campusmon


@pytest.mark.timeout(300)
def test_demo_prints_collected_points(tmp_path: Path) -> None:
    r = campusmon("demo", "--workdir", str(tmp_path / "demo"), "--intervals", "2",
                  "--interval-secs", "2", "--switches", "4", "--aps", "4", timeout=280)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Collected" in r.stdout and "host_cpu" in r.stdout
    collected = int(r.stdout.split("Collected ")[1].split()[0])
    assert collected > 0
