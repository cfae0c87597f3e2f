"""Servers for the hostile-world suite, started once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.collectors.snmp.conftest import SnmpAgent, fixtures_dir, start_snmpsim
from tests.collectors.ssh.fakedevice import FakeDevices, start_fake_devices
from tests.hostile.snmpagent import HostileAgent


@pytest.fixture(scope="session")
def ssh_devices(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeDevices]:
    server = start_fake_devices(tmp_path_factory.mktemp("hostile-ssh"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def good_snmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpAgent]:
    """snmpsim serving the recordings of ../shared (community = recording name)."""
    agent = start_snmpsim(fixtures_dir(), tmp_path_factory.mktemp("hostile-snmpsim"), "bison")
    yield agent
    agent.stop()


@pytest.fixture(scope="session")
def hostile_snmp(good_snmp: SnmpAgent) -> Iterator[HostileAgent]:
    """The hostile agent on 127.0.0.2, same port as the good one (one instance polls both)."""
    agent = HostileAgent("127.0.0.2", good_snmp.port).start()
    yield agent
    agent.stop()
