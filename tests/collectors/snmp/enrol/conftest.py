"""The enrolment lab, once per session (tests/collectors/snmp/enrol/lab.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.collectors.snmp.enrol.lab import Lab, start_lab


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    started = start_lab()
    yield started
    started.close()
