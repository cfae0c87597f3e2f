"""How a target becomes a plan: platform, credential, commands, timeouts (no SSH involved)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from agent.core.errors import CollectError
from agent.core.model import ErrorType
from agent.core.plugin import BuildContext, Target
from collectors.ssh.config import SshConfig
from collectors.ssh.platforms import CommandKind, Platform
from collectors.ssh.plugin import SshCollector
from config.credentials import Credential, SnmpV2cCredential, SshCredential
from inventory.models import Device, DeviceKind, Inventory

CREDS: dict[str, Credential] = {
    "campus-v2c": SnmpV2cCredential(name="campus-v2c", type="snmp_v2c",
                                    community=SecretStr("public")),
    "campus-ssh": SshCredential(name="campus-ssh", type="ssh", username="mon",
                                password=SecretStr("pw"), enable_secret=SecretStr("en")),
    "ac-ssh": SshCredential(name="ac-ssh", type="ssh", username="ac", key_file="keys/ac"),
}


def _collector(**cfg: object) -> SshCollector:
    ctx = BuildContext(instance="ssh/ssh", inventory=Inventory.empty(), credentials=CREDS,
                       data_dir=Path("/nonexistent"), config_dir=Path("/etc/campusmon"),
                       timeout_s=10.0)
    return SshCollector(SshConfig.model_validate(cfg), ctx)


def _target(id_: str, vendor: str | None, kind: DeviceKind = DeviceKind.CORE_SWITCH,
            credential: str | None = "campus-v2c") -> Target:
    dev = Device(id_, kind, "c", None, None, ipv4="10.0.0.1", vendor=vendor,
                 credential=credential)
    return Target(id=id_, device=dev, ipv4="10.0.0.1", credential=credential)


def test_device_snmp_credential_is_skipped_for_the_instance_default() -> None:
    plan = _collector(credential="campus-ssh").plan(_target("core", "Huawei"))
    assert plan.platform is Platform.HUAWEI
    p = plan.params
    assert (p.username, p.password, p.secret, p.port) == ("mon", "pw", "en", 22)
    assert p.timeout_s == pytest.approx(8.0)  # 0.8 × the instance's 10 s
    assert [c.kind for c in plan.commands] == [
        CommandKind.VERSION, CommandKind.IPV6_INTERFACES, CommandKind.LLDP_NEIGHBORS]


def test_overrides_per_target() -> None:
    col = _collector(credential="campus-ssh", vendors={"Quidway": "huawei"}, devices={
        "ac-1": {"credential": "ac-ssh", "port": 2222, "commands": ["version", "ap_list"]},
        "old": {"platform": "hp_comware"}})
    ac = col.plan(_target("ac-1", "华为", DeviceKind.WLAN_CONTROLLER))
    assert (ac.params.username, ac.params.port) == ("ac", 2222)
    assert ac.params.key_file == "/etc/campusmon/keys/ac"  # relative to the config file
    assert [c.cli for c in ac.commands] == ["display version", "display ap all"]
    assert col.plan(_target("q", "Quidway")).platform is Platform.HUAWEI
    assert col.plan(_target("old", "3Com")).platform is Platform.HP_COMWARE


def test_no_ssh_credential_is_an_auth_error_naming_the_device() -> None:
    with pytest.raises(CollectError) as err:
        _collector().plan(_target("core", "Huawei"))
    assert err.value.error_type is ErrorType.AUTH
    assert str(err.value).startswith("core: no ssh credential set among ['campus-v2c']")
