"""A full disk under the data dir: the backup that cannot be written fails as `internal`
naming the file (not as the device being unreachable), nothing half-written stays, and the next
device is backed up once the space is free again. The data dir is a 4 MB tmpfs in a mount
namespace of the test's own (`unshare -m`, root), the 10 MB configuration does not fit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.collectors.ssh.fakedevice import FakeDevices
from tests.servers import require_binary, require_root

REPO = Path(__file__).resolve().parents[4]


@pytest.mark.timeout(180)
def test_full_disk_is_internal_and_the_next_device_is_backed_up(
        changing_devices: FakeDevices, tmp_path: Path) -> None:
    require_root()
    unshare = require_binary("unshare")
    data = tmp_path / "data"
    data.mkdir()
    script = (f"mount -t tmpfs -o size=4m campusmon-test {data} && exec {sys.executable} "
              f"-m tests.collectors.ssh.backup.diskfull {data} {changing_devices.port}")
    res = subprocess.run([unshare, "-m", "--propagation", "private", "sh", "-c", script],
                         capture_output=True, text=True, cwd=REPO, timeout=170)
    assert res.returncode == 0, res.stderr[-3000:]
    lines = [json.loads(x) for x in res.stdout.splitlines() if x.startswith("{")]
    big, small, files = lines
    assert files == {"incoming": [], "stored": ["cisco-acc.cfg"]}
    assert (big["device"], big["ok"], big["error"]) == ("big-core", False, "internal")
    assert "big-core: writing" in big["message"] and "No space left" in big["message"]
    assert small == {"device": "cisco-acc", "ok": True, "n": 1}
