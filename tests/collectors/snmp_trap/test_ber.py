"""The v1/v2c notification reader: bad bytes raise BerError and nothing else (fuzzed), a v1
trap maps to its v2 trap OID (RFC 3584 §3.1), and an inform's Response echoes it."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.snmp_trap import ber
from collectors.snmp_trap.names import name_of

PUBLIC = b"public"


def _v2c(pdu_tag: int) -> bytes:
    def tlv(t: int, b: bytes) -> bytes:
        return bytes((t, len(b))) + b
    vbs = (tlv(0x30, tlv(0x06, bytes((0x2B, 6, 1, 2, 1, 1, 3, 0))) + tlv(0x43, b"\x01\xf4"))
           + tlv(0x30, tlv(0x06, bytes((0x2B, 6, 1, 6, 3, 1, 1, 4, 1, 0)))
                 + tlv(0x06, bytes((0x2B, 6, 1, 6, 3, 1, 1, 5, 3))))
           + tlv(0x30, tlv(0x06, bytes((0x2B, 6, 1, 2, 1, 2, 2, 1, 1, 3))) + tlv(0x02, b"\x03")))
    pdu = tlv(pdu_tag, tlv(0x02, b"\x2a") + tlv(0x02, b"\x00") + tlv(0x02, b"\x00")
              + tlv(0x30, vbs))
    return tlv(0x30, tlv(0x02, b"\x01") + tlv(0x04, PUBLIC) + pdu)


def test_v2c_trap_and_inform_response() -> None:
    n = ber.decode(_v2c(ber.TRAP_V2))
    assert (n.version, n.community, n.request_id, n.uptime) == (1, PUBLIC, 42, 500)
    assert name_of(n.trap_oid).name == "IF-MIB::linkDown"
    (vb,) = n.varbinds
    assert (name_of(vb.oid).name, name_of(vb.oid).index, vb.value) == ("IF-MIB::ifIndex", "3", 3)
    inform = _v2c(ber.INFORM)
    resp = ber.inform_response(inform)
    at = resp.index(PUBLIC) + len(PUBLIC)
    assert resp[at] == ber.RESPONSE  # same community, PDU now a Response …
    assert resp[at + 2:at + 11] == bytes.fromhex("02012a020100020100")  # … id 42, no error
    assert resp[at + 11:] == inform[inform.index(PUBLIC) + len(PUBLIC) + 11:]  # varbinds echoed
    with pytest.raises(ber.BerError):
        ber.inform_response(_v2c(ber.TRAP_V2))  # only an inform is answered


def test_v1_generic_trap_maps_to_snmp_traps() -> None:
    def tlv(t: int, b: bytes) -> bytes:
        return bytes((t, len(b))) + b
    pdu = tlv(0xA4, tlv(0x06, bytes((0x2B, 6, 1, 4, 1, 0x8F, 0x5B)))  # enterprise 2011
              + tlv(0x40, bytes((10, 0, 0, 1))) + tlv(0x02, b"\x02") + tlv(0x02, b"\x00")
              + tlv(0x43, b"\x10") + tlv(0x30, b""))
    n = ber.decode(tlv(0x30, tlv(0x02, b"\x00") + tlv(0x04, PUBLIC) + pdu))
    assert n.agent_addr == "10.0.0.1" and name_of(n.trap_oid).name == "IF-MIB::linkDown"


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_raises_only_ber_error(data: bytes) -> None:
    for blob in (data, _v2c(ber.TRAP_V2)[: len(data) % 80] + data):
        with contextlib.suppress(ber.BerError):  # anything else fails the test
            ber.decode(blob)


@pytest.mark.parametrize("cut", range(1, 60, 7))
def test_truncated_messages(cut: int) -> None:
    with pytest.raises(ber.BerError):
        ber.decode(_v2c(ber.TRAP_V2)[:-cut])



def _trap_with(tag: int, octets: int) -> bytes:
    def tlv(t: int, b: bytes) -> bytes:
        n = len(b)
        return bytes((t,)) + (bytes((n,)) if n < 128 else b"\x82" + n.to_bytes(2, "big")) + b
    vbs = (tlv(0x30, tlv(0x06, bytes((0x2B, 6, 1, 2, 1, 1, 3, 0))) + tlv(0x43, b"\x01\xf4"))
           + tlv(0x30, tlv(0x06, bytes((0x2B, 6, 1, 6, 3, 1, 1, 4, 1, 0)))
                 + tlv(0x06, bytes((0x2B, 6, 1, 6, 3, 1, 1, 5, 3))))
           + tlv(0x30, tlv(0x06, bytes((0x2B, 6, 1, 2, 1, 2, 2, 1, 8, 3)))
                 + tlv(tag, b"\x01" * octets)))
    pdu = tlv(ber.TRAP_V2, tlv(0x02, b"\x2a") + tlv(0x02, b"\x00") + tlv(0x02, b"\x00")
              + tlv(0x30, vbs))
    return tlv(0x30, tlv(0x02, b"\x01") + tlv(0x04, PUBLIC) + pdu)


@pytest.mark.parametrize(("tag", "octets"), [(0x02, 6), (0x41, 6), (0x43, 6), (0x46, 10),
                                             (0x02, 1800)])
def test_oversized_integers_are_a_ber_error(tag: int, octets: int) -> None:
    """An INTEGER or counter past its SMIv2 range never becomes a huge int (str() of a
    4,300-digit int raises): the trap is refused as malformed; one in range decodes."""
    with pytest.raises(ber.BerError, match="octets"):
        ber.decode(_trap_with(tag, octets))
    assert ber.decode(_trap_with(tag, 5 if tag != 0x46 else 9)).varbinds
