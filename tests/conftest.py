"""Session-wide real servers: each starts once per test session, on a free loopback port."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Mosquitto, VictoriaMetrics, start_mosquitto, start_victoria_metrics

# A plugin writing a measurement, field or tag it did not declare on its spec raises instead of
# being set aside and counted (agent/framework/contract.py); agents the tests start inherit it.
os.environ.setdefault("CAMPUSMON_STRICT_CATALOGUE", "1")


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """A shared broker. Tests that stop or reconfigure a broker start their own."""
    broker = start_mosquitto(tmp_path_factory.mktemp("mosquitto"))
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def victoria_metrics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaMetrics]:
    """A shared VictoriaMetrics. Outage tests start their own instance."""
    vm = start_victoria_metrics(tmp_path_factory.mktemp("vm"))
    yield vm
    vm.stop()


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
