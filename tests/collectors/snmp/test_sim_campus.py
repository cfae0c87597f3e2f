"""The simulated campus: deterministic generation, an inventory the loader accepts, and snmpsim
serving it with counters that advance at the rates the ground truth records."""

from __future__ import annotations

import asyncio
import filecmp
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.app.cli import main as cli_main
from collectors.snmp.fast import FastOptions, FastSession
from collectors.snmp.session import Oid, oid_from_str
from collectors.snmp.sim import SimCampus, SimServer, generate, serve
from collectors.snmp.sim.serve import probe
from collectors.snmp.sim.snmprec import counter_line
from inventory.loader import load_inventory
from inventory.models import DeviceKind
from tests.collectors.snmp.conftest import start_snmpsim
from tests.collectors.snmp.simhelpers import world_readable_dir
from tests.servers import REPO, require_binary, snmpsim_binary

IF_HC_IN = "1.3.6.1.2.1.31.1.1.1.6"
IF_HC_OUT = "1.3.6.1.2.1.31.1.1.1.10"
IF_IN32 = "1.3.6.1.2.1.2.2.1.10"
IP_SYS_HC_IN_OCTETS = "1.3.6.1.2.1.4.31.1.1.6"
IP_SYS_HC_OUT_OCTETS = "1.3.6.1.2.1.4.31.1.1.33"
HW_AP_RUNSTATE = "1.3.6.1.4.1.2011.6.139.13.3.3.1.6"
HW_AP_NAME = "1.3.6.1.4.1.2011.6.139.13.3.3.1.4"
LLDP_REM_SYSNAME = "1.0.8802.1.1.2.1.4.1.1.9"


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    d = world_readable_dir("campusmon-simcampus-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def campus(workdir: Path) -> SimCampus:
    return generate(workdir / "campus", switches=6, aps=14, campus="t-sim", seed=7,
                    port=_free_udp_port())


@pytest.fixture(scope="module")
def served(campus: SimCampus) -> Iterator[SimServer]:
    snmpsim_binary()  # skip (or fail in CI) when the simulator venv is missing
    server = serve(campus.out_dir, ipv6=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def truth(campus: SimCampus) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(campus.truth.read_text())
    return data


def _free_udp_port() -> int:
    from tests.servers import free_port
    return free_port("127.0.0.1", kind=2)


def _session(server: SimServer, device: str, host: str | None = None) -> FastSession:
    e = server.endpoint(device)
    return FastSession(host or e.host, e.community,
                       FastOptions(port=e.port, timeout_s=2.0, retries=1))


async def _get_ints(s: FastSession, oids: list[Oid]) -> list[int]:
    vbs = await s.get(oids)
    out = [vb.value for vb in vbs]
    assert all(isinstance(v, int) for v in out), vbs
    return [v for v in out if isinstance(v, int)]


# -- generation ---------------------------------------------------------------------------------

def test_generation_is_deterministic(workdir: Path) -> None:
    a = generate(workdir / "det-a", 5, 9, campus="det", seed=42)
    b = generate(workdir / "det-b", 5, 9, campus="det", seed=42)
    c = generate(workdir / "det-c", 5, 9, campus="det", seed=43)
    names = sorted(p.relative_to(a.out_dir).as_posix() for p in a.out_dir.rglob("*")
                   if p.is_file())
    assert names == sorted(p.relative_to(b.out_dir).as_posix() for p in b.out_dir.rglob("*")
                           if p.is_file())
    _match, mismatch, errors = filecmp.cmpfiles(a.out_dir, b.out_dir, names, shallow=False)
    assert (mismatch, errors) == ([], [])
    assert (a.truth.read_bytes() != c.truth.read_bytes())


def test_inventory_loads_and_agrees_with_truth(campus: SimCampus,
                                               truth: dict[str, Any]) -> None:
    inv = load_inventory(campus.inventory)
    assert inv.campus.code == "t-sim"
    snmp_devices = [d for d in inv.devices if d.kind is not DeviceKind.AP]
    assert {d.id for d in snmp_devices} == set(truth["devices"])
    for d in snmp_devices:
        t = truth["devices"][d.id]
        assert d.ipv4 == t["address"] and d.vendor == t["vendor"] and d.credential
        assert d.ipv4 is not None and d.ipv4.startswith("127.")
        if d.id != "egress-router":
            assert d.parent is not None and inv.device(d.parent) is not None
    assert [d.id for d in inv.devices if "egress" in d.roles] == ["egress-router"]
    aps = [d for d in inv.devices if d.kind is DeviceKind.AP]
    assert len(aps) == truth["wlan"]["aps_total"] == 14
    for ap in aps:
        sw = inv.device(ap.parent or "")
        assert sw is not None and sw.kind.is_switch and ap.room and ap.parent_port
    rooms = {r.id for r in inv.rooms}
    without = set(truth["rooms"]["without_ap"])
    assert without and without < rooms  # some rooms deliberately without an AP
    assert set(truth["rooms"]["without_working_ap"]) >= without
    vendors = {t["vendor"]: t["domestic"] for t in truth["devices"].values()}
    assert vendors["Huawei"] == "yes"
    # every CLI-visible credential set exists for every SNMP device
    creds = campus.credentials.read_text()
    assert all(f"name: {d.credential}" in creds for d in snmp_devices)


def test_bad_sizes_are_refused(workdir: Path) -> None:
    with pytest.raises(ValueError):
        generate(workdir / "bad", 0, 3)


# -- served by snmpsim --------------------------------------------------------------------------

@pytest.mark.timeout(90)
async def test_counters_advance_at_the_configured_rates(served: SimServer,
                                                        truth: dict[str, Any]) -> None:
    """Two reads spaced by a known time: the rate equals the ground truth's."""
    # one access switch's uplink (64-bit and the wrapping 32-bit counter) and the egress router
    sw_id = next(k for k, v in truth["devices"].items() if v["kind"] == "access_switch")
    sw = truth["devices"][sw_id]
    up = str(sw["uplink_ifindex"])
    sw_oids = [oid_from_str(f"{IF_HC_IN}.{up}"), oid_from_str(f"{IF_HC_OUT}.{up}"),
               oid_from_str(f"{IF_IN32}.{up}")]
    ip_oids = [oid_from_str(f"{base}.{v}") for base in (IP_SYS_HC_IN_OCTETS,
                                                        IP_SYS_HC_OUT_OCTETS) for v in (1, 2)]
    s_sw, s_r = _session(served, sw_id), _session(served, "egress-router")
    try:
        t0 = time.monotonic()
        a_sw, a_r = await _get_ints(s_sw, sw_oids), await _get_ints(s_r, ip_oids)
        t_a = (t0 + time.monotonic()) / 2
        await asyncio.sleep(2.0)
        t1 = time.monotonic()
        b_sw, b_r = await _get_ints(s_sw, sw_oids), await _get_ints(s_r, ip_oids)
        t_b = (t1 + time.monotonic()) / 2
    finally:
        await s_sw.close()
        await s_r.close()
    dt = t_b - t_a
    rate = sw["rates"][up]
    assert (b_sw[0] - a_sw[0]) / dt == pytest.approx(rate["in_octets_per_s"], rel=0.05)
    assert (b_sw[1] - a_sw[1]) / dt == pytest.approx(rate["out_octets_per_s"], rel=0.05)
    assert ((b_sw[2] - a_sw[2]) % 2**32) / dt == pytest.approx(rate["in_octets_per_s"],
                                                               rel=0.05)
    v4_in, v6_in, v4_out, v6_out = ((b - a) * 8 / dt for a, b in zip(a_r, b_r, strict=True))
    eg = truth["egress"]
    assert v4_in == pytest.approx(eg["ipv4_in_bps"], rel=0.05)
    assert v6_out == pytest.approx(eg["ipv6_out_bps"], rel=0.05)
    share = (v6_in + v6_out) / (v4_in + v4_out + v6_in + v6_out)
    assert share == pytest.approx(eg["ipv6_share"], abs=0.01)


@pytest.mark.timeout(60)
async def test_ac_lists_every_ap_with_its_state(served: SimServer,
                                                truth: dict[str, Any]) -> None:
    s = _session(served, "ac-1")
    try:
        names = {vb.oid[-6:]: vb.value for vb in await s.walk(oid_from_str(HW_AP_NAME))}
        states = {vb.oid[-6:]: vb.value for vb in await s.walk(oid_from_str(HW_AP_RUNSTATE))}
    finally:
        await s.close()
    by_name = {n.decode(): states[ix] for ix, n in names.items() if isinstance(n, bytes)}
    assert by_name == {ap: t["run_state"] for ap, t in truth["wlan"]["aps"].items()}
    assert sum(1 for v in by_name.values() if v == 8) == truth["wlan"]["aps_up"]


@pytest.mark.timeout(60)
async def test_lldp_neighbours_match_the_inventory(served: SimServer, campus: SimCampus,
                                                   truth: dict[str, Any]) -> None:
    inv = load_inventory(campus.inventory)
    s = _session(served, "core-sw")
    try:
        names = sorted(vb.value.decode() for vb in await s.walk(oid_from_str(LLDP_REM_SYSNAME))
                       if isinstance(vb.value, bytes))
    finally:
        await s.close()
    assert names == truth["devices"]["core-sw"]["lldp_neighbors"]
    children = [*sorted(d.id for d in inv.children("core-sw")), "egress-router"]
    assert names == sorted(children)


@pytest.mark.timeout(60)
async def test_served_over_ipv6_too(served: SimServer) -> None:
    s = _session(served, "core-sw", host="::1")
    try:
        vbs = await s.get([(1, 3, 6, 1, 2, 1, 1, 5, 0)])
    finally:
        await s.close()
    assert vbs[0].value == b"core-sw"


# -- the command ---------------------------------------------------------------------------------

@pytest.mark.timeout(150)
def test_cli_generate_and_serve_until_sigterm(workdir: Path) -> None:
    snmpsim_binary()
    out = workdir / "cli"
    port = _free_udp_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    rc = cli_main(["sim-campus", "generate", "--out", str(out), "--switches", "3", "--aps", "4",
                   "--campus", "cli", "--seed", "5", "--port", str(port)])
    assert rc == 0
    assert (out / "inventory.yaml").exists() and (out / "data" / "core-sw.snmprec").exists()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.app.cli", "sim-campus", "serve", "--data", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert f"udp port {port}" in first, first
        truth = json.loads((out / "truth.json").read_text())
        addr = truth["devices"]["core-sw"]["address"]
        got = subprocess.run(["snmpget", "-v2c", "-c", "core-sw", "-On", "-t", "2",
                              f"{addr}:{port}", "1.3.6.1.2.1.1.5.0"],
                             capture_output=True, text=True, timeout=30)
        assert '"core-sw"' in got.stdout, got.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=40)
    assert rc == 0


@pytest.mark.timeout(60)
async def test_counter32_wraps_at_2_pow_32(workdir: Path) -> None:
    """The Counter32 lines the generator writes wrap like a real ifInOctets does."""
    data = workdir / "wrap"
    data.mkdir()
    data.chmod(0o755)
    rate = 500_000_000  # octets/s: wraps every 8.6 s
    oid = f"{IF_IN32}.1"
    line = counter_line(oid, 2**32 - 2 * rate, rate, 32)[1]
    assert "max=4294967296,wrap=1" in line
    rec = data / "wrap.snmprec"
    rec.write_text(f"1.3.6.1.2.1.1.3.0|67|1\n{line}\n")
    rec.chmod(0o644)
    agent = start_snmpsim(data, workdir / "wrap-run", "wrap")
    s = FastSession(agent.host, "wrap", FastOptions(port=agent.port, timeout_s=2.0))
    try:
        samples: list[tuple[float, int]] = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            (v,) = await _get_ints(s, [oid_from_str(oid)])
            samples.append(((t0 + time.monotonic()) / 2, v))
            if len(samples) > 1 and samples[-1][1] < samples[-2][1]:
                break
            await asyncio.sleep(0.5)
    finally:
        await s.close()
        agent.stop()
    assert samples[-1][1] < samples[-2][1], "no wrap seen"
    (ta, a), (tb, b) = samples[-2], samples[-1]
    assert ((b - a) % 2**32) / (tb - ta) == pytest.approx(rate, rel=0.1)
    assert all(v < 2**32 for _, v in samples)


@pytest.mark.timeout(60)
def test_two_snmpget_calls_see_the_configured_rate(served: SimServer,
                                                   truth: dict[str, Any]) -> None:
    """The same check with net-snmp's snmpget, independent of our own client."""
    snmpget = require_binary("snmpget")
    ep = served.endpoint("egress-router")
    up = str(truth["devices"]["egress-router"]["uplink_ifindex"])

    def read() -> tuple[float, int]:
        t0 = time.monotonic()
        out = subprocess.run([snmpget, "-v2c", "-c", ep.community, "-On", "-Oqv", "-t", "2",
                              f"{ep.host}:{ep.port}", f"{IF_HC_IN}.{up}"],
                             capture_output=True, text=True, check=True, timeout=20)
        return (t0 + time.monotonic()) / 2, int(out.stdout.strip())

    ta, a = read()
    time.sleep(2.0)
    tb, b = read()
    expected = truth["devices"]["egress-router"]["rates"][up]["in_octets_per_s"]
    assert (b - a) / (tb - ta) == pytest.approx(expected, rel=0.05)


@pytest.mark.timeout(60)
def test_serves_a_campus_generated_in_a_private_directory(workdir: Path) -> None:
    """As root snmpsim reads as nobody: a campus below a 0700 directory is served from a copy."""
    if os.geteuid() != 0:
        pytest.skip("only root's snmpsim drops privileges")
    snmpsim_binary()
    private = workdir / "private"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    campus = generate(private / "c", 2, 1, campus="priv", seed=1, port=_free_udp_port())
    server = serve(campus.out_dir)
    try:
        assert server.scratch is not None and server.scratch.exists()
        e = server.endpoint("core-sw")
        assert probe(e.host, e.port, e.community) is not None
    finally:
        server.stop()
    assert not server.scratch.exists()
