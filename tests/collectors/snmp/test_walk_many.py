"""Multi-column GETBULK walks (`walk_many`, walker.bulk_walk_many) against real agents (snmpsim
serving real recordings, net-snmp snmpd, which truncates big GETBULK replies) and a scripted one
for failures; and the decoder's in-bounds verdict (`InBounds`), which lets `bounds.screen` skip
its per-varbind check, held to `varbind_problem` on hostile replies (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.core.model import ErrorType
from collectors.snmp import oids as O
from collectors.snmp.bounds import BoundedSession, screen, varbind_problem
from collectors.snmp.fast import FastOptions, FastSession
from collectors.snmp.fast.ber import BerError, _tlv, decode_response, encode_integer, encode_oid
from collectors.snmp.session import InBounds, Oid, SnmpType, VarBind
from collectors.snmp.walker import PartialWalk
from tests.collectors.snmp.conftest import SnmpAgent, Snmpd
from tests.collectors.snmp.simhelpers import DecodedRequest, pysnmp_response, scripted

IF_COLUMNS = [o.oid for o in O.INTERFACES]


async def _both_ways(s: FastSession, roots: list[Oid]
                     ) -> tuple[list[list[VarBind]], list[list[VarBind]], int]:
    """(walk_many per column, one walk per column, requests walk_many needed)."""
    before = s.requests
    many = await s.walk_many(roots)
    requests = s.requests - before
    assert [exc for _, exc in many] == [None] * len(roots)
    single = [await s.walk(r) for r in roots]
    return [vbs for vbs, _ in many], single, requests


@pytest.mark.timeout(120)
@pytest.mark.parametrize("community", ["vrp_5720", "ruijie_s6150", "zxr10_5950"])
async def test_walk_many_equals_one_walk_per_column(snmpsim_fixtures: SnmpAgent,
                                                    community: str) -> None:
    s = FastSession(snmpsim_fixtures.host, community,
                    FastOptions(port=snmpsim_fixtures.port, timeout_s=2.0, retries=1))
    try:
        many, single, requests = await _both_ways(s, IF_COLUMNS)
        walks_alone = s.requests
    finally:
        await s.close()
    assert many == single
    assert sum(len(v) for v in single) > 0
    # several columns per request: fewer round trips than the walks one by one
    assert requests < walks_alone - requests


@pytest.mark.timeout(60)
async def test_walk_many_over_snmpd_truncated_replies(snmpd: Snmpd) -> None:
    """net-snmp answers at most 100 varbinds per GETBULK (8 columns x 25 asked): the truncated
    replies still give every column exactly what a walk of it gives."""
    s = FastSession("127.0.0.1", snmpd.community,
                    FastOptions(port=snmpd.port, timeout_s=2.0, retries=1))
    try:
        many, single, _ = await _both_ways(s, IF_COLUMNS)
    finally:
        await s.close()
    assert many == single
    assert all(many[i] for i in (0, 1))  # ifIndex, ifDescr: snmpd has interfaces


COL_A = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2)
COL_B = (1, 3, 6, 1, 2, 1, 2, 2, 1, 8)


@pytest.mark.timeout(30)
async def test_a_silent_agent_ends_every_open_column_keeping_what_arrived() -> None:
    def reply(req: DecodedRequest) -> bytes | None:
        if req.oids != [COL_A, COL_B]:  # answer the first GETBULK only, then go silent
            return None
        return pysnmp_response(req.community, req.request_id, [
            vb for i in (1, 2) for vb in (((*COL_A, i), (SnmpType.OCTET_STRING, b"eth%d" % i)),
                                          ((*COL_B, i), (SnmpType.INTEGER, 1)))])

    async with scripted(reply, timeout_s=0.1, retries=0) as (_agent, s):
        (a, a_exc), (b, b_exc) = await s.walk_many([COL_A, COL_B])
    assert [vb.value for vb in a] == [b"eth1", b"eth2"]
    assert [vb.value for vb in b] == [1, 1]
    for exc in (a_exc, b_exc):
        assert isinstance(exc, PartialWalk) and exc.error_type is ErrorType.TIMEOUT


@pytest.mark.timeout(30)
async def test_a_column_that_ends_leaves_the_others_walking() -> None:
    """Column A ends after one row (the agent moves past it), B goes on; A is not asked again,
    and a non-increasing OID in B ends B alone with a protocol error."""
    asked: list[list[Oid]] = []

    def reply(req: DecodedRequest) -> bytes:
        asked.append(list(req.oids))
        if req.oids == [COL_A, COL_B]:
            return pysnmp_response(req.community, req.request_id, [
                ((*COL_A, 1), (SnmpType.OCTET_STRING, b"eth1")),
                ((*COL_B, 1), (SnmpType.INTEGER, 1)),
                ((*COL_A[:-1], 3, 1), (SnmpType.INTEGER, 6)),  # ifType.1: past ifDescr
                ((*COL_B, 2), (SnmpType.INTEGER, 2))])
        return pysnmp_response(req.community, req.request_id,
                               [((*COL_B, 1), (SnmpType.INTEGER, 1))])  # went backwards

    async with scripted(reply) as (_agent, s):
        (a, a_exc), (b, b_exc) = await s.walk_many([COL_A, COL_B])
    assert asked == [[COL_A, COL_B], [(*COL_B, 2)]]
    assert a_exc is None and [vb.value for vb in a] == [b"eth1"]
    assert [vb.value for vb in b] == [1, 2]
    assert isinstance(b_exc, PartialWalk) and b_exc.error_type is ErrorType.PROTOCOL


COL_C = (1, 3, 6, 1, 2, 1, 2, 2, 1, 10)


@pytest.mark.timeout(30)
async def test_a_column_the_agent_rejects_fails_alone_the_others_walk_whole() -> None:
    """An embedded agent answers genErr to any GETBULK that includes column B: the walk goes on
    one column at a time, A and C come back complete, and B alone carries the protocol error
    (as one walk per column did)."""
    Row = tuple[Oid, tuple[SnmpType, int]]
    rows: list[Row] = sorted([((*col, i), (SnmpType.INTEGER, 10 * n + i))
                              for n, col in enumerate((COL_A, COL_B, COL_C)) for i in (1, 2)]
                             + [((1, 3, 6, 1, 2, 1, 3), (SnmpType.INTEGER, 0))])  # past the table
    asked: list[list[Oid]] = []

    def reply(req: DecodedRequest) -> bytes:
        asked.append(list(req.oids))
        if COL_B in req.oids:  # B never moves on: it is always asked from its root
            return pysnmp_response(req.community, req.request_id,
                                   [(o, (SnmpType.NULL, None)) for o in req.oids],
                                   error_status=5, error_index=req.oids.index(COL_B) + 1)
        lasts = list(req.oids)
        out: list[Row] = []
        for _ in range(req.max_repetitions):  # a GETBULK: repetition by repetition
            for k, last in enumerate(lasts):
                vb = next((r for r in rows if r[0] > last), rows[-1])
                out.append(vb)
                lasts[k] = vb[0]
        return pysnmp_response(req.community, req.request_id, out)

    async with scripted(reply) as (_agent, s):
        (a, a_exc), (b, b_exc), (c, c_exc) = await s.walk_many([COL_A, COL_B, COL_C])
    assert asked[0] == [COL_A, COL_B, COL_C]
    assert all(len(oids) == 1 for oids in asked[1:])  # then one column per request
    assert a_exc is None and [vb.value for vb in a] == [1, 2]
    assert c_exc is None and [vb.value for vb in c] == [21, 22]
    assert b == [] and b_exc is not None and b_exc.error_type is ErrorType.PROTOCOL
    assert "errorStatus 5" in str(b_exc)


@pytest.mark.timeout(30)
async def test_an_in_range_reply_is_vouched_for_and_passes_the_bounded_session() -> None:
    """Counter64 values past 2^32 are in range: the decoder marks the reply InBounds, and the
    bounded session passes both columns through whole."""
    def reply(req: DecodedRequest) -> bytes:
        if req.oids != [COL_A, COL_B]:
            return pysnmp_response(req.community, req.request_id,
                                   [((1, 3, 6, 1, 2, 1, 3), (SnmpType.INTEGER, 0))] * 2)
        return pysnmp_response(req.community, req.request_id, [
            ((*COL_A, 1), (SnmpType.COUNTER64, 2**40)), ((*COL_B, 1), (SnmpType.INTEGER, 1)),
            ((*COL_A, 2), (SnmpType.COUNTER64, 5)), ((*COL_B, 2), (SnmpType.INTEGER, 2))])

    rejects: list[str] = []
    async with scripted(reply) as (_agent, s):
        # Counter64 values are in range: the decoder vouches for the reply
        assert type(await s._bulk_many([COL_A, COL_B], 2)) is InBounds
        bounded = BoundedSession(s, lambda reason, _detail: rejects.append(reason))
        many = await bounded.walk_many([COL_A, COL_B])  # type: ignore[operator]
    assert [[vb.value for vb in vbs] for vbs, _ in many] == [[2**40, 5], [1, 2]]
    assert rejects == []


@pytest.mark.timeout(30)
async def test_a_counter32_past_its_range_is_screened_in_a_multi_column_walk() -> None:
    big = _tlv(0x30, encode_oid((*COL_A, 1)) + _tlv(0x41, b"\x01\x00\x00\x00\x00"))
    ok = _tlv(0x30, encode_oid((*COL_B, 1)) + _tlv(0x02, b"\x01"))
    end = _tlv(0x30, encode_oid((1, 3, 6, 1, 2, 1, 3)) + _tlv(0x02, b"\x00"))

    def reply(req: DecodedRequest) -> bytes:
        body = big + ok if req.oids == [COL_A, COL_B] else end * len(req.oids)
        return _response(req.community, req.request_id, body)

    rejects: list[str] = []
    async with scripted(reply) as (_agent, s):
        bounded = BoundedSession(s, lambda reason, _detail: rejects.append(reason))
        many = await bounded.walk_many([COL_A, COL_B])  # type: ignore[operator]
    assert [[vb.value for vb in vbs] for vbs, _ in many] == [[], [1]]
    assert rejects == ["int_out_of_range"]


def _response(community: bytes, rid: int, varbinds: bytes) -> bytes:
    pdu = encode_integer(rid) + encode_integer(0) + encode_integer(0) + _tlv(0x30, varbinds)
    return _tlv(0x30, encode_integer(1) + _tlv(0x04, community) + _tlv(0xA2, pdu))


# -- the decoder's in-bounds verdict is sound ------------------------------------------------------

arcs = st.one_of(st.integers(0, 127), st.integers(128, 2**14), st.integers(2**28, 2**35 - 1))
hostile_oids = st.builds(lambda rest: (1, 3, *rest), st.lists(arcs, max_size=135))
tags = st.sampled_from([0x02, 0x41, 0x42, 0x43, 0x46, 0x04, 0x40, 0x44, 0x05, 0x06, 0x80, 0x82])
contents = st.one_of(st.binary(max_size=10), st.just(b"\x00" * 16_385),
                     st.just(b"\x2b\x06\x8f\xff\xff\xff\x7f"))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(vbs=st.lists(st.tuples(hostile_oids, tags, contents), max_size=12))
def test_in_bounds_verdict_agrees_with_varbind_problem(vbs: list[tuple[Oid, int, bytes]]
                                                        ) -> None:
    body = b"".join(_tlv(0x30, encode_oid(o) + _tlv(tag, raw)) for o, tag, raw in vbs)
    data = _response(b"c", 7, body)
    for _ in range(2):  # twice: the second decode reads OID prefixes from the cache
        try:
            got = decode_response(data).varbinds
        except BerError:
            return
        full = [vb for vb in got if varbind_problem(vb) is None]
        if type(got) is InBounds:
            assert full == list(got)
        assert screen(got, lambda *_: None, keep_positions=False) == full
