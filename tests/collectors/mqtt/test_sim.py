"""The fleet simulator: its inventory loads, and the agent's view matches its ground truth."""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from agent.core.model import Metric
from collectors.mqtt.classes import IotClass, class_of
from collectors.mqtt.sim import FleetOptions, generate_inventory, start_fleet
from collectors.mqtt.sim.cli import register
from inventory.loader import load_inventory
from tests.collectors.mqtt.helpers import (
    Recorder,
    make_listener,
    running,
    targets_of,
    wait_connected,
)
from tests.servers import Mosquitto, unavailable


def test_generated_inventory_loads_and_places_radio_sensors(tmp_path: Path) -> None:
    path = generate_inventory(tmp_path / "iot.yaml", per_class=4, seed=7)
    inv = load_inventory(path)
    classes = [class_of(d) for d in inv.devices]
    assert all(classes.count(c) == 4 for c in IotClass)
    rooms = {r.id: r for r in inv.rooms}
    for d in inv.devices:
        if class_of(d) in (IotClass.CPE_5G, IotClass.WIFI_SURVEY):
            assert d.room is not None and rooms[d.room].kind.is_teaching_place
    # the same seed writes the same file
    again = generate_inventory(tmp_path / "again.yaml", per_class=4, seed=7)
    assert again.read_text() == path.read_text()


def test_cli_generate(tmp_path: Path) -> None:
    out = tmp_path / "inv.yaml"
    # our subcommand on its own parser: main() would install a log handler on the captured
    # stderr, and build_parser() imports every other package's subcommands too
    parser = argparse.ArgumentParser(prog="campusmon")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["sim-iot", "generate", "--out", str(out), "--per-class", "1"])
    assert args.func(args) == 0
    assert len(load_inventory(out).devices) == len(IotClass)


@pytest.mark.timeout(90)
async def test_fleet_against_agent(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """Outages in the ground truth appear as down/up events; malformed messages are counted."""
    inv_path = generate_inventory(tmp_path / "iot.yaml", per_class=2, heartbeat_secs=1.0,
                                  campus="sim-e2e", seed=3)
    inv = load_inventory(inv_path)
    rec = Recorder(targets_of(inv))
    # 1 s heartbeats from ~25 Python threads on a busy 2-core machine can slip by half a
    # second: stale at 2× here (the 1.5× default is tested on its own in test_liveness_live)
    lst = make_listener({"host": mosquitto.host, "port": mosquitto.port,
                         "report_interval_secs": 1.0, "liveness_tick_secs": 0.25,
                         "stale_factor": 2.0}, inv, tmp_path)
    opts = FleetOptions(seed=3, outage_fraction=0.2, outage_secs=4.0, malformed_rate=0.1,
                        goodbye=False)
    async with running(lst, rec):
        await wait_connected(lst)
        handle = start_fleet(mosquitto.host, mosquitto.port, inv, 14.0, opts,
                             truth_path=tmp_path / "truth.json")
        await asyncio.to_thread(handle.thread.join, 30)
        truth = handle.stop()
        await asyncio.sleep(1.2)
    data = json.loads((tmp_path / "truth.json").read_text())
    assert data["per_class"] and not data["unconnected"]
    assert truth.outages and all(o.down_at and o.up_at for o in truth.outages)
    for o in truth.outages:
        downs = rec.events("device_down", o.device)
        ups = rec.events("device_up", o.device)
        assert downs and ups, (o, [(e.summary, e.ts_ns / 1e9 - truth.started)
                                   for e in rec.events(device=o.device)])
        assert downs[0].labels["reason"] == ("offline_status" if o.mode == "last_will"
                                             else "stale")
        assert o.down_at is not None
        assert downs[0].ts_ns / 1e9 - o.down_at <= 2 * 1.0 * 2 + 0.5  # within 2× heartbeat
    # after the run the devices fall silent (no goodbye): only earlier downs are outages
    early = [e for e in rec.events("device_down") if e.ts_ns < truth.ended * 1e9]
    assert {e.device for e in early} == {o.device for o in truth.outages}, [
        (e.summary, e.ts_ns / 1e9 - truth.started) for e in early]
    malformed = sum(row.get("malformed", 0) for row in truth.per_class.values())
    bad = sum(int(m.fields["bad_payloads_total"]) for m in _last_per_device(rec))
    assert malformed > 0 and bad == malformed
    g5 = [m for m, _ in rec.items if getattr(m, "name", "") == "cellular_5g"]
    assert len(g5) == len(truth.readings_5g)


def _last_per_device(rec: Recorder) -> list[Metric]:
    last: dict[str, Metric] = {}
    for item, tags in rec.items:
        if isinstance(item, Metric) and item.name == "iot_device":
            last[tags["device"]] = item
    return list(last.values())


def test_fleet_added_to_an_existing_inventory(tmp_path: Path, repo_root: Path) -> None:
    base = repo_root / "inventory/examples/campus.yaml"
    out = generate_inventory(tmp_path / "elsewhere" / "combined.yaml", per_class=2, base=base)
    inv, before = load_inventory(out), load_inventory(base)
    assert inv.campus.code == before.campus.code
    assert {d.id for d in before.devices} <= {d.id for d in inv.devices}  # CSV import kept
    iot = [d for d in inv.devices if d.labels.get("simulated") == "true"]
    assert len(iot) == 2 * len(IotClass)
    assert all(d.room in {r.id for r in before.rooms} for d in iot)
    assert any(d.ipv6 for d in iot) and not all(d.ipv6 for d in iot)


@pytest.mark.timeout(60)
def test_cli_run_on_a_local_broker(tmp_path: Path, repo_root: Path) -> None:
    """The demo's path: a throw-away mosquitto, then `campusmon sim-iot run` as a process."""
    from collectors.mqtt.sim import start_local_broker

    broker, why = start_local_broker(tmp_path / "broker")
    if broker is None:
        unavailable(why)
    assert broker is not None
    try:
        inv = generate_inventory(tmp_path / "iot.yaml", per_class=1, heartbeat_secs=0.5)
        truth = tmp_path / "truth.json"
        out = subprocess.run(
            [str(repo_root / ".venv/bin/campusmon"), "sim-iot", "run", "--inventory", str(inv),
             "--host", broker.host, "--port", str(broker.port), "--duration", "3",
             "--truth", str(truth)], capture_output=True, text=True, timeout=40)
        assert out.returncode == 0, out.stderr
        summary = json.loads(out.stdout.strip().splitlines()[-1])
        assert summary["devices"] == len(IotClass) and summary["unconnected"] == 0
        data = json.loads(truth.read_text())
        assert set(data["per_class"]) == {c.value for c in IotClass}
        assert all(row["status"] >= 2 for row in data["per_class"].values())
    finally:
        broker.stop()
