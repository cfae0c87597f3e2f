"""An SSH device whose host key changed: refused before login, no password sent, alert raised.

The device is the asyncssh fake switch (a real SSH server on loopback). "Changed" is made the
way it happens: the key trusted on first use is in the agent's known_hosts file, and the device
now shows another one (here: the file holds another key for its address).
"""

from __future__ import annotations

import stat
from pathlib import Path

import asyncssh
import pytest
from pydantic import SecretStr

from agent.core.errors import PartialCollect
from agent.core.model import ErrorType, Event, EventState, Metric
from agent.core.plugin import BuildContext, Target
from collectors.ssh.config import SshConfig
from collectors.ssh.plugin import SshCollector
from config.credentials import SshCredential
from inventory.models import Device, DeviceKind, Inventory
from tests.agent.processors.alerts.helpers import FakeClock, alert_events, processor
from tests.collectors.ssh.fakedevice import FakeDevices

PASSWORD = "Huawei@123"


def _collector(data_dir: Path, **cfg: object) -> SshCollector:
    cred = SshCredential(name="huawei", type="ssh", username="huawei",
                         password=SecretStr(PASSWORD))
    ctx = BuildContext(instance="ssh/ssh", inventory=Inventory.empty("hn-demo"),
                       credentials={"huawei": cred}, data_dir=data_dir, config_dir=data_dir)
    return SshCollector(SshConfig.model_validate(
        {"session_timeout_secs": 10.0, "commands": ["version"], **cfg}), ctx)


def _target(fake: FakeDevices) -> Target:
    dev = Device("core-1", DeviceKind.CORE_SWITCH, "hn-demo", "dc", "dc-101", ipv4="127.0.0.1",
                 vendor="Huawei", credential="huawei")
    return Target(id="core-1", device=dev, ipv4="127.0.0.1", port=fake.port,
                  credential="huawei")


@pytest.mark.timeout(60)
async def test_changed_host_key_is_refused_before_login_and_alerts(
        ssh_devices: FakeDevices, tmp_path: Path) -> None:
    col = _collector(tmp_path)
    known = tmp_path / "ssh" / "known_hosts"
    try:
        # first use: trusted, remembered 0600, and the poll works
        items = await col.poll(_target(ssh_devices))
        assert any(isinstance(i, Metric) and i.name == "ssh_device_info" for i in items)
        assert known.read_text() == ssh_devices.known_hosts_line()
        assert stat.S_IMODE(known.stat().st_mode) == 0o600
        assert (await col.poll(_target(ssh_devices)))  # the same key again: fine

        # the device now shows another key than the one trusted
        other = asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh")
        ktype, b64 = other.decode().split()[:2]
        known.write_text(f"[127.0.0.1]:{ssh_devices.port} {ktype} {b64}\n")
        auth_before = len(ssh_devices.auth_users)
        passwords_before = len(ssh_devices.passwords_seen)
        with pytest.raises(PartialCollect) as info:
            await col.poll(_target(ssh_devices))
    finally:
        await col.close()
    exc = info.value
    assert exc.error_type is ErrorType.AUTH
    assert "CHANGED" in str(exc) and "no password" in str(exc)
    assert PASSWORD not in str(exc)
    # refused before authentication: the device never saw the password (nor a login attempt)
    assert len(ssh_devices.auth_users) == auth_before
    assert len(ssh_devices.passwords_seen) == passwords_before
    # the file is not "fixed" behind the user's back
    assert b64 in known.read_text()
    (event,) = [i for i in exc.items if isinstance(i, Event)]
    assert event.kind == "ssh_host_key_changed" and event.device == "core-1"

    # the built-in rule raises the alert
    inv = Inventory.empty("hn-demo")
    alerts = processor(inv, FakeClock(), {}, {}, rule_names=["ssh_host_key_changed"])
    raised = [e for e in alert_events(alerts.process([event]))
              if e.state is EventState.RAISED]
    assert [e.labels["alertname"] for e in raised] == ["ssh_host_key_changed"]
    assert raised[0].severity.value == "critical"


@pytest.mark.timeout(60)
async def test_strict_refuses_an_unknown_key_and_insecure_is_loud(
        ssh_devices: FakeDevices, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    known = tmp_path / "pre-loaded"
    known.write_text("")
    col = _collector(tmp_path, host_key_check="strict", known_hosts_file=str(known))
    try:
        with pytest.raises(Exception) as info:
            await col.poll(_target(ssh_devices))
        assert "known_hosts" in str(info.value)
    finally:
        await col.close()
    insecure = _collector(tmp_path, host_key_check="insecure")
    await insecure.close()
    assert any("NOT checked" in r.getMessage() for r in caplog.records)
