"""The agent as users run it: once, run + SIGTERM + query, SIGHUP reload."""

from __future__ import annotations

import itertools
import signal
import time
from pathlib import Path

import pytest

from agent.core.lineprotocol import parse
from agent.framework.diskqueue import read_lines
from tests.agent.agentproc import campusmon, start_agent, stop_agent, wait_running
from tests.agent.lp_receiver import LineReceiver


def host_config(tmp_path: Path, interval: float = 1.0, extra: str = "") -> Path:
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(f"""\
agent:
  interval_secs: {interval}
  data_dir: data
  flush_interval_secs: 0.2
  self_metrics_interval_secs: 1
inputs:
  - type: host
    network: false
{extra}""")
    return cfg


def test_once_prints_line_protocol(tmp_path: Path) -> None:
    r = campusmon("once", "--config", str(host_config(tmp_path)))
    assert r.returncode == 0, r.stderr
    lines = [x for x in r.stdout.splitlines() if x]
    names = {parse(x).name for x in lines}
    assert {"host_cpu", "host_memory", "host_identity", "agent_poll"} <= names
    assert not (tmp_path / "data" / "store.db").exists()  # once sends and stores nothing


@pytest.mark.timeout(60)
def test_run_three_intervals_sigterm_and_query(tmp_path: Path) -> None:
    cfg = host_config(tmp_path)
    proc = start_agent(cfg, tmp_path / "agent.log")
    wait_running(tmp_path / "agent.log")
    time.sleep(3.8)
    rc, took = stop_agent(proc)
    log = (tmp_path / "agent.log").read_text()
    assert rc == 0, log
    assert took < 5.0
    r = campusmon("query", "--config", str(cfg), "--measurement", "host_cpu", "--format", "lp")
    assert r.returncode == 0, r.stderr
    stamps = {parse(x).ts_ns for x in r.stdout.splitlines() if x}
    assert len(stamps) >= 3, (stamps, log)
    r = campusmon("query", "--config", str(cfg), "--since", "5m")
    assert r.returncode == 0 and "host_memory" in r.stdout
    r = campusmon("query", "--config", str(cfg), "-m", "agent_poll", "-t", "target=nope")
    assert r.stdout.strip() == "(no points)"


def queue_lines(db: Path) -> list[str]:
    return read_lines(db)


@pytest.mark.timeout(90)
def test_sighup_reloads_without_losing_queued_data(tmp_path: Path) -> None:
    rx = LineReceiver()
    try:
        rx.set_mode("refuse")  # the centre is down: everything stays queued
        extra = f"""outputs:
  - type: influxdb
    name: central
    url: {rx.url}
    gzip: false
    queue: {{retry_initial_secs: 0.2, retry_max_secs: 0.5}}
"""
        cfg = host_config(tmp_path, extra=extra)
        proc = start_agent(cfg, tmp_path / "agent.log")
        wait_running(tmp_path / "agent.log")
        time.sleep(2.5)
        cfg.write_text(cfg.read_text().replace("network: false", "network: false\n"
                                               "    tags: {reloaded: 'yes'}"))
        t_reload = time.time_ns()
        proc.send_signal(signal.SIGHUP)
        time.sleep(2.5)
        rx.set_mode("ack")
        db = tmp_path / "data" / "queue" / "influxdb_central.db"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and queue_lines(db):
            time.sleep(0.3)
        rc, _ = stop_agent(proc)
        log = (tmp_path / "agent.log").read_text()
        assert rc == 0, log
        assert "reloaded" in log, log
        cpu = sorted(parse(x).ts_ns for x in rx.state.acked_lines() if x.startswith("host_cpu"))
        before = [t for t in cpu if t < t_reload]
        after = [t for t in cpu if t > t_reload]
        assert len(before) >= 2 and len(after) >= 2, (len(before), len(after), log)
        gaps = [(b - a) / 1e9 for a, b in itertools.pairwise(cpu)]
        assert max(gaps) < 2.5, gaps  # no tick lost across the reload
        tagged = [x for x in rx.state.acked_lines() if "reloaded=yes" in x]
        assert tagged, "the reloaded config is in force"
    finally:
        rx.close()


def test_once_starts_no_exporter(tmp_path: Path) -> None:
    """`once` beside a running agent: the /metrics port is taken, and `once` must not care."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        extra = (f"outputs:\n  - type: prometheus\n    port: {port}\n"
                 "  - type: influxdb\n    url: http://127.0.0.1:9\n")
        r = campusmon("once", "--config", str(host_config(tmp_path, extra=extra)))
    assert r.returncode == 0, r.stderr
    assert "host_cpu" in r.stdout
    assert not (tmp_path / "data" / "queue").exists()  # nothing queued for sending
