"""Session-wide real servers: each starts once per test session, on a free loopback port."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Mosquitto, VictoriaMetrics, start_mosquitto, start_victoria_metrics

# A plugin writing a measurement, field or tag it did not declare on its spec raises instead of
# being set aside and counted (agent/framework/contract.py); agents the tests start inherit it.
os.environ.setdefault("CAMPUSMON_STRICT_CATALOGUE", "1")


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """Tests that call `agent.app.cli.main` in-process run setup_logging, which replaces the
    root logger's handlers with one on the sys.stderr of that moment: pytest's capture of the
    test, closed when the test ends. Left in place, every later log line from a thread that
    outlives its test (the session's fake SSH devices, asyncio loops) failed with "I/O
    operation on closed file" in the middle of the run. Put the root logger and the loggers
    setup_logging quiets back as they were."""
    names = ("", "pysnmp", "paramiko", "netmiko", "urllib3", "asyncio")
    levels = [(logging.getLogger(n), logging.getLogger(n).level) for n in names]
    root = logging.getLogger()
    before = list(root.handlers)
    yield
    for h in list(root.handlers):  # what the test installed (pytest's own come and go per phase)
        if h not in before and not _pytests(h):
            root.removeHandler(h)
    for h in before:  # pytest's session-long handlers (log-cli, log-file) the test replaced
        if h not in root.handlers and _pytests(h) and type(h).__name__ != "LogCaptureHandler":
            root.addHandler(h)
    for logger, level in levels:
        logger.setLevel(level)


def _pytests(handler: logging.Handler) -> bool:
    return type(handler).__module__.startswith("_pytest")


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
