"""One fake-device SSH server for the whole session (netmiko logins are slow; reuse it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.collectors.ssh.fakedevice import FakeDevices, start_fake_devices


@pytest.fixture(scope="session")
def fake_devices(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeDevices]:
    server = start_fake_devices(tmp_path_factory.mktemp("ssh"))
    yield server
    server.stop()
