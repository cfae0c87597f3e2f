"""The local alert log: JSON lines, only alerts by default, bounded by rotation."""

from __future__ import annotations

import json
from pathlib import Path

from agent.core.model import Event, EventState, Severity
from agent.core.plugin import Batch, BatchKind
from agent.shared.alertlog import RotatingJsonLines
from exporters.alertlog.plugin import AlertLogConfig, AlertLogExporter


def _event(i: int, alert: bool = True) -> Event:
    labels = {"alertname": "rogue_dhcp"} if alert else {}
    return Event(f"k{i}", "rogue_dhcp", EventState.RAISED, Severity.CRITICAL,
                 f"rogue DHCP server {i} 非法DHCP", labels=labels, ts_ns=i)


async def test_only_alerts_are_logged_as_json_lines(tmp_path: Path) -> None:
    exp = AlertLogExporter(AlertLogConfig(), tmp_path)
    await exp.write(Batch(BatchKind.EVENTS, ["{}"] * 2, events=[_event(1), _event(2, False)]))
    lines = (tmp_path / "alerts" / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    rec = json.loads(lines[0])
    assert rec["key"] == "k1" and rec["summary"].endswith("非法DHCP") and rec["logged_at"]


def test_rotation_bounds_the_disk_used(tmp_path: Path) -> None:
    log = RotatingJsonLines(tmp_path / "a.jsonl", max_bytes=2000, backups=2)
    for i in range(200):
        log.append([{"i": i, "pad": "x" * 80}])
    files = log.files()
    assert [p.name for p in files] == ["a.jsonl", "a.jsonl.1", "a.jsonl.2"]
    assert all(p.stat().st_size <= 2000 for p in files)
    kept = [int(str(r["i"])) for r in log.read()]
    assert kept == list(range(kept[0], 200))  # the newest, in order, nothing in between lost
