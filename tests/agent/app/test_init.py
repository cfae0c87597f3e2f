"""`campusmon init --non-interactive` against the simulated campus (snmpsim on loopback): the
sweep finds every device with its own credential set, the config and inventory it writes pass
`check-config`, `run` polls the devices with them, and no secret lands in the YAML."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from agent.framework.localstore import LocalStore
from inventory.loader import load_inventory
from tests.agent.app.simcampus import Served, init_argv, run_cli, served_campus
from tests.servers import REPO


@pytest.fixture(scope="module")
def sim() -> Iterator[Served]:
    yield from served_campus("campusmon-init-")


@pytest.fixture(scope="module")
def initialised(sim: Served, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("init")
    r = run_cli(*init_argv(sim, base / "given", base / "etc"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "next: campusmon check-config" in r.stdout
    return base / "etc"


def test_init_finds_every_simulated_device(sim: Served, initialised: Path) -> None:
    inv = load_inventory(initialised / "inventory.yaml")
    assert inv.campus.code == "t-init" and inv.campus.students == 5000
    assert inv.campus.province == "Hunan"
    assert {d.ipv4 for d in inv.devices} == set(sim.truth.values())
    by_ip = {d.ipv4: d for d in inv.devices}
    for dev, addr in sim.truth.items():
        # the device was placed with the credential set holding its own community
        assert by_ip[addr].id == dev, (dev, addr, [(d.id, d.ipv4) for d in inv.devices])
    kinds = {d.id: d.kind.value for d in inv.devices}
    assert kinds["egress-router"] == "router" and kinds["ac-1"] == "wlan_controller"


def test_secrets_only_in_0600_files(sim: Served, initialised: Path) -> None:
    text = (initialised / "campusmon.yaml").read_text() + (
        initialised / "inventory.yaml").read_text()
    for dev in sim.truth:
        assert f"community: {dev}" not in text
    cfg = yaml.safe_load((initialised / "campusmon.yaml").read_text())
    assert all("community" not in c and c["community_file"].startswith(
        "${CREDENTIALS_DIRECTORY:-") for c in cfg["credentials"])
    secrets = initialised / "secrets"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    files = sorted(secrets.iterdir())
    assert len(files) == len(sim.truth)
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_check_config_accepts_it(initialised: Path) -> None:
    r = run_cli("check-config", str(initialised / "campusmon.yaml"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ok (2 inputs" in r.stdout and "4 devices" in r.stdout


def test_run_polls_the_campus_with_it(sim: Served, initialised: Path) -> None:
    log = initialised / "run.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.app.entry", "--log-level", "info", "run", "--config",
         str(initialised / "campusmon.yaml")], cwd=REPO, stdout=log.open("ab"),
        stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    store_path = initialised / "data" / "store.db"
    devices: set[str] = set()
    try:
        for _ in range(90):  # bounded: the first poll happens at start
            time.sleep(1)
            assert proc.poll() is None, log.read_text()[-3000:]
            if store_path.exists():
                store = LocalStore.open_readonly(store_path)
                try:
                    devices = {p.tags.get("device", "") for p in
                               store.query("snmp_device_info", {}, None, None, None)}
                finally:
                    store.close()
            if devices >= set(sim.truth):
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    assert devices >= set(sim.truth), (devices, log.read_text()[-3000:])


def test_bad_flags_are_one_line_errors(tmp_path: Path) -> None:
    r = run_cli("init", "--non-interactive", "--name", "x", "--code", "BAD CODE", "--subnet",
                "10.0.0.0/24", "--snmp-community", f"a={tmp_path}/missing", "--dir",
                str(tmp_path / "etc"))
    assert r.returncode == 2 and "cannot read" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "c").write_text("x\n")
    r = run_cli("init", "--non-interactive", "--name", "x", "--code", "ok", "--subnet",
                "10.0.0.0/8", "--snmp-community", f"a={tmp_path}/c", "--dir",
                str(tmp_path / "etc"))
    assert r.returncode == 2 and "at most 4096" in r.stderr
    assert not (tmp_path / "etc").exists()
