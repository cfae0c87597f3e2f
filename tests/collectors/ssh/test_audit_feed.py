"""SSH facts feed the same audits as SNMP: the CLI's identification of a device overrides the
vendor declared in the inventory in the localization (国产化) audit."""

from __future__ import annotations

import time
from pathlib import Path

from agent.core.model import Metric
from agent.processors.audit.plugin import AuditConfig, AuditProcessor
from collectors.ssh.metrics import version_metrics
from collectors.ssh.normalize import NORMALIZERS
from collectors.ssh.parsing import parse
from collectors.ssh.platforms import COMMAND_SETS, Platform
from collectors.ssh.rows import VersionInfo
from inventory.models import Campus, Device, DeviceKind, Inventory

DATA = Path(__file__).resolve().parent / "data"
HPE_VERSION = (  # ntc-templates tests/hp_comware/display_version/hp_comware_display_version2.raw
    "HPE Comware Software, Version 7.1.070, Release 3507P18\n"
    "Copyright (c) 2010-2023 Hewlett Packard Enterprise Development LP\n"
    "HPE 5130 48G PoE+ 4SFP+ 1-slot HI Switch JH326A uptime is 35 weeks, 3 days, 5 hours, "
    "55 minutes\nLast reboot reason : User reboot\n")


def _version(platform: Platform, text: str) -> VersionInfo:
    cmd = COMMAND_SETS[platform][0]
    [row] = NORMALIZERS[cmd.template](parse(cmd, text))
    assert isinstance(row, VersionInfo)
    return row


def _network_share(proc: AuditProcessor) -> float:
    [m] = [m for m in proc.emit() if m.name == "audit_indicator"
           and m.tags.get("indicator") == "localization_network"]
    value = m.fields["value"]
    assert isinstance(value, float | int)
    return float(value)


def test_cli_identification_overrides_declared_vendor() -> None:
    # both declared domestic in the asset list; the CLI shows one is an HPE-branded Comware box
    hpe_box = Device("core-sw", DeviceKind.CORE_SWITCH, "hn", "dc", None, vendor="H3C")
    huawei = Device("acc-sw", DeviceKind.ACCESS_SWITCH, "hn", "dc", None, vendor="Huawei")
    inv = Inventory.build(Campus("hn", "hn"), (), (), (hpe_box, huawei))

    before = AuditProcessor(AuditConfig(), inv)
    assert _network_share(before) == 100.0

    items: list[Metric] = []
    for dev, platform, text in (
            (hpe_box, Platform.HP_COMWARE, HPE_VERSION),
            (huawei, Platform.HUAWEI, (DATA / "huawei_display_version.raw").read_text())):
        items += [m.with_tags(dev.tags())  # what the pipeline adds for a target
                  for m in version_metrics(_version(platform, text), platform, time.time_ns())]
    after = AuditProcessor(AuditConfig(), inv)
    after.process(items)
    assert _network_share(after) == 50.0
