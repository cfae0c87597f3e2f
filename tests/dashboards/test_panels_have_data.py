"""Every dashboard panel returns data from a VictoriaMetrics fed by the simulated campus:
snmpsim devices, the IoT fleet on mosquitto, loopback probes, audits and alerts, through the
agent's influxdb exporter (the demo's environment, run here with --central)."""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.app.demo import demo_environment, run_agent_for
from tests.dashboards.test_dashboards import all_exprs, substitute
from tests.servers import require_binary


@pytest.fixture(scope="module")
def fed_store() -> Iterator[str]:
    for binary in ("victoria-metrics", "mosquitto"):
        require_binary(binary)
    work = Path(tempfile.mkdtemp(prefix="campusmon-dash-"))
    work.chmod(0o755)
    args = argparse.Namespace(workdir=str(work / "demo"), intervals=5, interval_secs=8.0,
                              switches=3, aps=6, central=True)
    try:
        with demo_environment(args) as run:
            assert run.central_url, run.notes
            assert not run.notes, run.notes
            config = run.write_config(args.interval_secs)
            run_agent_for(config, args.intervals * args.interval_secs + 2)
            url = run.central_url
            urllib.request.urlopen(f"{url}/internal/force_flush", timeout=10).read()
            time.sleep(1.0)
            yield url
    finally:
        shutil.rmtree(work, ignore_errors=True)


def query(url: str, expr: str) -> list[Any]:
    q = urllib.parse.urlencode({"query": substitute(expr), "step": "30s"})
    with urllib.request.urlopen(f"{url}/api/v1/query?{q}", timeout=20) as r:
        body = json.loads(r.read())
    assert body["status"] == "success", body
    result: list[Any] = body["data"]["result"]
    return result


@pytest.mark.timeout(600)
def test_every_panel_returns_data(fed_store: str) -> None:
    empty = []
    checked = 0
    for dash, title, expr in all_exprs():
        if expr.startswith("label_values("):
            continue
        checked += 1
        if not query(fed_store, expr):
            empty.append(f"{dash} / {title}: {expr}")
    assert checked > 40
    assert not empty, "panels without data:\n" + "\n".join(empty)


def test_variables_list_values(fed_store: str) -> None:
    for label in ("campus", "building", "kind"):
        with urllib.request.urlopen(f"{fed_store}/api/v1/label/{label}/values",
                                    timeout=10) as r:
            assert json.loads(r.read())["data"], label
