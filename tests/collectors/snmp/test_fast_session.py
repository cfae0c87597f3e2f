"""FastSession against real agents (snmpsim serving real recordings, net-snmp snmpd over IPv4 and
IPv6) and against a scripted agent for timeouts, malformed replies, tooBig and in-flight bounds."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.core.errors import CollectError
from agent.core.model import ErrorType
from collectors.snmp.fast import FastOptions, FastSession
from collectors.snmp.fast.ber import GETBULK, BerError, RequestEncoder, decode_response
from collectors.snmp.session import Oid, SnmpType, VarBind, oid_from_str
from collectors.snmp.walker import PartialWalk
from tests.collectors.snmp.conftest import SnmpAgent, Snmpd, fixtures_dir
from tests.collectors.snmp.simhelpers import (
    DecodedRequest,
    mismatches,
    parse_snmprec,
    pysnmp_response,
    scripted,
    snmpbulkwalk_oids,
)

IF_MIB = ("1.3.6.1.2.1.2", "1.3.6.1.2.1.31.1.1")


def _recordings() -> list[str]:
    d = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "snmprec"
    return sorted(p.stem for p in d.glob("*.snmprec") if "@" not in p.stem)


def _opts(port: int, **kw: object) -> FastOptions:
    base: dict[str, object] = {"port": port, "timeout_s": 1.0, "retries": 1}
    base.update(kw)
    return FastOptions(**base)  # type: ignore[arg-type]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("community", _recordings())
async def test_full_walk_equals_the_recording(snmpsim_fixtures: SnmpAgent,
                                              community: str) -> None:
    """Every varbind snmpsim serves for the recording, in order, with type and value."""
    expected = parse_snmprec(fixtures_dir() / f"{community}.snmprec")
    # The AC6605's VLAN bitmaps need <= 5 repetitions (the step-down has its own test below).
    reps = 5 if community == "vrp_ac6605-26" else 50
    s = FastSession(snmpsim_fixtures.host, community,
                    _opts(snmpsim_fixtures.port, max_repetitions=reps))
    try:
        # LLDP-MIB lives under iso(1).std(0).iso8802(8802), outside 1.3
        got = await s.walk((1, 0)) + await s.walk((1, 3))
    finally:
        await s.close()
    assert mismatches(got, expected) == []


# net-snmp cross-check on a spread of vendors (every recording is compared value by value above)
# (the two largest IF tables, comware and ios_2960x, are left to the value-by-value test: time)
IF_MIB_SAMPLE = ("bison", "fortigate_60fospfv3", "jetstream_sg2218p", "ruijie_s6150",
                 "unifi_nanohd", "vrp_5720", "zxr10_5950")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("community", IF_MIB_SAMPLE)
async def test_if_mib_walk_equals_snmpbulkwalk(snmpsim_fixtures: SnmpAgent,
                                               community: str) -> None:
    s = FastSession(snmpsim_fixtures.host, community, _opts(snmpsim_fixtures.port))
    try:
        for root in IF_MIB:
            ours = [vb.oid for vb in await s.walk(oid_from_str(root))]
            theirs = await asyncio.to_thread(
                snmpbulkwalk_oids, snmpsim_fixtures.host, snmpsim_fixtures.port, community, root)
            assert ours == theirs, root
    finally:
        await s.close()


@pytest.mark.timeout(60)
async def test_ac6605_vlan_bitmaps_step_down_to_five_or_fewer(snmpsim_fixtures: SnmpAgent) -> None:
    """With max-repetitions >= 6 the AC sends nothing back; the walk must still complete."""
    root = "1.3.6.1.2.1.17.7.1.4.2"
    s = FastSession(snmpsim_fixtures.host, "vrp_ac6605-26",
                    _opts(snmpsim_fixtures.port, max_repetitions=25, timeout_s=0.5, retries=0))
    try:
        await s.walk((1, 3, 6, 1, 2, 1, 1))  # the device has answered: timeouts now step down
        got = await s.walk(oid_from_str(root))
        assert s.reps.current <= 5
        again = await s.walk(oid_from_str(root))  # remembered: no timeouts the second time
        assert s.timeouts == 3  # 25 -> 12 -> 6 -> 3
    finally:
        await s.close()
    theirs = await asyncio.to_thread(snmpbulkwalk_oids, snmpsim_fixtures.host,
                                     snmpsim_fixtures.port, "vrp_ac6605-26", root, 5)
    assert [vb.oid for vb in got] == theirs
    assert again == got
    assert any(isinstance(vb.value, bytes) and len(vb.value) > 10_000 for vb in got)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
async def test_snmpd_over_ipv4_and_ipv6(snmpd: Snmpd, host: str) -> None:
    s = FastSession(host, snmpd.community, _opts(snmpd.port))
    try:
        system = await s.walk((1, 3, 6, 1, 2, 1, 1))
        descr = await s.get([(1, 3, 6, 1, 2, 1, 1, 1, 0), (1, 3, 6, 1, 2, 1, 1, 5, 0),
                             (1, 3, 6, 1, 2, 1, 1, 99, 0)])
        ifdescr = await s.walk((1, 3, 6, 1, 2, 1, 2, 2, 1, 2))
    finally:
        await s.close()
    assert descr[0] in system and descr[1] in system
    assert descr[2].type is SnmpType.NO_SUCH_OBJECT
    assert any(vb.value == b"lo" for vb in ifdescr)
    theirs = await asyncio.to_thread(snmpbulkwalk_oids, host, snmpd.port, snmpd.community,
                                     "1.3.6.1.2.1.2.2.1.2")
    assert [vb.oid for vb in ifdescr] == theirs


# -- scripted agent -----------------------------------------------------------------------------

def _echo(req: DecodedRequest) -> bytes:
    return pysnmp_response(req.community, req.request_id,
                           [(o, (SnmpType.INTEGER, 1)) for o in req.oids])


def _silent(_req: DecodedRequest) -> None:
    return None


SYS_DESCR: Oid = (1, 3, 6, 1, 2, 1, 1, 1, 0)


@pytest.mark.timeout(30)
async def test_silent_device_times_out_after_retries() -> None:
    async with scripted(_silent, timeout_s=0.2, retries=2) as (agent, s):
        with pytest.raises(CollectError) as err:
            await s.get([SYS_DESCR])
    assert err.value.error_type is ErrorType.TIMEOUT
    assert len(agent.requests) == 3
    assert len({r.request_id for r in agent.requests}) == 1  # a retry is the same request


@pytest.mark.timeout(30)
@pytest.mark.parametrize("garbage", [b"", b"\x30", b"\x30\x03\x02\x01\x01", b"\xff" * 40])
async def test_malformed_reply_is_a_protocol_error(garbage: bytes) -> None:
    """A reply carrying our request-id but broken further on fails the request as PROTOCOL."""
    def reply(req: DecodedRequest) -> bytes:
        good = pysnmp_response(req.community, req.request_id,
                               [(req.oids[0], (SnmpType.OCTET_STRING, b"x" * 50))])
        return good[:-10] + garbage

    async with scripted(reply, timeout_s=0.3, retries=0) as (_agent, s):
        with pytest.raises(CollectError) as err:
            await s.get([SYS_DESCR])
    assert err.value.error_type is ErrorType.PROTOCOL


@pytest.mark.timeout(30)
async def test_reply_from_another_address_is_ignored() -> None:
    """A datagram with the right request-id from the wrong source must not complete a request."""
    loop = asyncio.get_running_loop()
    async with scripted(_silent, timeout_s=0.5, retries=0) as (victim, s):

        async def spoof() -> None:
            await victim.got_request.wait()
            req = victim.requests[0]
            tr, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol,
                                                        local_addr=("127.0.0.1", 0))
            assert s._dispatcher is not None
            fam = next(iter(s._dispatcher._families.values()))
            tr.sendto(pysnmp_response(b"c", req.request_id, []), fam.sock.getsockname())
            tr.close()

        spoofer = asyncio.create_task(spoof())
        with pytest.raises(CollectError) as err:
            await s.get([SYS_DESCR])
        await spoofer
        assert s._dispatcher is not None and s._dispatcher.stats.unmatched >= 1
    assert err.value.error_type is ErrorType.TIMEOUT


@pytest.mark.timeout(30)
async def test_get_splits_on_too_big() -> None:
    def reply(req: DecodedRequest) -> bytes:
        if len(req.oids) > 4:
            return pysnmp_response(req.community, req.request_id,
                                   [(o, (SnmpType.NULL, None)) for o in req.oids], 1, 0)
        return pysnmp_response(req.community, req.request_id,
                               [(o, (SnmpType.INTEGER, o[-1])) for o in req.oids])

    oids: list[Oid] = [(1, 3, 6, 1, 4, 1, 99, i) for i in range(20)]
    async with scripted(reply) as (_agent, s):
        got = await s.get(oids)
    assert got == [VarBind(o, SnmpType.INTEGER, o[-1]) for o in oids]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("in_flight", [1, 2])
async def test_in_flight_is_bounded_per_device(in_flight: int) -> None:
    async with scripted(_echo, delay_s=0.05, max_in_flight=in_flight) as (agent, s):
        await asyncio.gather(*(s.get([SYS_DESCR]) for _ in range(6)))
    assert agent.max_outstanding == in_flight


@pytest.mark.timeout(30)
async def test_walk_that_stops_midway_keeps_what_arrived() -> None:
    root = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2)

    def reply(req: DecodedRequest) -> bytes | None:
        if req.oids[0] != root:  # answer only the first GETBULK, then go silent
            return None
        return pysnmp_response(req.community, req.request_id, [
            ((*root, i), (SnmpType.OCTET_STRING, b"eth%d" % i)) for i in range(1, 4)])

    async with scripted(reply, timeout_s=0.1, retries=0) as (_agent, s):
        with pytest.raises(PartialWalk) as err:
            await s.walk(root)
    assert err.value.error_type is ErrorType.TIMEOUT
    assert [vb.value for vb in err.value.varbinds] == [b"eth1", b"eth2", b"eth3"]


@pytest.mark.timeout(30)
async def test_non_increasing_oids_stop_the_walk() -> None:
    root = (1, 3, 6, 1, 4, 1, 99)

    def reply(req: DecodedRequest) -> bytes:
        return pysnmp_response(req.community, req.request_id,
                               [((*root, 5), (SnmpType.INTEGER, 1)),
                                ((*root, 2), (SnmpType.INTEGER, 1))])

    async with scripted(reply) as (_agent, s):
        with pytest.raises(CollectError) as err:
            await s.walk(root)
    assert err.value.error_type is ErrorType.PROTOCOL


# -- against pysnmp, and fuzzing real replies ----------------------------------------------------

@pytest.mark.timeout(120)
@pytest.mark.parametrize("community", ["fortigate_60fospfv3", "vrp_ac6605-26", "zxr10_5950"])
async def test_same_varbinds_as_the_pysnmp_transport(snmpsim_fixtures: SnmpAgent,
                                                     community: str) -> None:
    """Both transports behind the one factory return identical varbinds (types, values)."""
    from pydantic import SecretStr

    from collectors.snmp.transport import TransportKind, TransportOptions, open_session
    from config.credentials import SnmpV2cCredential

    cred = SnmpV2cCredential(name="t", type="snmp_v2c", community=SecretStr(community))
    roots = [(1, 3, 6, 1, 2, 1, 1), (1, 3, 6, 1, 2, 1, 2), (1, 3, 6, 1, 2, 1, 31, 1, 1),
             (1, 3, 6, 1, 2, 1, 4, 34)]
    got: dict[TransportKind, list[VarBind]] = {}
    for kind in (TransportKind.FAST, TransportKind.PYSNMP):
        s = await open_session(snmpsim_fixtures.host, snmpsim_fixtures.port, cred,
                               TransportOptions(timeout_s=2.0, max_repetitions=5,
                                                transport=kind))
        try:
            got[kind] = [vb for r in roots for vb in await s.walk(r)]
        finally:
            await s.close()
    assert type(s).__name__ == "PysnmpSession"
    assert got[TransportKind.FAST] == got[TransportKind.PYSNMP]
    assert len(got[TransportKind.FAST]) > 20


def _capture_reply(host: str, port: int, community: str, root: Oid) -> bytes:
    """One real GETBULK reply datagram from snmpsim."""
    payload = RequestEncoder(community.encode()).encode(GETBULK, 77, [root], 0, 10)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(payload, (host, port))
        return sock.recv(65535)


@pytest.fixture(scope="module")
def real_replies(snmpsim_fixtures: SnmpAgent) -> list[bytes]:
    h, p = snmpsim_fixtures.host, snmpsim_fixtures.port
    return [_capture_reply(h, p, "vrp_5720", (1, 3, 6, 1, 2, 1, 2, 2, 1)),  # ifTable
            _capture_reply(h, p, "fortigate_60fospfv3", (1, 3, 6, 1, 2, 1, 4, 34)),  # IPv6
            _capture_reply(h, p, "comware", (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6)),  # Counter64
            _capture_reply(h, p, "ios_2960x", (1, 3, 6, 1, 2, 1, 1))]  # strings, OIDs


@settings(max_examples=600, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_real_replies_give_only_the_typed_error(real_replies: list[bytes],
                                                        data: st.DataObject) -> None:
    reply = data.draw(st.sampled_from(real_replies))
    assert len(decode_response(reply).varbinds) > 0  # the unmutated reply decodes
    edits = data.draw(st.lists(st.tuples(st.integers(0, len(reply) - 1), st.integers(0, 255)),
                               min_size=1, max_size=8))
    cut = data.draw(st.integers(1, len(reply)))
    mutated = bytearray(reply)
    for pos, byte in edits:
        mutated[pos] = byte
    try:
        resp = decode_response(bytes(mutated[:cut]))
    except BerError:
        return
    assert all(isinstance(vb, VarBind) for vb in resp.varbinds)


@pytest.mark.timeout(30)
async def test_local_send_error_is_unreachable() -> None:
    """The kernel refusing the datagram (broadcast without SO_BROADCAST: nothing leaves the
    host) is a typed UNREACHABLE, not an OSError out of the session."""
    s = FastSession("255.255.255.255", "c", _opts(161, timeout_s=0.2, retries=0))
    try:
        with pytest.raises(CollectError) as err:
            await s.get([SYS_DESCR])
    finally:
        await s.close()
    assert err.value.error_type is ErrorType.UNREACHABLE


@pytest.mark.timeout(30)
async def test_get_answered_with_other_oids_is_a_protocol_error() -> None:
    def reply(req: DecodedRequest) -> bytes:
        return pysnmp_response(req.community, req.request_id,
                               [((*o[:-1], o[-1] + 1), (SnmpType.INTEGER, 1)) for o in req.oids])

    async with scripted(reply) as (_agent, s):
        with pytest.raises(CollectError) as err:
            await s.get([SYS_DESCR])
    assert err.value.error_type is ErrorType.PROTOCOL
