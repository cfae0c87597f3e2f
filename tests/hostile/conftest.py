"""Servers for the hostile-world suite, started once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.collectors.ssh.fakedevice import FakeDevices, start_fake_devices


@pytest.fixture(scope="session")
def ssh_devices(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeDevices]:
    server = start_fake_devices(tmp_path_factory.mktemp("hostile-ssh"))
    yield server
    server.stop()
