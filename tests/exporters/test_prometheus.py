"""The prometheus exporter: a real Prometheus scrapes it, promtool finds nothing to fix,
vanished series vanish, auth and TLS guard it."""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from base64 import b64encode
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent.app.builtins import builtin_catalogue
from agent.core.model import Metric, MetricKind
from agent.framework.snapshot import Snapshot
from exporters.prometheus.plugin import PrometheusConfig, PrometheusExporter
from tests.exporters.helpers import self_signed
from tests.servers import ServerProcess, free_port, require_binary, wait_http

PLACE = {"campus": "hnvc", "building": "教学楼A", "room": "A-101", "device": "sw-1"}


def _snapshot(ttl: float = 300.0) -> Snapshot:
    now = time.time_ns()
    snap = Snapshot(ttl_secs=ttl)
    snap.update([
        Metric("host_net", {**PLACE, "interface": "eth0"},
               {"bytes_sent": 123456789, "bytes_recv": 42, "errin": 0}, now, MetricKind.COUNTER),
        Metric("host_cpu", PLACE, {"usage_percent": 12.5, "load1": 0.25, "count": 2}, now),
        Metric("snmp_device_info", {**PLACE, "model": "S5735", "os": "VRP"}, {"info": 1}, now),
        Metric("agent_plugin", {"campus": "hnvc", "plugin": "snmp", "instance": "snmp/core"},
               {"received_total": 10, "poll_seconds_total": 1.5, "last_poll_seconds": 0.2},
               now, MetricKind.COUNTER),
        Metric("probe_http", {**PLACE, "url": "http://x/", "family": "ipv6"},
               {"success": True, "duration_seconds": 0.031, "status_code": 200}, now),
        Metric("event", {"campus": "hnvc"}, {"summary": "text is not a sample"}, now),
        Metric("snmp_interface", {**PLACE, "ifname": "GE0/0/1"},  # marked a gauge by its maker
               {"in_octets": 2**40, "speed_mbps": 1000, "in_bps": 12.5, "oper_status": 1}, now),
    ])
    return snap


def _get(url: str, auth: str | None = None, ctx: ssl.SSLContext | None = None) -> str:
    req = urllib.request.Request(url)
    if auth:
        req.add_header("Authorization", "Basic " + b64encode(auth.encode()).decode())
    with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
        return str(r.read().decode())


async def _promtool_clean(text: str) -> None:
    promtool = require_binary("promtool")
    check = await asyncio.to_thread(
        subprocess.run, [promtool, "check", "metrics"], input=text.encode(),
        capture_output=True, timeout=30)
    assert check.returncode == 0 and not check.stdout.strip() and not check.stderr.strip(), \
        check.stdout.decode() + check.stderr.decode()


async def _exporter(snap: Snapshot, **cfg: object) -> PrometheusExporter:
    # types and units from the built-in catalogue, as the agent builds it
    exp = PrometheusExporter(PrometheusConfig.model_validate({"port": 0, **cfg}), snap.current,
                             builtin_catalogue())
    await exp.start()
    return exp


@pytest.mark.timeout(30)
async def test_exposition_follows_conventions_and_promtool_agrees(tmp_path: Path) -> None:
    exp = await _exporter(_snapshot())
    try:
        text = _get(f"http://127.0.0.1:{exp.port}/metrics")
    finally:
        await exp.close()
    assert ('host_net_bytes_sent_total{building="教学楼A",campus="hnvc",device="sw-1",'
            'interface="eth0",room="A-101"} 1.23456789e+08') in text
    assert "# TYPE host_net_bytes_sent_total counter" in text or \
        "# TYPE host_net_bytes_sent counter" in text
    assert "# HELP host_cpu_usage_percent campusmon host_cpu.usage_percent (gauge, in percent" \
        in text
    assert 'snmp_device_info{building="教学楼A",campus="hnvc",device="sw-1",model="S5735"' in text
    assert "agent_plugin_received_total{" in text and "agent_plugin_poll_seconds_total{" in text
    assert "# TYPE agent_plugin_last_poll_seconds gauge" in text
    assert "probe_http_success{" in text and "event_summary" not in text
    assert "host_cpu_count_value{" in text  # `_count` belongs to histograms
    assert "# TYPE snmp_interface_in_octets_total counter" in text or \
        "# TYPE snmp_interface_in_octets counter" in text
    assert "snmp_interface_in_octets_total{" in text
    assert "# TYPE snmp_interface_speed_mbps gauge" in text
    assert "# TYPE snmp_interface_in_bps gauge" in text
    await _promtool_clean(text)


@pytest.mark.timeout(30)
async def test_vanished_series_disappear(tmp_path: Path) -> None:
    snap = _snapshot(ttl=0.5)
    exp = await _exporter(snap)
    try:
        assert "host_net_bytes_sent_total" in _get(f"http://127.0.0.1:{exp.port}/metrics")
        await asyncio.sleep(0.7)
        snap.update([Metric("host_cpu", PLACE, {"usage_percent": 1.0})])
        text = _get(f"http://127.0.0.1:{exp.port}/metrics")
        assert "host_net_bytes_sent_total" not in text  # its device stopped reporting
        assert "host_cpu_usage_percent{" in text
    finally:
        await exp.close()


