"""Servers over HOST-RESOURCES-MIB (collectors/snmp/servers.py), served by snmpsim.

- `bison` (../shared/fixtures/snmprec, a real Ubuntu net-snmp host): the expected CPU model is
  read from the recording's hrDeviceDescr by this test; Intel and Ubuntu are decided by the
  rules named.
- a server recording written by this test (not a real device: a Hygon host running Kylin V10
  with DM8 and TongWeb, values in the shapes net-snmp writes — hrDeviceDescr
  `vendor_id: model name`, hrSWRunName the process name, hrSWRunPath the binary, hrSWRunParameters
  the arguments). It shows the domestic side of every rule family over a real SNMP agent.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.snmp.servers import read_server
from collectors.snmp.transport import TransportKind, TransportOptions, open_session
from config.credentials import SnmpV2cCredential
from tests.collectors.snmp.conftest import SnmpAgent, fixtures_dir, start_snmpsim

HR_DEVICE_DESCR = "1.3.6.1.2.1.25.3.2.1.3"
HR_DEVICE_TYPE = "1.3.6.1.2.1.25.3.2.1.2"
PROCESSOR = "1.3.6.1.2.1.25.3.1.3"


def _line(oid: str, tag: int, value: str) -> str:
    return f"{oid}|{tag}|{value}"


def _hygon_kylin() -> str:
    ps = [("1", "systemd", "/usr/lib/systemd/systemd", "--switched-root --system"),
          ("812", "dmserver", "/opt/dmdbms/bin/dmserver", "/opt/dmdbms/data/DAMENG/dm.ini"),
          ("950", "java", "/opt/TongWeb7.0/jdk/bin/java",
           "-Dtongweb.home=/opt/TongWeb7.0 -cp /opt/TongWeb7.0/lib/tongweb.jar "
           "com.tongweb.server.startup.Bootstrap start"),
          ("1201", "sshd", "/usr/sbin/sshd", "-D")]
    rows = [
        _line("1.3.6.1.2.1.1.1.0", 4, "Linux dbsrv 4.19.90-24.4.v2101.ky10.x86_64 #1 SMP "
              "Mon May 24 14:56:00 CST 2021 x86_64"),
        _line("1.3.6.1.2.1.1.2.0", 6, "1.3.6.1.4.1.8072.3.2.10"),
        _line("1.3.6.1.2.1.1.3.0", 67, "123456"),
        _line("1.3.6.1.2.1.1.5.0", 4, "dbsrv"),
        _line(f"{HR_DEVICE_TYPE}.196608", 6, PROCESSOR),
        _line(f"{HR_DEVICE_DESCR}.196608", 4, "HygonGenuine: Hygon C86 7285 32-core Processor"),
    ]
    for col, i in (("2", 1), ("4", 2), ("5", 3)):
        rows += [_line(f"1.3.6.1.2.1.25.4.2.1.{col}.{p[0]}", 4, p[i]) for p in ps]
    return "\n".join(sorted(rows, key=lambda r: tuple(int(x) for x in r.split("|")[0]
                                                     .split(".")))) + "\n"


@pytest.fixture(scope="session")
def server_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpAgent]:
    data = Path(tempfile.mkdtemp(prefix="campusmon-servers-"))
    data.chmod(0o755)  # snmpsim run as root reads it as nobody
    (data / "hygon_kylin.snmprec").write_text(_hygon_kylin())
    os.chmod(data / "hygon_kylin.snmprec", 0o644)
    agent = start_snmpsim(data, tmp_path_factory.mktemp("snmpsim-servers"), "hygon_kylin")
    yield agent
    agent.stop()


async def _read(agent: SnmpAgent, community: str, sys_descr: str) -> list[tuple[str, ...]]:
    session = await open_session(
        agent.host, agent.port,
        SnmpV2cCredential(name=community, type="snmp_v2c", community=community),
        TransportOptions(timeout_s=2.0, retries=1, transport=TransportKind.FAST))
    try:
        verdicts, problems = await read_server(session, sys_descr)
    finally:
        await session.close()
    assert problems == []
    return [(v.category.value, v.vendor, v.product, v.domestic, v.rule) for v in verdicts]


def _recording(name: str) -> dict[str, str]:
    out = {}
    for line in (fixtures_dir() / f"{name}.snmprec").read_text().splitlines():
        oid, _, value = line.split("|", 2)
        out[oid] = value
    return out


def test_bison_recording_intel_ubuntu(snmpsim_fixtures: SnmpAgent) -> None:
    rec = _recording("bison")
    cpu_rows = [k.rsplit(".", 1)[1] for k, v in rec.items()
                if k.startswith(HR_DEVICE_TYPE + ".") and v == PROCESSOR]
    model = rec[f"{HR_DEVICE_DESCR}.{cpu_rows[0]}"]
    got = asyncio.run(_read(snmpsim_fixtures, "bison", rec["1.3.6.1.2.1.1.1.0"]))
    assert got[0] == ("cpu", "Intel", model, "no", "d.2 model GenuineIntel/Intel")
    assert got[1] == ("os", "Canonical", "Ubuntu", "no", "d.3 kernel build -Ubuntu")
    assert len(got) == 2  # bison's recording has no hrSWRun: no database or middleware


def test_hygon_kylin_dm_tongweb(server_sim: SnmpAgent) -> None:
    descr = "Linux dbsrv 4.19.90-24.4.v2101.ky10.x86_64 #1 SMP Mon May 24 14:56:00 CST 2021"
    got = asyncio.run(_read(server_sim, "hygon_kylin", descr))
    assert got == [
        ("cpu", "Hygon", "HygonGenuine: Hygon C86 7285 32-core Processor", "yes",
         "d.2 model HygonGenuine/Hygon"),
        ("os", "Kylinsoft", "Kylin", "yes", "d.3 kernel suffix .ky10."),
        ("database", "Dameng", "DM", "yes", "d.4 process dmserver"),
        ("middleware", "TongTech", "TongWeb", "yes", "d.4 java com.tongweb"),
    ]
