"""A Linux server over SSH (collectors/ssh/servers.py): the fake device's `kylin` personality
answers the real commands with outputs from public sources (data/SOURCES.md: Kylin V10
os-release and kernel, Kunpeng 920 /proc/cpuinfo; the process list is constructed). The
collector must classify CPU, OS, database and middleware, each with the rule named."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from agent.core.model import Metric
from agent.core.plugin import BuildContext, Target
from collectors.ssh.config import SshConfig
from collectors.ssh.plugin import SshCollector
from collectors.ssh.servers import verdicts
from config.credentials import SshCredential
from inventory.models import Device, DeviceKind, Inventory
from tests.collectors.ssh.fakedevice import FakeDevices

DATA = Path(__file__).resolve().parent / "data"


@pytest.mark.timeout(60)
async def test_kunpeng_kylin_server_over_ssh(fake_devices: FakeDevices) -> None:
    cred = SshCredential(name="kylin", type="ssh", username="kylin",
                         password=SecretStr("Kylin@123"))
    ctx = BuildContext(instance="ssh/ssh", inventory=Inventory.empty("hn-demo"),
                       credentials={"kylin": cred}, data_dir=Path("/nonexistent"),
                       config_dir=Path("/nonexistent"))
    col = SshCollector(SshConfig.model_validate({"session_timeout_secs": 10.0}), ctx)
    # a server declared by its hardware vendor: the kind, not the vendor, picks the Linux plan
    dev = Device("db-1", DeviceKind.SERVER, "hn-demo", "dc", "dc-101", ipv4="127.0.0.1",
                 vendor="Huawei", credential="kylin")
    target = Target(id="db-1", device=dev, ipv4="127.0.0.1", port=fake_devices.port,
                    credential="kylin")
    try:
        items = await col.poll(target)
    finally:
        await col.close()
    rows = [(m.tags["category"], m.tags["platform_vendor"], m.tags["product"],
             m.tags["domestic"], m.tags["rule"], m.tags["source"])
            for m in items if isinstance(m, Metric) and m.name == "server_platform"]
    assert rows == [
        ("os", "Kylinsoft", "Kylin Linux Advanced Server V10 (Lance)", "yes",
         "d.3 os-release ID=kylin", "ssh-linux"),
        ("cpu", "HiSilicon", "Kunpeng-920", "yes", "d.2 arm64 CPU implementer 0x48",
         "ssh-linux"),
        ("database", "Dameng", "DM", "yes", "d.4 process dmserver", "ssh-linux"),
        ("middleware", "TongTech", "TongWeb", "yes", "d.4 java com.tongweb", "ssh-linux"),
    ]


def test_foreign_and_unknown_outputs() -> None:
    ubuntu = 'NAME="Ubuntu"\nID=ubuntu\nPRETTY_NAME="Ubuntu 22.04.4 LTS"\nKERNEL=5.15.0-1\n'
    [v] = verdicts("linux_os_release", ubuntu)
    assert (v.vendor, v.domestic, v.rule) == ("Canonical", "no", "d.3 os-release ID=ubuntu")
    # an unknown ID whose kernel says Kylin: the kernel suffix decides, named as such
    [v] = verdicts("linux_os_release", "ID=custom\nKERNEL=4.19.90-24.4.v2101.ky10.x86_64\n")
    assert (v.vendor, v.rule) == ("Kylinsoft", "d.3 kernel suffix .ky10.")
    [v] = verdicts("linux_os_release", "garbage\x00\n" * 10_000)
    assert (v.vendor, v.domestic) == ("unknown", "unknown")
    [v] = verdicts("linux_cpuinfo", "vendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon\n")
    assert (v.vendor, v.domestic) == ("Intel", "no")
    ps = ("sqlservr /opt/mssql/bin/sqlservr\nora_pmon_ORCL ora_pmon_ORCL\n"
          "java java -Dweblogic.Name=AdminServer weblogic.Server\n")
    assert [(v.product, v.domestic) for v in verdicts("linux_processes", ps)] == [
        ("SQL Server", "no"), ("Oracle Database", "no"), ("WebLogic", "no")]
