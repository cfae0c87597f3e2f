"""Builders for config_backup tests: credentials for the fake devices, targets, a poller on a
fresh data dir, and reading a git repository back."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pydantic import SecretStr

from agent.core.plugin import BuildContext, Target
from collectors.ssh.backup.config import ConfigBackupConfig
from collectors.ssh.backup.plugin import ConfigBackup
from config.credentials import SshCredential
from inventory.models import Device, DeviceKind, Inventory
from tests.collectors.ssh.fakedevice import FakeDevices


def _cred(name: str, user: str, password: str | None = None, *, key: Path | None = None,
          enable: str | None = None) -> SshCredential:
    return SshCredential(
        name=name, type="ssh", username=user,
        password=SecretStr(password) if password else None,
        key_file=str(key) if key else None,
        enable_secret=SecretStr(enable) if enable else None)


def creds(fake: FakeDevices) -> dict[str, SshCredential]:
    cs = [
        _cred("huawei", "huawei", "Huawei@123"),
        _cred("h3c-key", "h3c", key=fake.client_key_path),
        _cred("ruijie", "ruijie", "Ruijie@123", enable="ruijie-en"),
        _cred("cisco", "cisco", "Cisco@123", enable="cisco-en"),
        _cred("zte", "zte", "Zte@1234", enable="zte-en"),
        _cred("wrong", "huawei", "not-the-password"),
        _cred("hang", "hang", "Hang@123"),
        _cred("garbage", "garbage", "Garbage@123"),
        _cred("nopager", "nopager", "NoPager@123"),
        _cred("huge", "huge", "Huge@1234"),
        _cred("aruba", "aruba", "Aruba@123", enable="aruba-en"),
    ]
    return {c.name: c for c in cs}


def target(fake: FakeDevices, id_: str, vendor: str, cred: str,
           kind: DeviceKind = DeviceKind.CORE_SWITCH) -> Target:
    dev = Device(id_, kind, "hn-demo", "dc", "dc-101", ipv4="127.0.0.1", vendor=vendor,
                 credential=cred)
    return Target(id=id_, device=dev, ipv4="127.0.0.1", port=fake.port, credential=cred)


def five(fake: FakeDevices) -> list[Target]:
    """Huawei (password), H3C (SSH key), Ruijie, Cisco and ZTE (enable + secret)."""
    return [
        target(fake, "hw-core", "Huawei", "huawei"),
        target(fake, "h3c-agg", "H3C", "h3c-key", DeviceKind.AGGREGATION_SWITCH),
        target(fake, "rj-core", "锐捷", "ruijie"),
        target(fake, "cisco-acc", "Cisco", "cisco", DeviceKind.ACCESS_SWITCH),
        target(fake, "zte-olt", "中兴", "zte", DeviceKind.AGGREGATION_SWITCH),
    ]


def aruba(fake: FakeDevices) -> Target:
    """An ArubaOS mobility controller (enable + secret, `no paging`)."""
    return target(fake, "aruba-mc", "Aruba", "aruba", DeviceKind.WLAN_CONTROLLER)


def backup(fake: FakeDevices, data_dir: Path, **cfg: object) -> ConfigBackup:
    ctx = BuildContext(instance="config_backup/t", inventory=Inventory.empty("hn-demo"),
                       credentials=creds(fake), data_dir=data_dir, config_dir=data_dir)
    return ConfigBackup(ConfigBackupConfig.model_validate(
        {"session_timeout_secs": 30.0, **cfg}), ctx)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True, timeout=60).stdout


def commits(repo: Path, path: str | None = None) -> list[str]:
    return git(repo, "log", "--format=%s", *(["--", path] if path else [])).splitlines()


def all_objects(repo: Path) -> bytes:
    """Every object in the store, loose and packed, decompressed."""
    return subprocess.run(["git", "-C", str(repo), "cat-file", "--batch-all-objects",
                           "--batch"], capture_output=True, check=True, timeout=60).stdout
