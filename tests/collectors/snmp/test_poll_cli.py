"""`campusmon poll HOST:PORT --community C` on recordings of five families: it prints what the
`snmp` plugin would write, health included, and names the profiles its identity selected."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.core.lineprotocol import parse
from tests.collectors.snmp.conftest import SnmpAgent

REPO = Path(__file__).resolve().parents[3]

# recording → (profile it must select, measurements it must print)
CASES = {
    "vrp_5720": ("huawei-entity", {"snmp_cpu", "snmp_memory", "snmp_sensor", "snmp_optical"}),
    "comware": ("h3c-entity", {"snmp_cpu", "snmp_memory", "snmp_sensor", "snmp_optical"}),
    "ios_2960x": ("cisco", {"snmp_cpu", "snmp_memory", "snmp_sensor", "snmp_poe"}),
    "ruijie_s6150": ("ruijie", {"snmp_cpu"}),
    "bison": ("host-resources", {"snmp_cpu", "snmp_memory", "snmp_storage"}),
}
# the recordings that carry a temperature table
TEMPERATURE = {"vrp_5720", "comware", "ios_2960x"}


def _poll(agent: SnmpAgent, community: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent.app.cli", "poll", f"{agent.host}:{agent.port}",
         "--community", community, "--timeout", "1", *extra],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False)


@pytest.mark.timeout(150)
@pytest.mark.parametrize("community", sorted(CASES))
def test_poll_prints_health_measurements(snmpsim_fixtures: SnmpAgent, community: str) -> None:
    profile, wanted = CASES[community]
    proc = _poll(snmpsim_fixtures, community)
    assert proc.returncode == 0, proc.stderr
    metrics = [parse(line) for line in proc.stdout.splitlines() if line.strip()]
    names = {m.name for m in metrics}
    assert wanted <= names, f"missing {wanted - names}"
    assert "snmp_device_info" in names and "snmp_interface" in names
    temps = [m for m in metrics if m.name == "snmp_sensor" and m.tags["type"] == "temperature"]
    assert bool(temps) == (community in TEMPERATURE)
    assert all(isinstance(m.fields["value"], float) for m in temps)
    assert "profiles: " in proc.stderr and profile in proc.stderr


@pytest.mark.timeout(150)
def test_poll_json_with_named_profiles_only(snmpsim_fixtures: SnmpAgent) -> None:
    proc = _poll(snmpsim_fixtures, "ios_2960x", "--profiles", "power-ethernet",
                 "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    names = {d["measurement"] for d in doc}
    assert "snmp_poe" in names and "snmp_cpu" not in names
    poe = next(d for d in doc if d["measurement"] == "snmp_poe")
    assert poe["tags"] == {"pse": "1"} and poe["fields"]["budget_watts"] == 370.0
    bad = _poll(snmpsim_fixtures, "ios_2960x", "--profiles", "nope")
    assert bad.returncode == 2 and "unknown profile(s) nope" in bad.stderr


@pytest.mark.timeout(150)
def test_user_profile_measurement_flows_through_the_agent(
        snmpsim_fixtures: SnmpAgent, tmp_path: Path) -> None:
    """A measurement declared only in a user profile's YAML passes the runtime catalogue check
    (strict in tests) and reaches the agent's output: `campusmon once` on the printer."""
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    printer = REPO / "config" / "examples" / "snmp-profiles" / "printer-supplies.yaml"
    (profiles / "printer.yaml").write_text(printer.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "inventory.yaml").write_text(
        "campus: {code: t, name: t}\n"
        "devices:\n"
        f"  - {{id: printer-1, kind: printer, ipv4: {snmpsim_fixtures.host}, "
        "credential: printer}\n", encoding="utf-8")
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(
        "agent: {inventory: inventory.yaml, timeout_secs: 20, data_dir: data}\n"
        "credentials:\n"
        "  - {name: printer, type: snmp_v2c, community: jetdirect_m130nw}\n"
        "inputs:\n"
        f"  - {{type: snmp, port: {snmpsim_fixtures.port}, profiles_dir: {profiles}, "
        "targets: {kinds: [printer]}}\n",
        encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "agent.app.cli", "once", "--config", str(cfg)],
                          capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    supplies = [parse(line) for line in proc.stdout.splitlines()
                if line.startswith("printer_supply")]
    assert supplies, f"rc={proc.returncode} out={proc.stdout[-2000:]!r} err={proc.stderr[-2000:]!r}"
    assert all(m.tags["device"] == "printer-1" for m in supplies)
