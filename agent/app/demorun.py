"""What a demo run builds up: its work directory, the agent config it writes piece by piece (each
part of agent/app/demo_parts.py adds inputs, processors, outputs), and what to clean up."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass
class DemoRun:
    workdir: Path
    inventory: Path | None = None
    inputs: list[dict[str, Any]] = field(default_factory=list)
    processors: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    credentials: list[dict[str, Any]] = field(default_factory=list)
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    central_url: str | None = None

    def skip(self, what: str, why: str) -> None:
        self.notes.append(f"skipped {what}: {why}")
        print(f"  - skipped {what}: {why}")

    def write_config(self, interval: float) -> Path:
        cfg: dict[str, Any] = {
            # snmpsim answers ~3,300 varbinds/s on one core: give a device the whole interval
            "agent": {"interval_secs": interval, "timeout_secs": max(1.0, interval * 0.95),
                      "data_dir": "data", "flush_interval_secs": 0.5,
                      "self_metrics_interval_secs": interval,
                      "local_store": {"enabled": True, "retention_hours": 24}},
            "credentials": self.credentials,
            "inputs": self.inputs, "processors": self.processors, "outputs": self.outputs,
        }
        if self.inventory is not None:
            cfg["agent"]["inventory"] = str(self.inventory)
        path = self.workdir / "agent.yaml"
        path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False))
        return path

    def close(self) -> None:
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as exc:  # a demo cleanup must not hide the run's output
                print(f"  (cleanup: {exc})", file=sys.stderr)
