from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.exporters.alertmanager.amserver import Alertmanager, start_alertmanager
from tests.exporters.webhook.receiver import RobotReceiver


@pytest.fixture(scope="session")
def alertmanager_e2e(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alertmanager]:
    """An Alertmanager for the end-to-end tests (the exporter tests have their own)."""
    am = start_alertmanager(tmp_path_factory.mktemp("alertmanager-e2e"))
    yield am
    am.stop()


@pytest.fixture
def robots() -> Iterator[RobotReceiver]:
    r = RobotReceiver().start()
    yield r
    r.stop()
