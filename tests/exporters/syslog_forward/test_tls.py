"""`syslog_forward` over TLS (RFC 5425) into a TLS syslog receiver (our own `syslog` listener
with a test PKI): the frames are valid RFC 5424, the MSG is the device's line unchanged, device
and campus travel as structured data; a centre whose certificate is not trusted is a permanent
error (set aside, named), a centre that is down is retryable."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from agent.core.errors import PermanentExportError
from agent.core.model import Event, EventState, Severity
from agent.core.plugin import Batch, BatchKind, BuildContext
from agent.framework.outputs import CentreUnavailable
from collectors.syslog.parse import parse
from collectors.syslog.plugin import SyslogConfig, TlsListen
from collectors.syslog.plugin import build as build_syslog
from exporters.syslog_forward.plugin import SyslogForwardConfig, build
from inventory.models import Inventory
from tests.collectors.mqtt.certs import make_pki
from tests.collectors.snmp_trap.helpers import Recorder, wait_for
from tests.servers import free_port

RAW = ("<189>Dec  1 2026 10:15:02 core-sw %%01CFG/5/CFG_SAVE(l)[7]:The configuration was saved"
       ' by "ops" ] [x] \\ end')


def event(i: int) -> Event:
    return Event(f"syslog:core-sw:{i}", "syslog", EventState.OBSERVED, Severity.INFO, "saved",
                 "core-sw", {"campus": "hn-demo", "building": "dc", "source": "10.0.0.2",
                 "transport": "udp", "raw": f"{RAW} #{i}", "facility": "23",
                 "syslog_severity": "5"}, 1_800_000_000_123_456_789)


@pytest.mark.timeout(60)
async def test_tls_forward_is_rfc5424_with_the_line_unchanged(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    ctx = BuildContext(instance="t/t", inventory=Inventory.empty("hn-demo"), credentials={},
                       data_dir=tmp_path, config_dir=tmp_path)
    centre = build_syslog(SyslogConfig(listen_udp=[], listen_tls=[TlsListen(
        address="127.0.0.1:0", cert_file=str(pki.server_cert), key_file=str(pki.server_key))],
        report_interval_secs=3600), ctx)
    rec = Recorder()
    task = asyncio.create_task(centre.run(rec.context([])))
    try:
        await asyncio.wait_for(centre.ready.wait(), 10)
        port = centre.bound["tls"][0][1]
        exp = build(SyslogForwardConfig(host="127.0.0.1", port=port, tls=True,
                                        ca_file=str(pki.ca), server_name="localhost"), ctx)
        other = Event("a:1", "device_down_icmp", EventState.RAISED, Severity.CRITICAL, "x")
        await exp.write(Batch(BatchKind.EVENTS, [], events=[event(1), other, event(2)]))
        assert await wait_for(lambda: len(rec.events("syslog")) == 2)
        got = [e.labels["raw"] for _, e in rec.events("syslog")]
        for i, line in enumerate(got, start=1):
            m = parse(line)
            assert (m.format, m.facility, m.severity) == ("rfc5424", 23, 5)
            assert (m.hostname, m.app, m.msgid) == ("core-sw", "campusmon", "syslog")
            assert m.timestamp == "2027-01-15T08:00:00.123456Z"
            assert 'campus="hn-demo"' in m.structured and 'device="core-sw"' in m.structured
            assert m.message == f"{RAW} #{i}"  # the device's own words, byte for byte
        assert exp.sent_lines == 2  # the alert is not a log line: not relayed
        # a centre with a certificate we do not trust: refused for good, with the reason
        bad = build(SyslogForwardConfig(host="127.0.0.1", port=port, tls=True,
                                        ca_file=str(pki.other_ca), server_name="localhost"),
                    ctx)
        with pytest.raises(PermanentExportError, match="certificate"):
            await bad.write(Batch(BatchKind.EVENTS, [], events=[event(3)]))
        # a centre that is down: retryable, the batch stays queued
        down = build(SyslogForwardConfig(host="127.0.0.1", port=free_port(), tls=True,
                                         ca_file=str(pki.ca)), ctx)
        with pytest.raises(CentreUnavailable):
            await down.write(Batch(BatchKind.EVENTS, [], events=[event(4)]))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
