"""Every recording in ../shared/fixtures/snmprec, served by snmpsim, identified like expected.tsv.

Skipped with a reason when ../shared is absent.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass

import pytest

from collectors.snmp.cli import identify_host
from collectors.snmp.session import oid_from_str
from collectors.snmp.transport import TransportKind, TransportOptions, open_session
from config.credentials import SnmpV2cCredential
from tests.collectors.snmp.conftest import SnmpAgent, fixtures_dir
from tests.servers import unavailable

# Both transports must see every recording the same way (the fast path is engineer B's; this
# checks the collector on top of it).
TRANSPORTS = (TransportKind.PYSNMP, TransportKind.FAST)


@dataclass(frozen=True)
class Expected:
    community: str
    vendor: str
    domestic: str
    kind: str
    sys_object_id: str
    interfaces: int
    ipv6_addresses: int
    wlan_aps: int | None


def _expected() -> list[Expected]:
    try:
        path = fixtures_dir() / "expected.tsv"
    except pytest.skip.Exception:
        return []
    with path.open(encoding="utf-8") as f:
        return [Expected(r["community"], r["vendor"], r["domestic"], r["kind"],
                         r["sys_object_id"], int(r["interfaces"]), int(r["ipv6_addresses"]),
                         None if r["wlan_aps"] == "-" else int(r["wlan_aps"]))
                for r in csv.DictReader(f, delimiter="\t")]


EXPECTED = _expected()


def _v2c(community: str) -> SnmpV2cCredential:
    return SnmpV2cCredential(name=community, type="snmp_v2c", community=community)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("transport", TRANSPORTS, ids=lambda t: t.value)
@pytest.mark.parametrize("exp", EXPECTED, ids=lambda e: e.community)
async def test_recording_identified_as_expected(snmpsim_fixtures: SnmpAgent, exp: Expected,
                                                transport: TransportKind) -> None:
    options = TransportOptions(timeout_s=0.5, retries=1, transport=transport)
    doc, problems = await identify_host(snmpsim_fixtures.host, snmpsim_fixtures.port,
                                        _v2c(exp.community), options)
    assert problems == []
    got = (doc["vendor"], doc["domestic"], doc["kind"], doc["sys_object_id"] or "-",
           doc["interfaces"], len(doc["ipv6_addresses"]), doc["wlan_aps"])
    want = (exp.vendor, exp.domestic, exp.kind, exp.sys_object_id, exp.interfaces,
            exp.ipv6_addresses, exp.wlan_aps)
    assert got == want
    assert doc["domestic_rule"] != "none" or exp.domestic == "unknown"


def test_expected_table_is_complete() -> None:
    if not EXPECTED:
        unavailable("../shared is absent")
    assert len(EXPECTED) == 22


@pytest.mark.timeout(60)
async def test_ac6605_vlan_bitmaps_walk_completes_by_stepping_down(
        snmpsim_fixtures: SnmpAgent) -> None:
    """GETBULK at max-repetitions ≥ 6 over the 12 KB bitmaps gets no answer at all."""
    root = oid_from_str("1.3.6.1.2.1.17.7.1.4.2")
    recorded = sum(1 for line in (fixtures_dir() / "vrp_ac6605-26.snmprec").open()
                   if line.startswith("1.3.6.1.2.1.17.7.1.4.2."))
    session = await open_session(snmpsim_fixtures.host, snmpsim_fixtures.port,
                                 _v2c("vrp_ac6605-26"),
                                 TransportOptions(timeout_s=0.5, retries=0,
                                                  max_repetitions=25,
                                                  transport=TransportKind.PYSNMP))
    try:
        await session.get([oid_from_str("1.3.6.1.2.1.1.3.0")])  # the device answers at all
        vbs = await session.walk(root)
        assert len(vbs) == recorded > 0
        assert all(vb.oid[: len(root)] == root for vb in vbs)
        assert session.max_repetitions <= 5  # type: ignore[attr-defined]
        # The learned size stays: a second walk needs no step-down and gets the same rows.
        assert len(await session.walk(root)) == recorded
    finally:
        await session.close()


@pytest.mark.timeout(60)
def test_identify_command_prints_json(snmpsim_fixtures: SnmpAgent,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from agent.app.cli import main

    rc = main(["identify", f"{snmpsim_fixtures.host}:{snmpsim_fixtures.port}",
               "--community", "vrp_ne", "--timeout", "0.5", "--transport", "pysnmp"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["vendor"] == "Huawei" and doc["domestic"] == "yes" and doc["kind"] == "router"
    assert doc["sys_object_id"] == "1.3.6.1.4.1.2011.2.62.30"
    assert len(doc["ipv6_addresses"]) == 6 and doc["wlan_aps"] is None
    assert set(doc) >= {"vendor", "domestic", "domestic_rule", "kind", "os", "model", "serial",
                        "sys_object_id", "interfaces", "ipv6_addresses", "wlan_aps"}


@pytest.mark.timeout(30)
def test_identify_command_reports_a_dead_device(capsys: pytest.CaptureFixture[str]) -> None:
    from agent.app.cli import main
    from tests.servers import free_port

    port = free_port("127.0.0.1", kind=2)  # nothing listens there
    rc = main(["identify", f"127.0.0.1:{port}", "--community", "x", "--timeout", "0.3",
               "--retries", "0", "--transport", "pysnmp"])
    assert rc == 1
    assert "timeout" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["identify", "127.0.0.1"],  # no credential at all
    ["identify", "127.0.0.1", "--community", "x", "--v3-user", "u"],  # two
    ["identify", "127.0.0.1", "--credential", "core"],  # a set needs --config
    ["identify", "127.0.0.1", "--v3-user", "u", "--auth-proto", "SHA", "--auth-key", "short"],
])
def test_identify_refuses_bad_credentials(argv: list[str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from agent.app.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("campusmon: identify") and len(err.splitlines()) == 1
