"""`campusmon probe` and `campusmon ipv6-check` run inside the lab's client namespace."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agent.core.model import Metric
from agent.core.plugin import Target
from probes.web_ipv6.plugin import WebIpv6Config, WebIpv6Poller
from tests.probes.conftest import RESOLVER4, RESOLVER6, ZONE, DualStackLab
from tests.servers import REPO

pytestmark = [pytest.mark.root, pytest.mark.timeout(120)]


def _cli(lab: DualStackLab, *args: str) -> tuple[int, dict[str, Any]]:
    r = subprocess.run(["ip", "netns", "exec", lab.client, sys.executable, "-m", "agent.app.cli",
                        *args], capture_output=True, text=True, cwd=REPO, timeout=90)
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def test_probe_command_prints_json_per_family(dslab: DualStackLab) -> None:
    rc, doc = _cli(dslab, "probe", f"http://both.{ZONE}/", "--resolver", RESOLVER4,
                   "--count", "2", "--timeout", "1")
    assert rc == 0
    for fam in ("ipv4", "ipv6"):
        probes = {p["probe"]: p for p in doc["families"][fam]["probes"]}
        assert set(probes) == {"icmp", "tcp", "http"}
        assert all(p["ok"] for p in probes.values())
        assert probes["http"]["fields"]["status_code"] == 200
    assert doc["ipv6_regression"]["reason"] == "none"
    rc, doc = _cli(dslab, "probe", RESOLVER6, "--family", "ipv6", "--dns-name", ZONE,
                   "--no-icmp")
    assert list(doc["families"]) == ["ipv6"]
    dns = doc["families"]["ipv6"]["probes"]
    assert {(p["tags"]["transport"], p["tags"]["qtype"]) for p in dns} == {
        (t, q) for t in ("udp", "tcp") for q in ("A", "AAAA", "NS")}
    assert doc["ipv6_regression"] is None  # one family: nothing to compare


def test_ipv6_check_command_prints_the_result(dslab: DualStackLab) -> None:
    rc, doc = _cli(dslab, "ipv6-check", f"http://diff.{ZONE}/", "--resolver", RESOLVER4,
                   "--tries", "2", "--timeout", "2")
    assert rc == 1  # ran, and the site fails (content differs over IPv6)
    assert doc["schema"] == "campusmon.web_ipv6/1"
    assert doc["aaaa"]["pass"] and doc["homepage"]["pass"] and not doc["content"]["pass"]


def _poll_web(target: Target, out: Path) -> tuple[list[Any], str]:
    async def go() -> tuple[list[Any], str]:
        cfg = WebIpv6Config.model_validate({"resolvers": [RESOLVER4], "tries": 2,
                                            "try_interval_secs": 0, "timeout_secs": 2})
        poller = WebIpv6Poller(cfg, out)
        items = await poller.poll(target)
        metrics = [m for m in items if isinstance(m, Metric)]
        assert len(metrics) == len(items)
        return [(m.name, dict(m.tags), dict(m.fields)) for m in metrics], \
            (out / f"www.{ZONE}.json").read_text()
    return asyncio.run(go())


def test_web_ipv6_plugin_emits_metric_and_saves_json(dslab: DualStackLab,
                                                     tmp_path: Path) -> None:
    tmp_path.chmod(0o777)
    rows, saved = dslab.run(_poll_web, Target(id="portal", hostname=f"www.{ZONE}", port=80),
                            tmp_path)
    [(name, tags, fields)] = rows
    assert name == "web_ipv6_support" and tags == {"site": f"www.{ZONE}"}
    assert fields["aaaa"] == 1 and fields["links_l3_ratio"] == 0.75
    assert json.loads(saved)["site"] == f"www.{ZONE}"


def test_agent_once_renders_paired_probe_series(dslab: DualStackLab, tmp_path: Path) -> None:
    """The whole agent (`campusmon once`) with a dualstack input: line protocol out."""
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(
        f"agent:\n  data_dir: {tmp_path}/data\n  timeout_secs: 20\ninputs:\n"
        "  - type: dualstack\n    targets:\n      inventory: false\n      static:\n"
        f"        - {{id: portal, hostname: www.{ZONE}, port: 80}}\n"
        f"    resolvers: [{RESOLVER4}]\n    icmp: {{count: 2, interval_secs: 0.01}}\n")
    r = subprocess.run(["ip", "netns", "exec", dslab.client, sys.executable, "-m", "agent.app.cli",
                        "once", "--config", str(cfg)], capture_output=True, text=True,
                       cwd=REPO, timeout=90)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    for m in ("probe_icmp", "probe_tcp", "probe_http"):
        for fam in ("ipv4", "ipv6"):
            assert any(line.startswith(m + ",") and f"family={fam}" in line
                       and "success=1" in line and "target=portal" in line for line in lines)
    assert any(line.startswith("probe_ipv6_regression,") and "reason=none" in line
               for line in lines)


def test_probe_command_takes_an_inventory_device(dslab: DualStackLab, tmp_path: Path) -> None:
    """TARGET may be a device id: its addresses and `services` decide the probes."""
    inv = tmp_path / "inventory.yaml"
    inv.write_text("campus: {code: lab, name: Lab}\ndevices:\n"
                   "  - {id: web-1, kind: server, ipv4: 10.99.1.2, ipv6: 'fd00:99:1::2',"
                   " services: [http, dns]}\n")
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(f"agent:\n  inventory: {inv}\n  data_dir: {tmp_path}/data\n"
                   "inputs:\n  - type: host\n")
    rc, doc = _cli(dslab, "probe", "web-1", "--config", str(cfg), "--count", "1",
                   "--dns-name", f"both.{ZONE}")
    assert rc == 0 and doc["target"] == "web-1"
    for fam in ("ipv4", "ipv6"):
        kinds = {(p["probe"], p["tags"].get("port") or p["tags"].get("qtype", ""))
                 for p in doc["families"][fam]["probes"]}
        assert {("icmp", ""), ("tcp", "53"), ("tcp", "80"), ("http", ""), ("dns", "A"),
                ("dns", "AAAA"), ("dns", "NS")} <= kinds
        assert all(p["ok"] for p in doc["families"][fam]["probes"]
                   if p["probe"] != "tcp" or p["tags"]["port"] != "53")
