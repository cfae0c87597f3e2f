"""The `syslog` listener on loopback with real senders: util-linux `logger` (RFC 3164 over UDP,
RFC 5424 over TCP with octet-counting and with LF framing), the cited vendor lines over TCP and
TLS, and garbage that is kept raw and counted; a bounded storm drops only its excess."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.core.plugin import BuildContext, Target
from collectors.syslog.plugin import SyslogConfig, SyslogListener, TlsListen, build
from inventory.models import Campus, Device, DeviceKind, Inventory
from tests.collectors.mqtt.certs import make_pki
from tests.collectors.snmp_trap.helpers import Recorder, wait_for
from tests.collectors.syslog.test_parse import samples
from tests.servers import require_binary


def inventory() -> Inventory:
    return Inventory.build(Campus("hn-demo", "demo"), (), (), [
        Device(id="core-sw", kind=DeviceKind.CORE_SWITCH, campus="hn-demo", building="dc",
               room=None, ipv4="127.0.0.1", vendor="Huawei"),
        Device(id="acc-ruijie", kind=DeviceKind.ACCESS_SWITCH, campus="hn-demo", building="b1",
               room=None, ipv6="::1", vendor="Ruijie"),
    ])


async def start(tmp_path: Path, cfg: SyslogConfig) -> tuple[SyslogListener, Recorder,
                                                            asyncio.Task[None]]:
    inv = inventory()
    ctx = BuildContext(instance="syslog/test", inventory=inv, credentials={},
                       data_dir=tmp_path, config_dir=tmp_path)
    lst = build(cfg, ctx)
    rec = Recorder()
    targets = [Target(id=d.id, device=d, ipv4=d.ipv4, ipv6=d.ipv6) for d in inv.devices]
    task = asyncio.create_task(lst.run(rec.context(targets)))
    await asyncio.wait_for(lst.ready.wait(), 10)
    return lst, rec, task


@pytest.fixture
async def listener(tmp_path: Path) -> AsyncIterator[tuple[SyslogListener, Recorder, Path]]:
    pki = make_pki(tmp_path / "pki")
    cfg = SyslogConfig(listen_udp=["127.0.0.1:0", "[::1]:0"],
                       listen_tcp=["127.0.0.1:0", "[::1]:0"],
                       listen_tls=[TlsListen(address="127.0.0.1:0", cert_file=str(pki.server_cert),
                                             key_file=str(pki.server_key))],
                       report_interval_secs=3600)
    lst, rec, task = await start(tmp_path, cfg)
    yield lst, rec, pki.ca
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def port(lst: SyslogListener, kind: str, v6: bool = False) -> int:
    return next(p for h, p in lst.bound[kind] if (":" in h) == v6)


async def logger(*argv: str) -> None:
    proc = await asyncio.create_subprocess_exec("logger", *argv, stderr=subprocess.PIPE)
    _, err = await proc.communicate()
    assert proc.returncode == 0, err


async def test_logger_rfc3164_udp_and_rfc5424_tcp(listener) -> None:
    require_binary("logger")
    lst, rec, _ = listener
    await logger("--rfc3164", "-d", "-n", "127.0.0.1", "-P", str(port(lst, "udp")),
                 "-t", "sshd", "-p", "auth.warning",
                 "Failed password for invalid user admin from 192.0.2.7 port 5151 ssh2")
    await logger("--rfc5424", "-T", "--octet-count", "-n", "127.0.0.1", "-P",
                 str(port(lst, "tcp")), "-t", "campus", "--msgid", "CFG", "-p", "local0.notice",
                 "%%01CFG/4/CFG_SAVE(l)[1]:The configuration was saved by user ops.")
    await logger("--rfc5424", "-T", "-n", "::1", "-P", str(port(lst, "tcp", v6=True)),
                 "-t", "campus", "-p", "local7.err",
                 "%LINK-3-UPDOWN: Interface GigabitEthernet 0/24, changed state to down")
    assert await wait_for(lambda: len(rec.events("syslog")) >= 3)
    evs = {e.labels["format"] + "/" + e.labels["transport"]: (t, e)
           for t, e in rec.events("syslog")}
    t, e = evs["rfc3164/udp"]
    assert t is not None and e.device == "core-sw"
    assert (e.labels["mnemonic"], e.labels["user"]) == ("sshd-INVALID_USER_LOGIN_FAILED",
                                                         "admin")
    assert e.labels["category"] == "auth_failure" and e.labels["syslog_severity"] == "4"
    cfgs = [e for _, e in rec.events("syslog") if e.labels.get("category") == "config_saved"]
    assert len(cfgs) == 1 and cfgs[0].device == "core-sw"
    assert cfgs[0].labels["mnemonic"] == "CFG/4/CFG_SAVE(l)"
    links = [(t, e) for t, e in rec.events("syslog") if e.labels["category"] == "link_down"]
    assert len(links) == 1
    t, e = links[0]
    assert e.device == "acc-ruijie"  # sent from ::1
    assert e.labels["vendor_format"] == "ruijie"  # Cisco-style line from a Ruijie device
    assert e.labels["ifname"] == "GigabitEthernet 0/24"
    assert e.labels["raw"].endswith("changed state to down")


async def test_vendor_lines_over_tcp_lf_and_tls_and_garbage(listener) -> None:
    lst, rec, ca = listener
    lines = [line for line, _ in samples()]
    garbage = ["this is not syslog", "<999>nonsense", "\x00\x01binary\xff", "<>"]
    _, w = await asyncio.open_connection("127.0.0.1", port(lst, "tcp"))
    w.write(("\n".join([*lines, *garbage]) + "\n").encode("utf-8", "replace"))
    await w.drain()
    w.close()
    ctx = ssl.create_default_context(cafile=str(ca))
    _, w = await asyncio.open_connection("127.0.0.1", port(lst, "tls"), ssl=ctx,
                                         server_hostname="localhost")
    for line in lines:  # RFC 5425: octet-counting
        b = line.encode()
        w.write(str(len(b)).encode() + b" " + b)
    await w.drain()
    w.close()
    n = 2 * len(lines) + len(garbage)
    assert await wait_for(lambda: len(rec.events("syslog")) >= n)
    evs = [e for _, e in rec.events("syslog")]
    assert len(evs) == n
    by_transport: dict[str, list[str]] = {}
    for e in evs:
        if e.labels["format"] != "raw":
            by_transport.setdefault(e.labels["transport"], []).append(e.labels["mnemonic"])
    assert by_transport["tcp"] == by_transport["tls"]  # same lines, same reading, in order
    expected = [exp[1] for _, exp in samples()]
    assert by_transport["tls"] == expected
    raw = [e for e in evs if e.labels["format"] == "raw"]
    assert len(raw) == len(garbage)  # no valid PRI (<999> is out of range): kept raw
    assert lst.totals.unparsed == len(raw) and lst.totals.parsed == n - len(raw)
    assert all(e.labels["raw"] for e in raw)


async def test_storm_drops_only_the_excess(tmp_path: Path) -> None:
    """20,000 UDP lines at once into an inbox of 500 whose consumer is made slow (a sleep in
    front of the parser: the only mock here, standing in for a busy CPU): the excess is dropped
    and counted, everything accepted becomes an event, and a line after the storm still
    arrives."""
    cfg = SyslogConfig(listen_udp=["127.0.0.1:0"], queue_max_messages=500, batch_max=100,
                       report_interval_secs=3600)
    lst, rec, task = await start(tmp_path, cfg)
    real = lst.process

    def slow(batch):
        import time
        time.sleep(0.02)
        return real(batch)

    lst.process = slow  # type: ignore[method-assign]
    p = port(lst, "udp")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    line = b"<187>Dec  1 10:00:00 core-sw %LINK-3-UPDOWN: Interface Gi0/1, changed state to down"
    sent = 20000
    for i in range(sent):
        s.sendto(line + b" #%d" % i, ("127.0.0.1", p))
        if i % 2000 == 0:
            await asyncio.sleep(0)  # let the loop read; the kernel buffer is bounded too
    assert await wait_for(lambda: lst.inbox.depth() == 0 and
                          len(rec.events("syslog")) == lst.inbox.accepted, steps=2000)
    lst.process = real  # type: ignore[method-assign]
    s.sendto(b"<14>Dec  1 10:00:01 core-sw after: the storm is over", ("127.0.0.1", p))
    assert await wait_for(lambda: any("storm is over" in e.summary
                                      for _, e in rec.events("syslog")))
    received = lst.totals.received
    assert lst.inbox.dropped > 0  # the excess was dropped …
    assert lst.inbox.accepted + lst.inbox.dropped == received  # … and every line is counted
    assert len(rec.events("syslog")) == lst.inbox.accepted
    # what the kernel dropped before we could read is the sender's loss, not ours
    assert received <= sent + 1
    s.close()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_trusted_relay_names_the_device_by_hostname(tmp_path: Path) -> None:
    """A relay (127.0.0.5, e.g. a building's rsyslog) forwards lines whose HOSTNAME is the
    device's inventory id; an untrusted sender's HOSTNAME is not believed."""
    cfg = SyslogConfig(listen_udp=["127.0.0.1:0"], trusted_relays=["127.0.0.5"],
                       report_interval_secs=3600)
    lst, rec, task = await start(tmp_path, cfg)
    try:
        p = port(lst, "udp")
        line = b"<187>Dec  1 10:00:00 acc-ruijie %LINK-3-UPDOWN: Interface Gi0/3, changed state" \
               b" to down"
        for src in ("127.0.0.5", "127.0.0.6"):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((src, 0))
            s.sendto(line, ("127.0.0.1", p))
            s.close()
        assert await wait_for(lambda: len(rec.events("syslog")) == 2)
        by_source = {e.labels["source"]: (t, e) for t, e in rec.events("syslog")}
        t, e = by_source["acc-ruijie"]
        assert t is not None and e.device == "acc-ruijie"
        t, e = by_source["127.0.0.6"]
        assert t is None and e.device is None  # not a relay: its address is not in inventory
        assert [e.labels["source"] for _, e in rec.events("unknown_sender")] == ["127.0.0.6"]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_tcp_storm_is_held_back_not_dropped(tmp_path: Path) -> None:
    """20,000 lines on one TCP connection into an inbox of 500 whose consumer is slow (the same
    sleep in front of the parser as the UDP storm test): TCP is paused, not dropped — every
    line arrives."""
    cfg = SyslogConfig(listen_udp=[], listen_tcp=["127.0.0.1:0"], queue_max_messages=500,
                       batch_max=100, report_interval_secs=3600)
    lst, rec, task = await start(tmp_path, cfg)
    real = lst.process

    def slow(batch):
        import time
        time.sleep(0.005)
        return real(batch)

    lst.process = slow  # type: ignore[method-assign]
    n = 20000
    _, w = await asyncio.open_connection("127.0.0.1", port(lst, "tcp"))
    payload = b"".join(b"<14>Dec  1 10:00:00 core-sw app: line %d\n" % i for i in range(n))
    w.write(payload)
    await w.drain()
    w.close()
    try:
        assert await wait_for(lambda: len(rec.events("syslog")) == n, steps=3000)
        assert lst.inbox.dropped == 0 and lst.totals.pauses > 0
        nums = [int(e.summary.rsplit(" ", 1)[1]) for _, e in rec.events("syslog")]
        assert nums == list(range(n))  # in order
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
