from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.exporters.alertmanager.amserver import Alertmanager, start_alertmanager


@pytest.fixture(scope="session")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alertmanager]:
    """A shared Alertmanager; the outage test starts its own."""
    am = start_alertmanager(tmp_path_factory.mktemp("alertmanager"))
    yield am
    am.stop()
