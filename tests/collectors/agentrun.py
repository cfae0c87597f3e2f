"""Run the whole agent on a config for IoT collector tests, and read back what it stored:
the local store (SQLite) and VictoriaMetrics (`influxdb` output)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import yaml

from agent.app.builtins import builtin_registry
from agent.core.model import Metric
from agent.framework.localstore import LocalStore
from agent.framework.runtime import Agent
from config.loader import load_config
from tests.exporters.helpers import vm_export


def write_config(tmp: Path, inventory: dict[str, Any], inputs: list[dict[str, Any]],
                 vm_url: str | None, interval_s: float, timeout_s: float) -> Path:
    inv = tmp / "inventory.yaml"
    inv.write_text(yaml.safe_dump(inventory, allow_unicode=True))
    cfg: dict[str, Any] = {
        "agent": {"inventory": str(inv), "data_dir": str(tmp / "data"),
                  "interval_secs": interval_s, "timeout_secs": timeout_s,
                  "flush_interval_secs": 0.2, "jitter_secs": 0,
                  "local_store": {"enabled": True}},
        "inputs": inputs}
    if vm_url:
        cfg["outputs"] = [{"type": "influxdb", "name": "central", "url": vm_url,
                           "text_fields": False}]
    path = tmp / "agent.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True))
    return path


@contextlib.asynccontextmanager
async def running_agent(config: Path) -> AsyncIterator[Agent]:
    agent = Agent(load_config(config, builtin_registry()), builtin_registry())
    runner = asyncio.create_task(agent.run())
    try:
        yield agent
    finally:
        agent.request_stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(runner, 20)


def stored(data_dir: Path, measurement: str, **tags: str) -> list[Metric]:
    path = data_dir / "store.db"
    if not path.exists():
        return []
    store = LocalStore.open_readonly(path)
    try:
        return store.query(measurement, tags or None)
    finally:
        store.close()


async def wait_until(what: Callable[[], Any], limit_s: float = 20.0, step_s: float = 0.2
                     ) -> Any:
    """Poll `what` until it returns something truthy (bounded); returns it."""
    for _ in range(int(limit_s / step_s)):
        got = await asyncio.to_thread(what)
        if got:
            return got
        await asyncio.sleep(step_s)
    raise AssertionError(f"not within {limit_s}s: {what}")


def vm_last(url: str, name: str, **labels: str) -> dict[str, float]:
    """{__name__: last value} of the series named like `name` (a regex) with these labels."""
    sel = ",".join([f'__name__=~"{name}"', *(f'{k}="{v}"' for k, v in labels.items())])
    out: dict[str, float] = {}
    for row in vm_export(url, "{" + sel + "}"):
        metric, values, stamps = row["metric"], row["values"], row["timestamps"]
        assert isinstance(metric, dict) and isinstance(values, list)
        assert isinstance(stamps, list)
        out[str(metric["__name__"])] = float(max(zip(stamps, values, strict=True))[1])
    return out


def failed_in_a_row_before(rows: list[Metric], ts_ns: int, field: str = "up") -> int:
    """How many polls in a row had `field` == 0 up to `ts_ns` (the run that ended in a down
    event): 2 means down on the second failed poll, whatever happened earlier."""
    n = 0
    for r in sorted((r for r in rows if r.ts_ns <= ts_ns), key=lambda r: r.ts_ns):
        n = n + 1 if r.fields.get(field) == 0 else 0
    return n
