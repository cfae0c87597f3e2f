"""`syslog_forward` against a real rsyslogd as the central log system, through the agent's own
plumbing (syslog listener → pipeline → disk queue → PushOutput → exporter): the centre is
stopped for 60 s while a bounded storm of syslog lines keeps arriving, then restarted — every
line arrives exactly once, each device's lines in the order the device sent them, with device
and campus in the structured data."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from agent.core.model import Item
from agent.core.plugin import BuildContext, Capability, ListenerContext, Target
from collectors.syslog.plugin import SyslogConfig
from collectors.syslog.plugin import build as build_syslog
from exporters.syslog_forward.plugin import SPEC as SYSLOG_FORWARD
from exporters.syslog_forward.plugin import SyslogForwardConfig, SyslogForwardExporter
from inventory.models import Campus, Device, DeviceKind, Inventory
from tests.agent.processors.alerts.rig import Rig
from tests.collectors.snmp_trap.helpers import wait_for
from tests.exporters.syslog_forward.rsyslogd import start_rsyslog

OUTAGE_SECS = float(os.environ.get("CAMPUSMON_SYSLOG_OUTAGE_SECS", "60"))
DEVICES = {"core-sw": "127.0.0.1", "acc-1": "127.0.0.2", "acc-2": "127.0.0.3"}


class PassThrough:
    def process(self, items: Sequence[Item]) -> Sequence[Item]:
        return items


@pytest.mark.timeout(300)
async def test_centre_down_60s_during_a_storm_every_line_once_in_order(tmp_path: Path) -> None:
    centre = start_rsyslog(tmp_path / "rsyslog")
    inv = Inventory.build(Campus("hn-demo", "demo"), (), (), [
        Device(id=d, kind=DeviceKind.ACCESS_SWITCH, campus="hn-demo", building="b1", room=None,
               ipv4=a) for d, a in DEVICES.items()])
    targets = [Target(id=d.id, device=d, ipv4=d.ipv4) for d in inv.devices]
    exporter = SyslogForwardExporter(SyslogForwardConfig(
        host=centre.host, port=centre.port, tls=False, timeout_secs=5), None)
    rig = Rig(tmp_path, PassThrough(), {"fwd": exporter})
    # what the runtime does for a spec declaring Capability.IN_ORDER: oldest first, always
    assert Capability.IN_ORDER in SYSLOG_FORWARD.capabilities
    rig.outputs["fwd"].fresh_secs = 0.0
    lst = build_syslog(SyslogConfig(listen_udp=["127.0.0.1:0"], report_interval_secs=3600),
                       BuildContext(instance="syslog/t", inventory=inv, credentials={},
                                    data_dir=tmp_path, config_dir=tmp_path))
    emitted = 0

    def emit(items: Any, target: Target | None = None) -> None:
        nonlocal emitted
        emitted += len(items)
        rig.submit(items, target)

    task = asyncio.create_task(lst.run(ListenerContext(emit, targets, lambda _e: None)))
    await asyncio.wait_for(lst.ready.wait(), 10)
    port = lst.bound["udp"][0][1]
    senders = {}
    for dev, addr in DEVICES.items():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, 0))
        senders[dev] = s
    seq = dict.fromkeys(DEVICES, 0)
    sent = 0

    async def burst(per_device: int) -> None:
        nonlocal sent
        for _ in range(per_device):
            for dev, s in senders.items():
                seq[dev] += 1
                s.sendto(f"<187>Dec  1 10:00:00 {dev} %LINK-3-UPDOWN: Interface Gi0/{seq[dev] % 48}"
                         f", changed state to down seq={dev}/{seq[dev]}".encode(),
                         ("127.0.0.1", port))
                sent += 1
        await wait_for(lambda: emitted >= sent, steps=400)
        await rig.flush()

    async def drain(max_rounds: int = 400) -> None:
        for _ in range(max_rounds):
            if rig.depth("fwd") == 0:
                return
            if await rig.outputs["fwd"].deliver_once() <= 0:
                await asyncio.sleep(0.05)

    try:
        await burst(200)
        await drain()
        assert rig.depth("fwd") == 0
        centre.stop()  # the centre goes away during the storm
        down_at = time.monotonic()
        while time.monotonic() - down_at < OUTAGE_SECS:
            await burst(50)  # ~150 lines every ~0.5 s: bounded, ~18k lines in 60 s
            await rig.outputs["fwd"].deliver_once()  # refused: the batch stays queued
            await asyncio.sleep(0.4)
        queued = rig.depth("fwd")
        assert queued > 0
        centre.start()
        await burst(100)
        await drain(4000)
        assert rig.depth("fwd") == 0
        assert lst.inbox.dropped == 0  # the listener kept up (the storm test covers drops)
        assert await wait_for(lambda: len(centre.lines()) >= sent, steps=400)
        got = centre.lines()
        pattern = re.compile(r"seq=([\w-]+)/(\d+)$")
        per_device: dict[str, list[int]] = {d: [] for d in DEVICES}
        for line in got:
            m = pattern.search(line)
            assert m is not None, line
            per_device[m.group(1)].append(int(m.group(2)))
        for dev, seqs in per_device.items():
            assert seqs == list(range(1, seq[dev] + 1)), f"{dev}: lost, doubled or reordered"
        assert len(got) == sent
        sample = got[-1]
        assert '[campusmon@32473 campus="hn-demo" building="b1"' in sample
        assert ' device="acc-2"' in sample or ' device="core-sw"' in sample or \
            ' device="acc-1"' in sample
        assert "%LINK-3-UPDOWN: Interface" in sample  # the device's own line, whole
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        for s in senders.values():
            s.close()
        rig.close()
        centre.stop()
