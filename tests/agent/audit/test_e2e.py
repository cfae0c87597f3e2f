"""End to end: simulators → agents (one per campus) → VictoriaMetrics → `campusmon report
--from` → report figures equal the ones computed from the simulators' ground truth.

Two campuses, so the province roll-up is exercised. Parts: the IoT fleet simulator
(collectors/mqtt/sim) on mosquitto with the MQTT collector, the audit processor, the influxdb
exporter into VictoriaMetrics, and the report command as a subprocess.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.agent.audit.reportcheck import (
    chromium_open,
    html_value,
    json_values,
    parse_html,
    targets_without_source,
)
from tests.servers import REPO, start_mosquitto

pytest.importorskip("paho.mqtt.client")
fleet_mod = pytest.importorskip("collectors.mqtt.sim.fleet")
invgen = pytest.importorskip("collectors.mqtt.sim.inventory_gen")

CAMPUSES = ("hn-voc-a", "hn-voc-b")
# vendors of the simulated IoT fleet that standards.md d.1 lists as domestic; every other
# vendor there (ZKTeco, Deli, ITC, Newcapec, Sunwin, Xiaomi, Seewo, Hitevision) is not in d.1
DOMESTIC_D1 = {"Hikvision", "Dahua", "Uniview", "Huawei", "ZTE", "Ruijie", "H3C"}


def _subscriptions_watch(host: str, port: int) -> tuple[Any, list[int]]:
    import paho.mqtt.client as mqtt

    seen: list[int] = []
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,  # type: ignore[attr-defined]
                    client_id="audit-e2e-watch")
    c.on_message = lambda _c, _u, msg: seen.append(int(msg.payload or b"0"))
    c.connect(host, port)
    c.subscribe("$SYS/broker/subscriptions/count")
    c.loop_start()
    return c, seen


def _agent_config(workdir: Path, inventory: Path, mqtt_port: int, vm_url: str) -> Path:
    cfg = {
        "agent": {"inventory": str(inventory), "data_dir": str(workdir / "data"),
                  "interval_secs": 2, "flush_interval_secs": 0.3,
                  "self_metrics_interval_secs": 5,
                  "local_store": {"enabled": True, "retention_hours": 2}},
        "inputs": [{"type": "mqtt", "host": "127.0.0.1", "port": mqtt_port,
                    "telemetry_qos": 1, "heartbeat_secs": {}}],
        "processors": [{"type": "audit", "emit_every_secs": 2, "window_secs": 3600}],
        "outputs": [{"type": "influxdb", "url": vm_url}],
    }
    path = workdir / "agent.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False))
    return path


def _campusmon(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _vm_flush(url: str) -> None:
    with urllib.request.urlopen(f"{url}/internal/force_flush", timeout=30):
        pass


def _truth_5g(readings: list[dict[str, Any]]) -> dict[str, float]:
    dl = [r["dl_mbps"] for r in readings]
    ul = [r["ul_mbps"] for r in readings]
    ok = [r for r in readings if r["dl_mbps"] >= 200 and r["ul_mbps"] >= 40]
    return {"n": len(readings), "dl_sum": sum(dl), "ul_sum": sum(ul), "ok": len(ok)}


@pytest.mark.timeout(240)
def test_simulated_campuses_to_province_report(tmp_path: Path, victoria_metrics: Any) -> None:
    # one broker per campus, as on site (and the simulated device ids repeat across campuses)
    brokers = {code: start_mosquitto(tmp_path / code / "mqtt", extra_conf="sys_interval 1")
               for code in CAMPUSES}
    watchers = {code: _subscriptions_watch(b.host, b.port) for code, b in brokers.items()}
    agents: list[subprocess.Popen[bytes]] = []
    try:
        inventories = {}
        for k, code in enumerate(CAMPUSES):
            inventories[code] = invgen.generate_inventory(
                tmp_path / code / "inventory.yaml", per_class=2, campus=code,
                campus_name=f"{code} 职业技术学院", heartbeat_secs=1.0, seed=k + 1)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not all(c for _, c in watchers.values()):
            time.sleep(0.1)
        base = {code: (c[-1] if c else 0) for code, (_, c) in watchers.items()}
        for code in CAMPUSES:
            cfg = _agent_config(tmp_path / code, inventories[code], brokers[code].port,
                                victoria_metrics.url)
            log = (tmp_path / code / "agent.log").open("wb")
            agents.append(subprocess.Popen(
                [sys.executable, "-m", "agent.cli", "run", "--config", str(cfg)], cwd=REPO,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        # each agent subscribed (its broker's own count) before any device publishes
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(
                c and c[-1] > base[code] for code, (_, c) in watchers.items()):
            time.sleep(0.1)
        for code, (_, c) in watchers.items():
            assert c and c[-1] > base[code], f"the {code} agent did not subscribe"
        opts = fleet_mod.FleetOptions(outage_fraction=0.0, malformed_rate=0.05,
                                      telemetry_qos=1, default_heartbeat_secs=1.0)
        handles = {code: fleet_mod.start_fleet(brokers[code].host, brokers[code].port,
                                               inventories[code], opts=opts)
                   for code in CAMPUSES}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(
                d.publisher is not None and d.publisher.connected
                for h in handles.values() for d in h.fleet.devices):
            time.sleep(0.2)
        time.sleep(10)
        truths = {code: h.stop() for code, h in handles.items()}
        time.sleep(3)  # the last telemetry reaches the agents and their next audit emission
    finally:
        for p in agents:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in agents:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        for w, _ in watchers.values():
            w.loop_stop()
        for b in brokers.values():
            b.stop()
    for code in CAMPUSES:
        assert not truths[code].unconnected, code
    _vm_flush(victoria_metrics.url)

    out = tmp_path / "report"
    r = _campusmon("report", "--from", victoria_metrics.url, "--window", "1h",
                   "--campus", CAMPUSES[0], "--campus", CAMPUSES[1], "--out", str(out))
    assert r.returncode == 0, r.stderr
    page = Path(r.stdout.strip())
    assert page == (out / "report.html").resolve()
    js = json_values(out / "report.json")
    cells = parse_html(page)
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [c["code"] for c in doc["campuses"]] == list(CAMPUSES)

    totals: dict[str, float] = {"n": 0, "dl_sum": 0.0, "ul_sum": 0.0, "ok": 0}
    for code in CAMPUSES:
        t = _truth_5g(truths[code].readings_5g)
        assert t["n"] > 0
        for key in totals:
            totals[key] += t[key]
        ind = next(i for c in doc["campuses"] if c["code"] == code for i in c["indicators"]
                   if i["indicator"] == "5g_dl_mean")
        assert ind["denominator"] == t["n"], f"{code}: every 5G reading reached the report"
        # the figures the HTML shows equal the ground truth
        assert html_value(cells, code, "5g_dl_mean") == pytest.approx(t["dl_sum"] / t["n"])
        assert html_value(cells, code, "5g_ul_mean") == pytest.approx(t["ul_sum"] / t["n"])
        assert html_value(cells, code, "5g_sample_compliance") == pytest.approx(
            100 * t["ok"] / t["n"])
        # Wi-Fi survey: median of the per-room, per-band medians
        per: dict[tuple[str, str], list[float]] = {}
        for w in truths[code].wifi_survey:
            for rd in w["readings"]:
                per.setdefault((w["room"], rd["band"]), []).append(rd["rssi_dbm"])
        want = statistics.median(statistics.median(v) for v in per.values())
        assert html_value(cells, code, "wifi_survey_rssi") == pytest.approx(want)
        # 国产化 of IoT devices: from the generated inventory's vendors and the d.1 table
        inv = yaml.safe_load(inventories[code].read_text(encoding="utf-8"))
        vendors = [d["vendor"] for b in inv["buildings"] for rm in b["rooms"]
                   for d in rm.get("devices", [])]
        dom = sum(v in DOMESTIC_D1 for v in vendors)
        assert html_value(cells, code, "localization_iot") == pytest.approx(100.0)  # no foreign
        iot = next(i for c in doc["campuses"] if c["code"] == code for i in c["indicators"]
                   if i["indicator"] == "localization_iot")
        assert (iot["numerator"], iot["unknown"]) == (dom, len(vendors) - dom)
    # province roll-up: Σ over both campuses, never an average of averages
    assert js[("province", "5g_dl_mean", "campus")] == pytest.approx(
        totals["dl_sum"] / totals["n"])
    assert html_value(cells, "province", "5g_sample_compliance") == pytest.approx(
        100 * totals["ok"] / totals["n"])
    assert targets_without_source(cells) == []
    console, dom_text = chromium_open(page, out / "report.png")
    assert console == []
    assert (out / "report.png").stat().st_size > 10_000
    assert "Province roll-up" in dom_text
