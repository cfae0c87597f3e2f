"""The fast path's BER codec, held to pysnmp's own encoder/decoder (hypothesis), and fuzzed."""

from __future__ import annotations

import contextlib
import socket
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder  # type: ignore[import-untyped]
from pysnmp.proto import api
from pysnmp.proto.api import v2c

from collectors.snmp.fast.ber import (
    GET,
    GETBULK,
    GETNEXT,
    BerError,
    RequestEncoder,
    decode_oid,
    decode_response,
    encode_oid,
    parse_request_id,
)
from collectors.snmp.session import Oid, SnmpType, VarBind
from tests.collectors.snmp.simhelpers import pysnmp_response

# -- strategies ---------------------------------------------------------------------------------

subid = st.one_of(st.integers(0, 127), st.integers(128, 2**32 - 1))
oids = st.builds(
    lambda first, second, rest: (first, second, *rest),
    st.integers(0, 2), st.integers(0, 39), st.lists(subid, max_size=20),
) | st.builds(lambda second, rest: (2, second, *rest), st.integers(40, 2**20),
              st.lists(subid, max_size=5))

values = st.one_of(
    st.tuples(st.just(SnmpType.INTEGER), st.integers(-(2**31), 2**31 - 1)),
    st.tuples(st.just(SnmpType.OCTET_STRING), st.binary(max_size=300)),
    st.tuples(st.just(SnmpType.NULL), st.none()),
    st.tuples(st.just(SnmpType.OBJECT_IDENTIFIER), oids),
    st.tuples(st.just(SnmpType.IP_ADDRESS), st.binary(min_size=4, max_size=4)),
    st.tuples(st.just(SnmpType.COUNTER32), st.integers(0, 2**32 - 1)),
    st.tuples(st.just(SnmpType.GAUGE32), st.integers(0, 2**32 - 1)),
    st.tuples(st.just(SnmpType.TIMETICKS), st.integers(0, 2**32 - 1)),
    st.tuples(st.just(SnmpType.OPAQUE), st.binary(max_size=40)),
    st.tuples(st.just(SnmpType.COUNTER64), st.integers(0, 2**64 - 1)),
    st.tuples(st.just(SnmpType.NO_SUCH_OBJECT), st.none()),
    st.tuples(st.just(SnmpType.NO_SUCH_INSTANCE), st.none()),
    st.tuples(st.just(SnmpType.END_OF_MIB_VIEW), st.none()),
)

varbind_lists = st.lists(st.tuples(oids, values), max_size=30)


# -- decoding pysnmp-encoded responses ----------------------------------------------------------

@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(community=st.binary(min_size=1, max_size=40), rid=st.integers(-(2**31), 2**31 - 1),
       error_status=st.integers(0, 18), error_index=st.integers(0, 30), vbs=varbind_lists)
@example(community=b"public", rid=0, error_status=0, error_index=0,
         vbs=[((1, 3, 6, 1, 2, 1, 1, 3, 0), (SnmpType.INTEGER, -1))])
def test_decodes_what_pysnmp_encodes(community: bytes, rid: int, error_status: int,
                                     error_index: int, vbs: list[tuple[Oid, Any]]) -> None:
    data = pysnmp_response(community, rid, vbs, error_status, error_index)
    resp = decode_response(data, community)
    assert resp.request_id == rid
    assert parse_request_id(data) == rid
    assert (resp.error_status, resp.error_index) == (error_status, error_index)
    assert resp.varbinds == [VarBind(o, t, v) for o, (t, v) in vbs]


