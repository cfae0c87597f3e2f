"""Damaged data files at start and file permissions, through a real `campusmon run`.

The queue, store and alert-state files are filled with garbage before the agent starts (a
power cut on an SD card does this); the agent must start, keep the file aside and say so.
"""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest

from agent.core.lineprotocol import parse
from tests.agent.agentproc import campusmon, start_agent, stop_agent, wait_running
from tests.agent.lp_receiver import LineReceiver

GARBAGE = b"this is not an SQLite database\x00\xff" * 100


def _config(tmp_path: Path, url: str) -> Path:
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(f"""\
agent:
  interval_secs: 1
  data_dir: data
  flush_interval_secs: 0.2
  self_metrics_interval_secs: 1
  local_store: {{enabled: true}}
inputs:
  - type: host
    network: false
processors:
  - type: alerts
outputs:
  - type: influxdb
    name: central
    url: {url}
    gzip: false
    queue: {{retry_initial_secs: 0.2, retry_max_secs: 0.5}}
""")
    return cfg


@pytest.mark.timeout(120)
def test_corrupt_queue_store_and_alert_state_at_start(tmp_path: Path) -> None:
    rx = LineReceiver()
    try:
        cfg = _config(tmp_path, rx.url)
        data = tmp_path / "data"
        (data / "queue").mkdir(parents=True)
        queue = data / "queue" / "influxdb_central.db"
        queue.write_bytes(GARBAGE)
        (data / "store.db").write_bytes(GARBAGE)
        (data / "alerts").mkdir()
        state = data / "alerts" / "state-alerts_alerts.json"
        state.write_text('{"not": "a list of alerts"')
        log = tmp_path / "agent.log"
        proc = start_agent(cfg, log)
        wait_running(log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
                x.startswith("host_cpu,") for x in rx.state.acked_lines()):
            time.sleep(0.2)  # bounded: the fresh queue delivers
        rc, _ = stop_agent(proc)
        text = log.read_text()
        assert rc == 0, text
    finally:
        rx.close()
    # kept aside, named with the time, byte for byte
    for original in (queue, data / "store.db"):
        kept = list(original.parent.glob(original.name + ".corrupt-*"))
        assert len(kept) == 1 and kept[0].read_bytes() == GARBAGE, text
        assert original.exists()  # a fresh file took its place
    assert list(state.parent.glob(state.name + ".corrupt-*")), text
    # logged loudly, once per file
    assert text.count("moved aside to") == 3, text
    # the fresh queue delivers to the centre
    assert any(x.startswith("host_cpu,") for x in rx.state.acked_lines())
    # the event is exported: one per damaged file, in the fresh local store (the influx
    # output takes metrics only; an events output would get it from its queue)
    r = campusmon("query", "--config", str(cfg), "-m", "event", "--format", "lp")
    assert r.returncode == 0, r.stderr
    kinds = [parse(x) for x in r.stdout.splitlines() if x.startswith("event,")]
    corrupt = [m for m in kinds if m.tags.get("event_kind") == "file_corrupt"]
    assert len(corrupt) == 3, r.stdout
    assert all(".corrupt-" in str(m.fields["summary"]) for m in corrupt)
    # data dir 0700, data files 0600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for f in (queue, data / "store.db"):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_a_secret_file_readable_by_others_is_refused_with_its_path(tmp_path: Path) -> None:
    secret = tmp_path / "community"
    secret.write_text("marker-community-0644\n")
    secret.chmod(0o644)
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(f"""\
credentials:
  - name: v2
    type: snmp_v2c
    community_file: {secret}
inputs:
  - type: host
""")
    r = campusmon("check-config", str(cfg))
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert str(secret) in out and "chmod 600" in out
    assert "marker-community-0644" not in out
    secret.chmod(0o600)
    r = campusmon("check-config", str(cfg))
    assert r.returncode == 0, r.stdout + r.stderr


def test_an_ssh_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nnot really\n")
    key.chmod(0o640)
    cfg = tmp_path / "agent.yaml"
    cfg.write_text("""\
credentials:
  - {name: cli, type: ssh, username: mon, key_file: id_ed25519}
inputs:
  - {type: ssh, credential: cli}
""")
    r = campusmon("check-config", str(cfg))
    assert r.returncode != 0 and str(key) in r.stderr and "chmod 600" in r.stderr, r.stderr
    key.chmod(0o600)
    r = campusmon("check-config", str(cfg))
    assert r.returncode == 0, r.stdout + r.stderr
