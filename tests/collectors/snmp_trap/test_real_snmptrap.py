"""Real net-snmp `snmptrap` / `snmpinform` (Debian `snmp`) against the `snmp_trap` listener on
loopback: v1, v2c, v3 authPriv traps and informs become events naming the inventory device,
`IF-MIB::linkDown` and the polled interface name; informs are acknowledged (snmpinform exits 0
only on the Response); a wrong community or user is counted and never accepted; an unknown
sender is reported as its own event."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from agent.core.model import Metric
from agent.core.plugin import BuildContext, Target
from agent.framework.snapshot import Snapshot
from collectors.snmp_trap.config import SnmpTrapConfig, TrapUser
from collectors.snmp_trap.plugin import SnmpTrapListener, build
from config.credentials import Credential, SnmpV2cCredential, SnmpV3Credential
from inventory.models import Campus, Device, DeviceKind, Inventory
from tests.collectors.snmp_trap.helpers import Recorder, wait_for
from tests.servers import require_binary

ENGINE = "8000000001020304"
CREDS: dict[str, Credential] = {
    "traps-v2c": SnmpV2cCredential(name="traps-v2c", type="snmp_v2c",
                                   community=SecretStr("trap-s3cret")),
    "traps-v3": SnmpV3Credential.model_validate({
        "name": "traps-v3", "type": "snmp_v3", "user": "trapuser", "auth_protocol": "SHA256",
        "auth_key": "auth-pass-123", "priv_protocol": "AES", "priv_key": "priv-pass-456"}),
}
LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
IF_VARBINDS = ["1.3.6.1.2.1.2.2.1.1.3", "i", "3", "1.3.6.1.2.1.2.2.1.7.3", "i", "1",
               "1.3.6.1.2.1.2.2.1.8.3", "i", "2"]


def inventory() -> Inventory:
    return Inventory.build(Campus("hn-demo", "demo"), (), (), [
        Device(id="core-sw", kind=DeviceKind.CORE_SWITCH, campus="hn-demo", building="dc",
               room=None, ipv4="127.0.0.1", ipv6="::1", vendor="Huawei"),
    ])


def targets(inv: Inventory) -> list[Target]:
    return [Target(id=d.id, device=d, ipv4=d.ipv4, ipv6=d.ipv6) for d in inv.devices]


def polled_interfaces() -> Snapshot:
    snap = Snapshot(ttl_secs=600)
    snap.update([Metric("snmp_interface", {"device": "core-sw", "ifindex": "3",
                                           "ifname": "GigabitEthernet0/0/3"},
                        {"oper_status": 2})])
    return snap


@pytest.fixture
async def listener(tmp_path) -> AsyncIterator[tuple[SnmpTrapListener, Recorder]]:
    require_binary("snmptrap")
    inv = inventory()
    cfg = SnmpTrapConfig(listen=["127.0.0.1:0", "[::1]:0"], communities=["traps-v2c"],
                         users=[TrapUser(credential="traps-v3", engine_ids=[ENGINE])],
                         report_interval_secs=3600)
    ctx = BuildContext(instance="snmp_trap/test", inventory=inv, credentials=CREDS,
                       data_dir=tmp_path, config_dir=tmp_path, snapshot=polled_interfaces())
    lst = build(cfg, ctx)
    rec = Recorder()
    task = asyncio.create_task(lst.run(rec.context(targets(inv))))
    await asyncio.wait_for(lst.ready.wait(), 10)
    yield lst, rec
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def run(*argv: str) -> int:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    await proc.communicate()
    return proc.returncode or 0


def port(lst: SnmpTrapListener, family: str = "4") -> int:
    return next(p for h, p in lst.bound if (":" in h) == (family == "6"))


V3 = ["-v", "3", "-u", "trapuser", "-l", "authPriv", "-a", "SHA-256", "-A", "auth-pass-123",
      "-x", "AES", "-X", "priv-pass-456"]


async def test_v1_v2c_v3_traps_name_device_trap_and_interface(listener) -> None:
    lst, rec = listener
    p4, p6 = port(lst), port(lst, "6")
    assert await run("snmptrap", "-v", "1", "-c", "trap-s3cret", f"127.0.0.1:{p4}",
                     "1.3.6.1.4.1.2011", "127.0.0.1", "2", "0", "",
                     "1.3.6.1.2.1.2.2.1.1.3", "i", "3") == 0
    assert await run("snmptrap", "-v", "2c", "-c", "trap-s3cret", f"127.0.0.1:{p4}", "",
                     LINK_DOWN, *IF_VARBINDS) == 0
    assert await run("snmptrap", "-v", "2c", "-c", "trap-s3cret", f"udp6:[::1]:{p6}", "",
                     LINK_DOWN, *IF_VARBINDS) == 0
    assert await run("snmptrap", *V3, "-e", f"0x{ENGINE}", f"127.0.0.1:{p4}", "", LINK_DOWN,
                     *IF_VARBINDS) == 0
    assert await wait_for(lambda: len(rec.events("snmp_trap")) >= 4)
    evs = rec.events("snmp_trap")
    assert sorted(e.labels["snmp_version"] for _, e in evs) == ["v1", "v2c", "v2c", "v3"]
    for target, e in evs:
        assert target is not None and target.id == "core-sw"
        assert e.device == "core-sw"
        assert e.labels["trap"] == "IF-MIB::linkDown"
        assert e.labels["category"] == "link_down"
        # the v2c/v3 traps carry ifIndex 3 → the polled ifName; nothing else names it
        assert e.labels["ifname"] == "GigabitEthernet0/0/3"
        assert "ifOperStatus=2" in e.summary or e.labels["snmp_version"] == "v1"
    assert lst.totals.bad_community == 0 and lst.totals.auth_failures == 0


async def test_informs_are_acknowledged(listener) -> None:
    lst, rec = listener
    p4 = port(lst)
    # snmpinform exits 0 only when our Response arrived (else: timeout, exit 1)
    assert await run("snmpinform", "-t", "3", "-r", "1", "-v", "2c", "-c", "trap-s3cret",
                     f"127.0.0.1:{p4}", "", LINK_DOWN, *IF_VARBINDS) == 0
    assert await run("snmpinform", "-t", "3", "-r", "1", *V3, f"127.0.0.1:{p4}", "",
                     "1.3.6.1.6.3.1.1.5.1") == 0
    assert await wait_for(lambda: len(rec.events("snmp_trap")) >= 2)
    names = sorted(e.labels["trap"] for _, e in rec.events("snmp_trap"))
    assert names == ["IF-MIB::linkDown", "SNMPv2-MIB::coldStart"]
    assert lst.totals.informs_acked == 2


async def test_wrong_community_and_user_are_counted_not_accepted(listener) -> None:
    lst, rec = listener
    p4 = port(lst)
    assert await run("snmptrap", "-v", "2c", "-c", "public", f"127.0.0.1:{p4}", "",
                     LINK_DOWN, *IF_VARBINDS) == 0
    assert await run("snmptrap", "-v", "1", "-c", "wrong", f"127.0.0.1:{p4}",
                     "1.3.6.1.4.1.2011", "127.0.0.1", "0", "0", "") == 0
    bad_user = ["-v", "3", "-u", "intruder", "-l", "authPriv", "-a", "SHA-256", "-A",
                "auth-pass-123", "-x", "AES", "-X", "priv-pass-456", "-e", f"0x{ENGINE}"]
    assert await run("snmptrap", *bad_user, f"127.0.0.1:{p4}", "", LINK_DOWN) == 0
    wrong_key = [*V3[:9], "wrong-auth-key", *V3[10:], "-e", f"0x{ENGINE}"]
    assert await run("snmptrap", *wrong_key, f"127.0.0.1:{p4}", "", LINK_DOWN) == 0
    # the inform with a wrong community gets no Response: snmpinform times out
    assert await run("snmpinform", "-t", "1", "-r", "0", "-v", "2c", "-c", "nope",
                     f"127.0.0.1:{p4}", "", LINK_DOWN) != 0
    ok = await wait_for(lambda: lst.totals.bad_community >= 3
                        and lst.totals.auth_failures >= 2)
    assert ok, lst.totals
    assert lst.totals.bad_community == 3 and lst.totals.auth_failures == 2
    assert rec.events() == [] and lst.totals.accepted == 0
    assert lst.totals.informs_acked == 0


async def test_unknown_sender_reported_as_its_own_event(listener) -> None:
    lst, rec = listener
    p4 = port(lst)
    for _ in range(3):
        assert await run("snmptrap", "--clientaddr=127.0.0.9", "-v", "2c", "-c", "trap-s3cret",
                         f"127.0.0.1:{p4}", "", "1.3.6.1.6.3.1.1.5.1") == 0
    assert await wait_for(lambda: len(rec.events("snmp_trap")) >= 3)
    traps = rec.events("snmp_trap")
    assert all(t is None and e.device is None and e.labels["source"] == "127.0.0.9"
               for t, e in traps)
    unknown = rec.events("unknown_sender")
    assert len(unknown) == 1  # reported once per unknown_report_secs, counted every time
    assert unknown[0][1].labels == {"source": "127.0.0.9", "protocol": "snmp_trap"}
    assert lst.senders is not None and lst.senders.unknown_total == 3
    lst.report(rec.context([]))
    (m,) = rec.metrics("snmp_trap_receiver")
    assert m.fields["unknown_senders_total"] == 3 and m.fields["accepted_total"] == 3


# every USM protocol family the poller supports, as net-snmp sends them
PROTOCOLS = [("MD5", "DES", "MD5", "DES", "reeder"), ("SHA", "AES", "SHA", "AES", "reeder"),
             ("SHA224", "AES192", "SHA-224", "AES-192", "blumenthal"),
             ("SHA512", "AES256", "SHA-512", "AES-256", "blumenthal")]


@pytest.mark.parametrize(("auth", "priv", "ns_auth", "ns_priv", "ext"), PROTOCOLS,
                         ids=[f"{a}-{p}" for a, p, *_ in PROTOCOLS])
async def test_v3_trap_every_usm_protocol(tmp_path, auth: str, priv: str, ns_auth: str,
                                          ns_priv: str, ext: str) -> None:
    require_binary("snmptrap")
    user = f"u-{auth.lower()}"
    creds: dict[str, Credential] = {"v3": SnmpV3Credential.model_validate({
        "name": "v3", "type": "snmp_v3", "user": user, "auth_protocol": auth,
        "auth_key": "auth-pass-123", "priv_protocol": priv, "priv_key": "priv-pass-456"})}
    inv = inventory()
    lst = build(SnmpTrapConfig(listen=["127.0.0.1:0"], report_interval_secs=3600,
                               users=[TrapUser(credential="v3", engine_ids=[ENGINE],
                                               aes_key_extension=ext)]),
                BuildContext(instance="snmp_trap/t", inventory=inv, credentials=creds,
                             data_dir=tmp_path, config_dir=tmp_path))
    rec = Recorder()
    task = asyncio.create_task(lst.run(rec.context(targets(inv))))
    try:
        await asyncio.wait_for(lst.ready.wait(), 10)
        assert await run("snmptrap", "-v", "3", "-u", user, "-l", "authPriv", "-a", ns_auth,
                         "-A", "auth-pass-123", "-x", ns_priv, "-X", "priv-pass-456", "-e",
                         f"0x{ENGINE}", f"127.0.0.1:{port(lst)}", "", LINK_DOWN,
                         *IF_VARBINDS) == 0
        assert await wait_for(lambda: len(rec.events("snmp_trap")) == 1)
        (_, e), = rec.events("snmp_trap")
        assert e.labels["trap"] == "IF-MIB::linkDown" and e.device == "core-sw"
        assert lst.totals.auth_failures == 0
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_relay_and_v1_agent_addr_name_the_original_sender(tmp_path) -> None:
    """A trusted relay (127.0.0.5) forwards with snmpTrapAddress.0 = the device's address; a v1
    trap from an unknown source address carries the device in agent-addr."""
    require_binary("snmptrap")
    inv = Inventory.build(Campus("hn-demo", "demo"), (), (), [
        Device(id="acc-7", kind=DeviceKind.ACCESS_SWITCH, campus="hn-demo", building="b",
               room=None, ipv4="10.20.0.7")])
    lst = build(SnmpTrapConfig(listen=["127.0.0.1:0"], communities=["traps-v2c"],
                               trusted_relays=["127.0.0.5"], report_interval_secs=3600),
                BuildContext(instance="snmp_trap/t", inventory=inv, credentials=CREDS,
                             data_dir=tmp_path, config_dir=tmp_path))
    rec = Recorder()
    task = asyncio.create_task(lst.run(rec.context(targets(inv))))
    try:
        await asyncio.wait_for(lst.ready.wait(), 10)
        p = port(lst)
        assert await run("snmptrap", "--clientaddr=127.0.0.5", "-v", "2c", "-c", "trap-s3cret",
                         f"127.0.0.1:{p}", "", "1.3.6.1.6.3.1.1.5.1",
                         "1.3.6.1.6.3.18.1.3.0", "a", "10.20.0.7") == 0
        assert await run("snmptrap", "--clientaddr=127.0.0.6", "-v", "1", "-c", "trap-s3cret",
                         f"127.0.0.1:{p}", "1.3.6.1.4.1.2011", "10.20.0.7", "1", "0", "") == 0
        assert await wait_for(lambda: len(rec.events("snmp_trap")) == 2)
        for t, e in rec.events("snmp_trap"):
            assert t is not None and e.device == "acc-7" and e.labels["source"] == "10.20.0.7"
            assert e.labels["category"] == "reboot"  # coldStart (v2c), warmStart (v1 generic 1)
        assert rec.events("unknown_sender") == []
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_trap_storm_drops_only_the_excess(tmp_path) -> None:
    """20,000 v2c traps at once into an inbox of 500 whose consumer is made slow (a sleep in
    front of the decoder, the only mock here, standing in for a busy CPU): the excess is
    dropped and counted, every accepted trap becomes an event, and a trap after the storm
    still arrives."""
    import socket

    from tests.collectors.snmp_trap.test_ber import _v2c
    creds: dict[str, Credential] = {"pub": SnmpV2cCredential(
        name="pub", type="snmp_v2c", community=SecretStr("public"))}
    inv = inventory()
    lst = build(SnmpTrapConfig(listen=["127.0.0.1:0"], communities=["pub"],
                               queue_max_messages=500, batch_max=100,
                               report_interval_secs=3600),
                BuildContext(instance="snmp_trap/t", inventory=inv, credentials=creds,
                             data_dir=tmp_path, config_dir=tmp_path))
    rec = Recorder()
    task = asyncio.create_task(lst.run(rec.context(targets(inv))))
    try:
        await asyncio.wait_for(lst.ready.wait(), 10)
        real = lst.process

        def slow(batch):
            import time
            time.sleep(0.02)
            return real(batch)

        lst.process = slow  # type: ignore[method-assign]
        msg = _v2c(0xA7)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        for i in range(20000):
            s.sendto(msg, ("127.0.0.1", port(lst)))
            if i % 2000 == 0:
                await asyncio.sleep(0)
        assert await wait_for(lambda: lst.inbox.depth() == 0 and
                              len(rec.events("snmp_trap")) == lst.inbox.accepted, steps=2000)
        lst.process = real  # type: ignore[method-assign]
        before = len(rec.events("snmp_trap"))
        s.sendto(msg, ("127.0.0.1", port(lst)))
        s.close()
        assert await wait_for(lambda: len(rec.events("snmp_trap")) == before + 1)
        assert lst.inbox.dropped > 0
        assert lst.inbox.accepted + lst.inbox.dropped + lst.totals.oversized == \
            lst.totals.received
        assert lst.totals.accepted == lst.inbox.accepted
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_garbage_never_stops_the_listener(listener) -> None:
    """Undecodable datagrams — random bytes, truncated v1/v2c, v3-looking junk for pysnmp —
    are counted; a real trap right after them is accepted."""
    import random
    import socket

    lst, rec = listener
    rnd = random.Random(16)
    junk = [bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 200))) for _ in range(50)]
    junk += [b"\x30\x10\x02\x01\x03" + bytes(rnd.randrange(256) for _ in range(20))
             for _ in range(50)]  # claims to be v3
    junk += [b"\x30\x82\xff\xff\x02\x01\x01", b"", b"\x30"]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for j in junk:
        s.sendto(j, ("127.0.0.1", port(lst)))
    s.close()
    assert await run("snmptrap", "-v", "2c", "-c", "trap-s3cret", f"127.0.0.1:{port(lst)}", "",
                     LINK_DOWN, *IF_VARBINDS) == 0
    assert await wait_for(lambda: len(rec.events("snmp_trap")) == 1)
    t = lst.totals
    assert t.malformed + t.auth_failures + t.bad_community >= len(junk) - 1  # b"" may vanish
    assert t.accepted == 1