def test_long_form_lengths_and_edge_values() -> None:
    big = b"\xff" * 12_000  # a VLAN bitmap: three-byte long-form lengths on every level
    vbs: list[tuple[Oid, Any]] = [
        ((1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 2, 1, 2, 0, 1), (SnmpType.OCTET_STRING, big)),
        ((1, 3, 6, 1, 4, 1, 2011, 6, 139, 2**32 - 1), (SnmpType.INTEGER, -(2**31))),
        ((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 1), (SnmpType.COUNTER64, 2**64 - 1)),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 1), (SnmpType.COUNTER32, 2**32 - 1)),
        ((2, 999, 3), (SnmpType.OBJECT_IDENTIFIER, (2, 999, 1234567))),
    ]
    resp = decode_response(pysnmp_response(b"c", 7, vbs), b"c")
    assert resp.varbinds == [VarBind(o, t, v) for o, (t, v) in vbs]


def test_error_status_is_reported() -> None:
    data = pysnmp_response(b"c", 9, [((1, 3, 6), (SnmpType.NULL, None))], error_status=1,
                           error_index=1)
    resp = decode_response(data, b"c")
    assert (resp.error_status, resp.error_index) == (1, 1)  # tooBig


def test_wrong_community_and_version_are_refused() -> None:
    data = pysnmp_response(b"public", 1, [])
    with pytest.raises(BerError):
        decode_response(data, b"private")
    v1 = bytearray(data)
    assert v1[2:5] == b"\x02\x01\x01"
    v1[4] = 0  # version-1 message
    with pytest.raises(BerError):
        decode_response(bytes(v1), b"public")


# -- our requests, decoded by pysnmp ------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(community=st.binary(min_size=1, max_size=40), rid=st.integers(0, 2**31 - 1),
       pdu=st.sampled_from([GET, GETNEXT, GETBULK]), request_oids=st.lists(oids, max_size=40),
       non_rep=st.integers(0, 10), max_rep=st.integers(0, 200))
def test_pysnmp_decodes_our_requests(community: bytes, rid: int, pdu: int,
                                     request_oids: list[Oid], non_rep: int, max_rep: int) -> None:
    if pdu != GETBULK:
        non_rep = max_rep = 0
    data = RequestEncoder(community).encode(pdu, rid, request_oids, non_rep, max_rep)
    msg, rest = decoder.decode(data, asn1Spec=v2c.Message())
    assert rest == b""
    assert int(api.decodeMessageVersion(data)) == api.SNMP_VERSION_2C
    assert bytes(v2c.apiMessage.get_community(msg)) == community
    p = v2c.apiMessage.get_pdu(msg)
    expected_type = {GET: v2c.GetRequestPDU, GETNEXT: v2c.GetNextRequestPDU,
                     GETBULK: v2c.GetBulkRequestPDU}[pdu]
    assert p.isSameTypeWith(expected_type())
    assert int(v2c.apiPDU.get_request_id(p)) == rid
    if pdu == GETBULK:
        assert int(v2c.apiBulkPDU.get_non_repeaters(p)) == non_rep
        assert int(v2c.apiBulkPDU.get_max_repetitions(p)) == max_rep
    got = [(tuple(o), v) for o, v in v2c.apiPDU.get_varbinds(p)]
    assert [o for o, _ in got] == request_oids
    assert all(v.isSameTypeWith(v2c.Null()) for _, v in got)


@given(oid=oids)
def test_oid_round_trip(oid: Oid) -> None:
    raw = encode_oid(oid)
    assert decode_oid(raw[2:] if raw[1] < 0x80 else raw[2 + (raw[1] & 0x7F):]) == oid


def test_unencodable_oid_is_a_typed_error() -> None:
    for bad in [(1,), (3, 1), (1, 40), (1, 3, -1)]:
        with pytest.raises(BerError):
            encode_oid(bad)


# -- fuzzing: malformed and truncated packets ---------------------------------------------------

