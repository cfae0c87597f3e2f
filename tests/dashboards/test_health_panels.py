"""Every panel of the device-health dashboard returns data from a real VictoriaMetrics fed with
what the real `snmp` collector reads from the simulated campus (health tables, optics, PoE, STP,
a UPS), sent as line protocol the way the influxdb exporter sends it, with the place tags the
framework adds. (test_panels_have_data runs the whole demo; this one keeps the poll free of the
demo's 8-second interval, so a loaded machine cannot starve it.)"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent.core.errors import CollectError, PartialCollect
from agent.core.lineprotocol import render
from agent.core.model import Item, Metric
from agent.core.plugin import BuildContext, Target
from collectors.snmp.plugin import SnmpConfig, build
from collectors.snmp.sim import serve
from collectors.snmp.sim.plan import make_plan
from collectors.snmp.sim.write import INVENTORY, credentials_list, write_plan
from config.credentials import Credential, SnmpV2cCredential
from inventory.loader import load_inventory
from tests.collectors.snmp.simhelpers import world_readable_dir
from tests.dashboards.test_dashboards import FILES, load, substitute
from tests.servers import VictoriaMetrics, free_port, snmpsim_binary


def _query(url: str, expr: str) -> list[object]:
    q = urllib.parse.urlencode({"query": substitute(expr)})
    with urllib.request.urlopen(f"{url}/api/v1/query?{q}", timeout=20) as r:
        body = json.loads(r.read())
    assert body["status"] == "success", body
    result: list[object] = body["data"]["result"]
    return result


async def _campus_lines(tmp_path: Path) -> list[str]:
    """Two polls of every simulated device, as line protocol with the framework's place tags."""
    work = world_readable_dir("campusmon-health-dash-")
    plan = make_plan(4, 3, campus="hdash", seed=9, port=free_port("127.0.0.1", kind=2),
                     ups=True)
    write_plan(plan, work / "campus")
    server = serve(work / "campus")
    lines: list[str] = []
    try:
        inv = load_inventory(work / "campus" / INVENTORY)
        creds: dict[str, Credential] = {
            c["name"]: SnmpV2cCredential(name=c["name"], type="snmp_v2c",
                                         community=SecretStr(c["community"]))
            for c in credentials_list(plan)}
        poller = build(SnmpConfig(port=plan.port, request_timeout_secs=3.0, retries=2),
                       BuildContext(instance="snmp/t", inventory=inv, credentials=creds,
                                    data_dir=tmp_path, config_dir=tmp_path))
        for round_ in range(2):  # two polls: rates (port errors) need a previous sample
            if round_:
                await asyncio.sleep(2.0)
            for dev in inv.devices:
                if dev.credential not in creds:
                    continue
                t = Target(id=dev.id, device=dev, ipv4=dev.ipv4, credential=dev.credential)
                try:
                    items: list[Item] = list(await poller.poll(t))
                except PartialCollect as exc:
                    items = list(exc.items)
                except CollectError:
                    items = []
                place = {**t.tags(), "campus": plan.code}
                lines += [render(Metric(m.name, {**m.tags, **place}, m.fields, m.ts_ns))
                          for m in items if isinstance(m, Metric)]
        await poller.close()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return lines


@pytest.mark.timeout(300)
def test_device_health_panels_have_data(tmp_path: Path,
                                        victoria_metrics: VictoriaMetrics) -> None:
    snmpsim_binary()
    lines = asyncio.run(_campus_lines(tmp_path))
    req = urllib.request.Request(f"{victoria_metrics.url}/write",
                                 data="\n".join(lines).encode(), method="POST")
    urllib.request.urlopen(req, timeout=20).read()
    urllib.request.urlopen(f"{victoria_metrics.url}/internal/force_flush", timeout=10).read()
    time.sleep(1.0)
    dash = load(next(f for f in FILES if f.stem == "campusmon-device-health"))
    empty = [f"{p['title']}: {t['expr']}" for p in dash["panels"] for t in p["targets"]
             if not _query(victoria_metrics.url, t["expr"])]
    assert not empty, "panels without data:\n" + "\n".join(empty)
