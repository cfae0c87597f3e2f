"""The simulated campus with its machine-room servers and asset-register terminals
(`make_plan(servers=True)`, what `campusmon demo` runs): every server answers HOST-RESOURCES
through snmpsim, the collector classifies it, and the localization audit over those rows and
the generated inventory has data in every 国产化 category, each item with its rule."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator

import pytest

from agent.core.model import Metric
from agent.processors.audit import localization
from agent.processors.audit.inputs import AuditInput
from collectors.snmp.servers import read_server, verdict_metrics
from collectors.snmp.sim import SimCampus, SimServer, generate, serve
from collectors.snmp.transport import TransportKind, TransportOptions, open_session
from config.credentials import SnmpV2cCredential
from inventory.loader import load_inventory
from tests.collectors.snmp.simhelpers import world_readable_dir
from tests.servers import free_port, snmpsim_binary

T0 = 1_796_000_000_000_000_000


@pytest.fixture(scope="module")
def campus() -> Iterator[tuple[SimCampus, SimServer]]:
    snmpsim_binary()  # skips with the reason outside CI when snmpsim is missing
    d = world_readable_dir("campusmon-simservers-")
    try:
        sim = generate(d, 2, 1, campus="srv", seed=4, port=free_port("127.0.0.1", kind=2),
                       servers=True)
        server = serve(sim.out_dir)
        try:
            yield sim, server
        finally:
            server.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)


async def _poll(sim: SimCampus, device_id: str) -> list[Metric]:
    d = sim.plan.device(device_id)
    session = await open_session(
        d.ipv4, sim.port, SnmpV2cCredential(name="c", type="snmp_v2c", community=d.community),
        TransportOptions(timeout_s=5.0, retries=2, transport=TransportKind.FAST))
    try:
        verdicts, problems = await read_server(session, d.vendor.sys_descr)
    finally:
        await session.close()
    assert problems == []
    return [Metric(m.name, {**m.tags, "device": device_id, "campus": "srv",
                            "building": d.building}, m.fields, T0)
            for m in verdict_metrics(verdicts, T0)]


def test_sim_servers_classified_and_every_category_has_data(
        campus: tuple[SimCampus, SimServer]) -> None:
    sim, _server = campus
    rows: list[Metric] = []
    for sid in ("srv-jw", "srv-oa", "srv-lib"):
        rows += asyncio.run(_poll(sim, sid))
    got = {(m.tags["device"], m.tags["category"]): (m.tags["platform_vendor"],
                                                    m.tags["domestic"], m.tags["rule"])
           for m in rows}
    assert got[("srv-jw", "cpu")] == ("Hygon", "yes", "d.2 model HygonGenuine/Hygon")
    assert got[("srv-jw", "os")] == ("Kylinsoft", "yes", "d.3 kernel suffix .ky10.")
    assert got[("srv-jw", "database")] == ("Dameng", "yes", "d.4 process dmserver")
    assert got[("srv-oa", "os")] == ("openEuler", "yes", "d.3 kernel suffix .oe1./.oe2203.")
    # net-snmp's arm64 processor row names no vendor: unknown, counted apart, never guessed
    assert got[("srv-oa", "cpu")][1] == "unknown"
    assert got[("srv-oa", "middleware")] == ("BES", "yes", "d.4 java com.bes")
    assert got[("srv-lib", "os")] == ("Red Hat", "no", "d.3 kernel suffix .el7/.el8/.el9")
    assert got[("srv-lib", "middleware")] == ("Oracle", "no", "d.4 java weblogic.Server")

    inv = load_inventory(sim.inventory)
    inp = AuditInput.from_inventory(inv, rows, T0 - 60 * 10**9, T0 + 60 * 10**9)
    inds = {i.id: i for i in localization.indicators(inp)}
    for cat in ("servers", "terminals", "os", "cpu", "database", "middleware", "systems",
                "network", "security"):
        ind = inds[f"localization_{cat}"]
        assert (ind.denominator or 0) > 0, cat
        assert all(e.rule for e in ind.evidence), cat  # each item names what decided it
    # the firewalls by their declared vendor here (the demo identifies them over SNMP)
    sec = inds["localization_security"]
    assert (sec.numerator, sec.denominator) == (1, 2)  # Hillstone vs Fortinet
    db = inds["localization_database"]
    assert (db.numerator, db.denominator) == (2, 3)  # DM, openGauss vs Oracle
    systems = {e.subject: e for e in inds["localization_systems"].evidence}
    jw = systems["教务管理系统 Academic affairs"]
    assert jw.rule.startswith("hosted on srv-jw: ") and "d.4 process dmserver" in jw.rule
    lib = systems["图书管理系统 Library"]
    assert lib.status.value == "fail"


def test_evidence_csv_traces_every_localization_figure(
        campus: tuple[SimCampus, SimServer]) -> None:
    """The report's evidence.csv holds one row per item behind each 国产化 share: its ok rows
    are the numerator, ok + fail the denominator, unknown rows the unknown count; each row
    names its rule."""
    import csv
    import io

    from agent.processors.audit.engine import run_audit
    from agent.processors.audit.report.tables import evidence_csv

    sim, _server = campus
    rows: list[Metric] = []
    for sid in ("srv-jw", "srv-oa", "srv-lib"):
        rows += asyncio.run(_poll(sim, sid))
    inv = load_inventory(sim.inventory)
    audit = run_audit(AuditInput.from_inventory(inv, rows, T0 - 60 * 10**9, T0 + 60 * 10**9))
    ev = list(csv.DictReader(io.StringIO(evidence_csv([audit]))))
    checked = 0
    for ind in audit.indicators:
        if ind.family != "localization" or ind.scope != "campus":
            continue
        mine = [r for r in ev if r["indicator"] == ind.id]
        status = [r["status"] for r in mine]
        assert status.count("ok") == ind.numerator, ind.id
        assert status.count("ok") + status.count("fail") == ind.denominator, ind.id
        assert status.count("unknown") == ind.unknown, ind.id
        assert all(r["rule"] for r in mine), ind.id
        checked += 1
    assert checked >= 10
    # the province roll-up re-aggregates every category from numerators and denominators
    from agent.processors.audit.province import roll_up

    prov = {i.id: i for i in roll_up([audit, audit])}
    db = audit.get("localization_database")
    assert db is not None and prov["localization_database"].denominator == 2 * (
        db.denominator or 0)