_SAMPLE_VBS: list[tuple[Oid, Any]] = [
    ((1, 3, 6, 1, 2, 1, 1, 1, 0), (SnmpType.OCTET_STRING, b"Huawei Versatile Routing Platform")),
    ((1, 3, 6, 1, 2, 1, 1, 2, 0), (SnmpType.OBJECT_IDENTIFIER, (1, 3, 6, 1, 4, 1, 2011, 2, 23))),
    ((1, 3, 6, 1, 2, 1, 1, 3, 0), (SnmpType.TIMETICKS, 123456789)),
    ((1, 3, 6, 1, 2, 1, 2, 2, 1, 7, 1), (SnmpType.INTEGER, -5)),
    ((1, 3, 6, 1, 2, 1, 4, 20, 1, 1, 10, 0, 0, 1), (SnmpType.IP_ADDRESS, socket.inet_aton(
        "10.0.0.1"))),
    ((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 300), (SnmpType.COUNTER64, 2**63 + 5)),
    ((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1, 301), (SnmpType.NO_SUCH_INSTANCE, None)),
    ((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 18, 301), (SnmpType.OCTET_STRING, b"x" * 200)),
    ((1, 3, 6, 1, 6, 3), (SnmpType.END_OF_MIB_VIEW, None)),
]
SAMPLE = pysnmp_response(b"public", 4242, _SAMPLE_VBS)


def _only_typed_error(data: bytes) -> None:
    """Either a well-typed result or `BerError`; any other exception fails the test."""
    with contextlib.suppress(BerError):
        parse_request_id(data)
    with contextlib.suppress(BerError):
        for vb in decode_response(data, None).varbinds:
            assert isinstance(vb, VarBind) and isinstance(vb.oid, tuple)


def test_every_truncation_is_a_typed_error() -> None:
    for cut in range(len(SAMPLE)):  # all of them: cheaper and surer than sampling
        with pytest.raises(BerError):
            decode_response(SAMPLE[:cut], b"public")


@settings(max_examples=800, deadline=None)
@given(edits=st.lists(st.tuples(st.integers(0, len(SAMPLE) - 1), st.integers(0, 255)),
                      min_size=1, max_size=6),
       cut=st.integers(1, len(SAMPLE)), extra=st.binary(max_size=8))
def test_mutated_responses_give_only_the_typed_error(edits: list[tuple[int, int]], cut: int,
                                                     extra: bytes) -> None:
    data = bytearray(SAMPLE)
    for pos, byte in edits:
        data[pos] = byte
    _only_typed_error(bytes(data[:cut]) + extra)


@settings(max_examples=500, deadline=None)
@given(data=st.binary(max_size=300))
def test_random_bytes_give_only_the_typed_error(data: bytes) -> None:
    _only_typed_error(data)


@settings(max_examples=300, deadline=None)
@given(prefix=st.binary(max_size=40))
def test_hostile_lengths(prefix: bytes) -> None:
    """Length fields claiming gigabytes, indefinite form, or >4 length octets."""
    for length in (b"\x84\xff\xff\xff\xff", b"\x80", b"\x85\x01\x00\x00\x00\x00", b"\x81"):
        _only_typed_error(b"\x30" + length + prefix)
        _only_typed_error(SAMPLE[:20] + length + prefix)


def test_truncated_oid_subidentifier() -> None:
    with pytest.raises(BerError):
        decode_oid(b"\x2b\x06\x81")  # ends inside a multi-byte sub-identifier


def test_table_columns_with_multi_byte_prefixes() -> None:
    """Rows sharing a prefix (decoded once, then reused) still decode exactly as pysnmp encodes."""
    col = (1, 3, 6, 1, 4, 1, 2011, 5, 25, 31, 1, 1, 1, 1, 5)
    for start in (1, 120, 16_380, 2**31 - 40):
        vbs: list[tuple[Oid, Any]] = [((*col, i), (SnmpType.GAUGE32, i % 2**32))
                                      for i in range(start, start + 30)]
        vbs += [((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, i), (SnmpType.COUNTER64, i))
                for i in range(start, start + 10)]
        resp = decode_response(pysnmp_response(b"c", 1, vbs), b"c")
        assert resp.varbinds == [VarBind(o, t, v) for o, (t, v) in vbs]
