"""`campusmon demo` (what `make demo` runs): the simulated campus is polled and shown."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.framework.localstore import LocalStore
from tests.agent.agentproc import campusmon


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """As root, snmpsim reads its data as nobody: pytest's tmp dirs (0700) are not enough."""
    path = Path(tempfile.mkdtemp(prefix="campusmon-demo-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.timeout(400)
def test_demo_prints_collected_points(open_dir: Path) -> None:
    work = open_dir / "demo"
    r = campusmon("demo", "--workdir", str(work), "--intervals", "3", "--interval-secs", "6",
                  "--switches", "3", "--aps", "4", timeout=380)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Collected" in r.stdout and "host_cpu" in r.stdout
    assert int(r.stdout.split("Collected ")[1].split()[0]) > 0
    store = LocalStore.open_readonly(work / "data" / "store.db")
    names = dict(store.measurements())
    store.close()
    for expected in ("snmp_interface", "snmp_device_info", "wlan_ap", "probe_icmp",
                     "probe_tcp", "audit_indicator", "alerts"):
        assert names.get(expected), (expected, sorted(names), r.stdout[-3000:])
    if shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists():
        assert names.get("iot_device") and names.get("cellular_5g"), sorted(names)
    assert (work / "report" / "report.html").exists(), r.stdout[-2000:]