@pytest.mark.timeout(30)
async def test_basic_auth_and_tls(tmp_path: Path) -> None:
    cert, key = await asyncio.to_thread(self_signed, tmp_path)
    exp = await _exporter(_snapshot(), basic_auth_username="prom",
                          basic_auth_password=SecretStr("s3cret"), tls_cert_file=str(cert),
                          tls_key_file=str(key))
    ctx = ssl.create_default_context(cafile=str(cert))
    url = f"https://127.0.0.1:{exp.port}/metrics"
    try:
        with pytest.raises(urllib.error.HTTPError) as info:
            _get(url, ctx=ctx)
        assert info.value.code == 401
        with pytest.raises(urllib.error.HTTPError):
            _get(url, auth="prom:wrong", ctx=ctx)
        assert "host_cpu_usage_percent" in _get(url, auth="prom:s3cret", ctx=ctx)
        with pytest.raises(OSError):  # plain HTTP is not served
            _get(url.replace("https", "http"), auth="prom:s3cret")
    finally:
        await exp.close()


def test_bound_to_localhost_by_default() -> None:
    assert PrometheusConfig().listen_address == "127.0.0.1"
    with pytest.raises(ValueError):
        PrometheusConfig.model_validate({"basic_auth_username": "x"})


@pytest.mark.timeout(90)
async def test_real_prometheus_scrapes_and_answers_queries(tmp_path: Path) -> None:
    binary = require_binary("prometheus")
    exp = await _exporter(_snapshot())
    port = free_port()
    conf = tmp_path / "prometheus.yml"
    conf.write_text(f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: campusmon
    honor_labels: true
    static_configs:
      - targets: ["127.0.0.1:{exp.port}"]
""")
    url = f"http://127.0.0.1:{port}"
    server = ServerProcess(
        [binary, f"--config.file={conf}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        lambda: wait_http(f"{url}/-/ready", timeout=30), tmp_path / "prometheus.log")
    server.start()
    try:
        q = urllib.parse.quote('host_net_bytes_sent_total{building="教学楼A"}')
        result: list[dict[str, object]] = []
        for _ in range(60):  # bounded: 30 s
            body = json.loads(_get(f"{url}/api/v1/query?query={q}"))
            result = body["data"]["result"]
            if result:
                break
            await asyncio.sleep(0.5)
        assert result, server.log_text()[-2000:]
        metric = result[0]["metric"]
        assert isinstance(metric, dict)
        assert metric["campus"] == "hnvc" and metric["room"] == "A-101"
        assert metric["device"] == "sw-1" and metric["interface"] == "eth0"
        value = result[0]["value"]
        assert isinstance(value, list) and value[1] == "123456789"
        up = json.loads(_get(f"{url}/api/v1/query?query=up"))["data"]["result"]
        assert up and up[0]["value"][1] == "1"
    finally:
        server.stop()
        await exp.close()


@pytest.mark.timeout(60)
async def test_served_by_the_agent_and_after_a_reload(tmp_path: Path) -> None:
    from agent.app.builtins import builtin_registry
    from agent.framework.runtime import Agent
    from config.loader import load_config

    port = free_port()
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(f"""agent: {{data_dir: data, interval_secs: 0.5, flush_interval_secs: 0.2}}
inputs:
  - type: host
    network: false
outputs:
  - type: prometheus
    port: {port}
""")
    agent = Agent(load_config(cfg, builtin_registry()), builtin_registry())
    runner = asyncio.create_task(agent.run())
    url = f"http://127.0.0.1:{port}/metrics"

    async def scrape_until(word: str) -> str:
        text = ""
        for _ in range(100):  # bounded: 10 s
            try:
                text = await asyncio.to_thread(_get, url)
            except OSError:
                text = ""
            if word in text:
                break
            await asyncio.sleep(0.1)
        return text

    try:
        assert "host_cpu_usage_percent{" in await scrape_until("host_cpu_usage_percent{")
        # the agent's real series (host facts, its own telemetry) pass promtool too
        text = await scrape_until("agent_plugin_polls_total{")
        await _promtool_clean(text)
        before = agent.built
        agent.request_reload()
        for _ in range(100):  # bounded: 10 s
            if agent.built is not before:
                break
            await asyncio.sleep(0.1)
        assert agent.built is not before, "the reload did not happen"
        assert "host_cpu_usage_percent{" in await scrape_until("host_cpu_usage_percent{")
    finally:
        agent.request_stop()
        await asyncio.wait_for(runner, 20)
    with pytest.raises(OSError):  # stopped with the agent
        await asyncio.to_thread(_get, url)


@pytest.mark.timeout(30)
async def test_names_and_labels_that_collide_never_make_duplicate_series() -> None:
    snap = Snapshot(ttl_secs=300)
    snap.update([
        Metric("up_link", {"x": "1"}, {"state": 1.0}),
        Metric("up", {"x": "1"}, {"link_state": 2.0}),  # up_link_state too: the first keeps it
        Metric("m", {"if-name": "ge1", "y": ""}, {"v": 1.0}),
        Metric("m", {"if_name": "ge1"}, {"v": 2.0}),  # same labels once sanitised
        Metric("m", {"if_name": "ge2"}, {"v": 3.0}),
        Metric("k", {}, {"n": 1}, kind=MetricKind.COUNTER),
        Metric("k", {"z": "1"}, {"n": 1.5}, kind=MetricKind.COUNTER),  # float: not a counter
    ])
    exp = await _exporter(snap)
    try:
        text = await asyncio.to_thread(_get, f"http://127.0.0.1:{exp.port}/metrics")
    finally:
        await exp.close()
    samples = [x.split(" ")[0] for x in text.splitlines() if x and not x.startswith("#")]
    assert len(samples) == len(set(samples)), samples
    assert sum(x.startswith("up_link_state") for x in samples) == 1
    assert sum(x.startswith("m_v{") for x in samples) == 2
    await _promtool_clean(text)
