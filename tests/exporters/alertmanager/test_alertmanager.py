"""Alerts into a real prometheus-alertmanager on loopback, read back through GET /api/v2/alerts;
and the centre's outage: alerts still raised and logged locally, delivered once it is back."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from exporters.alertlog.plugin import AlertLogConfig, AlertLogExporter
from exporters.alertmanager.plugin import AlertmanagerConfig, AlertmanagerExporter
from inventory.models import DeviceKind
from tests.agent.processors.alerts.helpers import FakeClock, campus, dev, icmp, processor
from tests.agent.processors.alerts.rig import Rig
from tests.exporters.alertmanager.amserver import Alertmanager, start_alertmanager
from tests.servers import free_port

INV = campus([dev("sw-1", DeviceKind.ACCESS_SWITCH), dev("sw-2", DeviceKind.ACCESS_SWITCH)])
NOW_CFG = {"overrides": {"device_down_icmp": {"for_secs": 0}}}


def _by_device(alerts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {a["labels"]["device"]: a for a in alerts
            if a["labels"].get("alertname") == "device_down_icmp"}


@pytest.mark.timeout(60)
async def test_raised_then_resolved_in_alertmanager(tmp_path: Path,
                                                    alertmanager: Alertmanager) -> None:
    # the fake clock runs an hour behind: every timestamp we send is in Alertmanager's past
    clock = FakeClock(now_ns=time.time_ns() - 3600 * 10**9)
    proc = processor(INV, clock, {**NOW_CFG, "renotify_secs": 600},
                     rule_names=["device_down_icmp"])
    rig = Rig(tmp_path, proc, {"am": AlertmanagerExporter(AlertmanagerConfig(
        url=alertmanager.url, extra_labels={"source": "campusmon"}))})
    rig.submit([icmp(INV, "sw-1", False)])
    await rig.flush()
    assert await rig.deliver("am") == 1
    got = _by_device(alertmanager.wait_alerts(lambda a: "sw-1" in _by_device(a)))["sw-1"]
    assert got["labels"] == {
        "alertname": "device_down_icmp", "severity": "critical", "team": "ops",
        "source": "campusmon", "campus": "hn-demo", "building": "teach-a",
        "room": "teach-a-101", "device": "sw-1", "kind": "access_switch", "vendor": "Huawei"}
    assert got["annotations"]["notify_reason"] == "new"
    assert "does not answer ping" in got["annotations"]["summary"]
    assert got["status"]["state"] == "active"
    # a re-notification carries the same labels: still one alert in Alertmanager
    clock.advance(601)
    rig.submit([icmp(INV, "sw-1", False)])
    await rig.flush()
    assert await rig.deliver("am") == 1
    assert len(_by_device(alertmanager.alerts())) == 1
    clock.advance(30)
    rig.submit([icmp(INV, "sw-1", True)])
    await rig.flush()
    assert await rig.deliver("am") == 1
    alertmanager.wait_alerts(lambda a: "sw-1" not in _by_device(a))
    rig.close()


@pytest.mark.timeout(90)
async def test_centre_unreachable_alerts_logged_locally_and_delivered_later(
        tmp_path: Path) -> None:
    """The Alertmanager at the centre is down: the processor still raises, the local alert log
    records every alert at once, the disk queue keeps them, and they arrive (in order: sw-1's
    resolve does not get re-opened by its older raise) once the centre is back."""
    port = free_port()
    clock = FakeClock(now_ns=time.time_ns() - 3600 * 10**9)
    proc = processor(INV, clock, NOW_CFG, rule_names=["device_down_icmp"])
    log_cfg = AlertLogConfig(path=str(tmp_path / "log" / "alerts.jsonl"))
    rig = Rig(tmp_path, proc, {
        "log": AlertLogExporter(log_cfg, tmp_path),
        "am": AlertmanagerExporter(AlertmanagerConfig(url=f"http://127.0.0.1:{port}",
                                                      timeout_secs=2))})
    for items in ([icmp(INV, "sw-1", False), icmp(INV, "sw-2", False)],
                  [icmp(INV, "sw-1", True)]):
        rig.submit(items)
        await rig.flush()
        clock.advance(30)
        assert await rig.deliver("log") >= 1
        assert await rig.deliver("am") == 0  # refused: nothing listens at the centre
    logged = [json.loads(x) for x in (tmp_path / "log" / "alerts.jsonl").read_text().split("\n")
              if x]
    assert [(r["key"], r["state"]) for r in logged] == [
        ("device_down_icmp:sw-1", "raised"), ("device_down_icmp:sw-2", "raised"),
        ("device_down_icmp:sw-1", "resolved")]
    assert rig.depth("am") == 3
    am = start_alertmanager(tmp_path / "am", port)
    try:
        assert await rig.deliver("am") == 3
        assert rig.depth("am") == 0
        got = _by_device(am.wait_alerts(lambda a: "sw-2" in _by_device(a)))
        assert set(got) == {"sw-2"}  # sw-1 was resolved while the centre was away
    finally:
        am.stop()
        rig.close()
