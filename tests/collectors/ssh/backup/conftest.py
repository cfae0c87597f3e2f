"""A fake-device server of this module's own (its outputs are changed by the tests, so the
session-wide one stays as the data files say) and an Alertmanager."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from tests.collectors.ssh.fakedevice import FakeDevices, Personality, start_fake_devices
from tests.exporters.alertmanager.amserver import Alertmanager, start_alertmanager

HUGE_INTERFACES = 110_000  # ~10.5 MB of VRP configuration


def huge_config() -> str:
    parts = ["#\nsysname BIG-CORE\n#\n"]
    for i in range(HUGE_INTERFACES):
        parts.append(f"interface GigabitEthernet{i // 48}/0/{i % 48}\n"
                     f" description to teaching building {i % 97} room {i % 211}\n"
                     f" port link-type access\n#\n")
    parts.append("aaa\n local-user big password irreversible-cipher $1a$HugeSecret$\n#\n"
                 "return\n")
    return "".join(parts)


@pytest.fixture(scope="module")
def changing_devices(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeDevices]:
    """Every personality gets its own (mutable) command table; plus `huge`, a VRP switch with
    a 10 MB configuration."""

    def own_tables(ps: dict[str, Personality]) -> None:
        for name, p in list(ps.items()):
            ps[name] = dataclasses.replace(p, commands=dict(p.commands))
        hw = ps["huawei"]
        ps["huge"] = dataclasses.replace(
            hw, username="huge", password="Huge@1234", hostname="BIG-CORE",
            commands={**hw.commands, "display current-configuration": huge_config()})

    server = start_fake_devices(tmp_path_factory.mktemp("ssh-backup"), own_tables)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def alertmanager_backup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alertmanager]:
    am = start_alertmanager(tmp_path_factory.mktemp("alertmanager-backup"))
    yield am
    am.stop()
