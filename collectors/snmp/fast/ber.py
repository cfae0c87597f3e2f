"""A minimal BER codec for SNMPv2c: encode GET/GETNEXT/GETBULK requests, decode Responses.

Why not pyasn1: building an ASN.1 object tree per varbind costs ~10x the CPU of walking the
bytes directly, and an SNMP poller spends nearly all its time decoding responses. This module
knows exactly one message shape (RFC 3416 PDUs inside an RFC 1901 community message) and reads
it with plain indexing. Every malformed or truncated input raises `BerError`, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from collectors.snmp.session import InBounds, Oid, SnmpType, SnmpValue, VarBind

# PDU tags (context class, constructed)
GET = 0xA0
GETNEXT = 0xA1
RESPONSE = 0xA2
GETBULK = 0xA5

SNMP_V2C = 1

# errorStatus values (RFC 3416) the transport acts on
NO_ERROR = 0
TOO_BIG = 1
NO_SUCH_NAME = 2
GEN_ERR = 5


class BerError(ValueError):
    """The bytes are not a well-formed SNMPv2c Response."""


@dataclass(frozen=True, slots=True)
class Response:
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[VarBind]


# ---------------------------------------------------------------------------------------------
# encoding


def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + _len(len(body)) + body


def encode_integer(n: int) -> bytes:
    return _tlv(0x02, n.to_bytes((n.bit_length() + 8) // 8, "big", signed=True))


def encode_oid(oid: Oid) -> bytes:
    """OID TLV. At least two arcs; the first is 0-2, the second < 40 unless the first is 2."""
    if len(oid) < 2 or oid[0] > 2 or (oid[0] < 2 and oid[1] >= 40) or min(oid) < 0:
        raise BerError(f"cannot encode OID {oid!r}")
    first = oid[0] * 40 + oid[1]
    if first < 0x80 and max(oid[2:], default=0) < 0x80:
        # every sub-identifier one octet (most request OIDs): one C call; a walk encodes one
        # OID per column per request
        body = bytes((first, *oid[2:]))
        return bytes((0x06, len(body))) + body if len(body) < 0x80 else _tlv(0x06, body)
    last = oid[-1]
    if first < 0x80 and len(oid) > 2 and last < 0x4000 and max(oid[2:-1], default=0) < 0x80:
        # the same with a last sub-identifier of two octets (a walk resuming at row 128…16383)
        body = bytes((first, *oid[2:-1], 0x80 | (last >> 7), last & 0x7F))
        return bytes((0x06, len(body))) + body if len(body) < 0x80 else _tlv(0x06, body)
    out = bytearray()
    for sub in (oid[0] * 40 + oid[1], *oid[2:]):
        if sub < 0x80:
            out.append(sub)
            continue
        chunk = bytearray((sub & 0x7F,))
        sub >>= 7
        while sub:
            chunk.append(0x80 | (sub & 0x7F))
            sub >>= 7
        chunk.reverse()
        out += chunk
    return _tlv(0x06, bytes(out))


_NULL = b"\x05\x00"


class RequestEncoder:
    """Pre-encodes the parts of a request that never change for one community."""

    def __init__(self, community: bytes) -> None:
        self._head = encode_integer(SNMP_V2C) + _tlv(0x04, community)

    def encode(self, pdu_tag: int, request_id: int, oids: Sequence[Oid],
               non_repeaters: int = 0, max_repetitions: int = 0) -> bytes:
        """`non_repeaters`/`max_repetitions` fill errorStatus/errorIndex (zero for GET)."""
        vbs = b"".join(_tlv(0x30, encode_oid(o) + _NULL) for o in oids)
        pdu = (encode_integer(request_id) + encode_integer(non_repeaters)
               + encode_integer(max_repetitions) + _tlv(0x30, vbs))
        return _tlv(0x30, self._head + _tlv(pdu_tag, pdu))


# ---------------------------------------------------------------------------------------------
# decoding

_TYPES: dict[int, SnmpType] = {t.value: t for t in SnmpType}
# How the decoder reads each value tag. The unsigned kinds are their size in octets (a value
# longer than that, past a leading 0x00, is left to bounds.py).
_U32, _U64, _INT, _STR, _NONE, _OID, _UNKNOWN = 4, 8, 10, 11, 12, 13, 14
_KINDS: dict[int, int] = {0x41: _U32, 0x42: _U32, 0x43: _U32, 0x46: _U64, 0x02: _INT,
                          0x04: _STR, 0x40: _STR, 0x44: _STR, 0x06: _OID,
                          0x05: _NONE, 0x80: _NONE, 0x81: _NONE, 0x82: _NONE}
# SMIv2 bounds (the same as collectors/snmp/bounds.py, which cannot be imported here)
MAX_ARCS = 128
UINT32_MAX = 2**32 - 1
MAX_STRING_OCTETS = 16_384
# VarBind is a frozen slotted dataclass: its __init__ sets each field through
# object.__setattr__, which costs about as much as decoding the value. Setting the slots through
# their descriptors builds the identical object for a third of that (hot loop only).
_NEW = object.__new__
_SET_OID: Callable[[VarBind, Oid], None] = VarBind.__dict__["oid"].__set__
_SET_TYPE: Callable[[VarBind, SnmpType], None] = VarBind.__dict__["type"].__set__
_SET_VALUE: Callable[[VarBind, SnmpValue], None] = VarBind.__dict__["value"].__set__
# first encoded sub-identifier (< 128) -> the first two arcs
_FIRST2: tuple[tuple[int, int], ...] = tuple(
    (v // 40, v % 40) if v < 80 else (2, v - 80) for v in range(128))


def _header(data: bytes, p: int, limit: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the TLV at `p`; checks it fits before `limit`."""
    if p + 2 > limit:
        raise BerError(f"truncated TLV at offset {p}")
    tag = data[p]
    n = data[p + 1]
    p += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4:
            raise BerError(f"unsupported length form at offset {p - 1}")
        if p + k > limit:
            raise BerError(f"truncated length at offset {p}")
        n = int.from_bytes(data[p:p + k], "big")
        p += k
    end = p + n
    if end > limit:
        raise BerError(f"length {n} at offset {p} runs past the end")
    return tag, p, end


def _int(data: bytes, p: int, limit: int) -> tuple[int, int]:
    tag, s, e = _header(data, p, limit)
    if tag != 0x02 or s == e:
        raise BerError(f"expected INTEGER at offset {p}")
    return int.from_bytes(data[s:e], "big", signed=True), e


def decode_oid(raw: bytes) -> Oid:
    """Content octets of an OID -> tuple of arcs."""
    if not raw:
        raise BerError("empty OID")
    if raw.isascii():  # every sub-identifier < 128: the common case, done in C
        return _FIRST2[raw[0]] + tuple(raw[1:])
    if raw[-1] & 0x80:
        raise BerError("OID ends inside a sub-identifier")
    # The rows of a table column differ only after a shared prefix (1.3.6.1.4.1.2011.… or
    # ifHCInOctets.<ifIndex ≥ 128>): decode everything before the last sub-identifier once and
    # only the last one per varbind.
    i = len(raw) - 1
    while i > 0 and raw[i - 1] & 0x80:
        i -= 1
    if len(raw) - i > _MAX_SUB_OCTETS:
        raise BerError(f"OID sub-identifier of {len(raw) - i} octets")
    if i == 0:
        return _decode_oid_slow(raw)
    head = raw[:i]
    prefix = _PREFIXES.get(head)
    if prefix is None:
        prefix = _decode_oid_slow(head)
        # Only prefixes within SMIv2 bounds (at most 127 arcs, each < 2^32) are kept: the
        # decoder takes a cached prefix as checked (_decode_response).
        if len(prefix) < MAX_ARCS and max(prefix) <= UINT32_MAX:
            if len(_PREFIXES) >= _PREFIXES_MAX:  # bounded: index-heavy tables miss anyway
                _PREFIXES.clear()
            _PREFIXES[head] = prefix
    last = 0
    for b in raw[i:]:
        last = (last << 7) | (b & 0x7F)
    return (*prefix, last)


_PREFIXES: dict[bytes, Oid] = {}
_PREFIXES_MAX = 4096


# A sub-identifier is at most 2^32-1 (RFC 2578): 5 octets. Longer ones are refused before the
# shift loop, which is quadratic in the length of one sub-identifier (60 kB of 0xff: seconds).
_MAX_SUB_OCTETS = 5


def _decode_oid_slow(raw: bytes) -> Oid:
    subs: list[int] = []
    acc = 0
    run = 0
    for b in raw:
        acc = (acc << 7) | (b & 0x7F)
        if not b & 0x80:
            subs.append(acc)
            acc = 0
            run = 0
        else:
            run += 1
            if run >= _MAX_SUB_OCTETS:
                raise BerError(f"OID sub-identifier of more than {_MAX_SUB_OCTETS} octets")
    first = subs[0]
    head = (first // 40, first % 40) if first < 80 else (2, first - 80)
    return head + tuple(subs[1:])


def parse_request_id(data: bytes) -> int:
    """The request-id of a v2c message, read without decoding the varbinds (for matching)."""
    # Container lengths are not checked against the datagram here: a truncated reply that still
    # names our request must fail that request as a protocol error, not leave it to time out.
    limit = len(data)
    unchecked = 1 << 62
    try:
        tag, p, _ = _header(data, 0, unchecked)
        if tag != 0x30:
            raise BerError("not a SEQUENCE")
        _, p = _int(data, p, limit)
        _, _, p = _header(data, p, limit)
        _, p, _ = _header(data, p, unchecked)
        rid, _ = _int(data, p, limit)
        return rid
    except IndexError as exc:  # defensive: _header checks bounds before every index
        raise BerError(str(exc)) from None


def decode_response(data: bytes, community: bytes | None = None) -> Response:
    """Decode a v2c Response message. Raises `BerError` on anything malformed."""
    try:
        return _decode_response(data, community)
    except BerError:
        raise
    except (IndexError, ValueError, KeyError) as exc:  # a corner _header did not foresee
        raise BerError(f"malformed response: {exc}") from None


def _decode_response(data: bytes, community: bytes | None) -> Response:
    limit = len(data)
    tag, p, end = _header(data, 0, limit)
    if tag != 0x30:
        raise BerError("message is not a SEQUENCE")
    if end != limit:
        raise BerError(f"{limit - end} bytes after the message")
    version, p = _int(data, p, end)
    if version != SNMP_V2C:
        raise BerError(f"SNMP version {version}, expected v2c")
    tag, s, p = _header(data, p, end)
    if tag != 0x04:
        raise BerError("community is not an OCTET STRING")
    if community is not None and data[s:p] != community:
        raise BerError("community does not match")
    tag, p, pend = _header(data, p, end)
    if tag != RESPONSE:
        raise BerError(f"PDU tag 0x{tag:02x} is not a Response")
    request_id, p = _int(data, p, pend)
    error_status, p = _int(data, p, pend)
    error_index, p = _int(data, p, pend)
    tag, p, vend = _header(data, p, pend)
    if tag != 0x30:
        raise BerError("varbind list is not a SEQUENCE")

    out: list[VarBind] = []
    append = out.append
    types = _TYPES
    kinds = _KINDS
    first2 = _FIRST2
    prefixes = _PREFIXES
    from_bytes = int.from_bytes
    new, set_oid, set_type, set_value = _NEW, _SET_OID, _SET_TYPE, _SET_VALUE
    # Whether every varbind is within the SMIv2 bounds of collectors/snmp/bounds.py; told by
    # lengths read here anyway, so the session's screen need not look at each varbind again.
    clean = True
    while p < vend:
        # The three TLVs of a varbind (SEQUENCE, OID, value) read their short-form lengths inline,
        # on purpose: a call to _header per TLV would add about a quarter to the decode time.
        # Long forms (rare inside a varbind) go through _header.
        if data[p] != 0x30:
            raise BerError(f"varbind at offset {p} is not a SEQUENCE")
        n = data[p + 1]
        if n < 0x80:
            s = p + 2
            vb_end = s + n
            if vb_end > vend:
                raise BerError(f"varbind at offset {p} runs past the end")
        else:
            _, s, vb_end = _header(data, p, vend)
        if s + 2 > vb_end or data[s] != 0x06:
            raise BerError(f"varbind at offset {p} has no OID")
        n = data[s + 1]
        if n < 0x80:
            os_ = s + 2
            oe = os_ + n
            if oe > vb_end:
                raise BerError(f"OID at offset {s} runs past its varbind")
        else:
            _, os_, oe = _header(data, s, vb_end)
            n = oe - os_
        raw = data[os_:oe]
        if raw.isascii() and raw:
            # every sub-identifier < 128 (decode_oid's common case, inlined): in bounds when
            # there are at most 128 of them
            oid = first2[raw[0]] + tuple(raw[1:])
            if oe - os_ >= MAX_ARCS:
                clean = False
        elif (n >= 3 and raw[-2] & 0x80 and not raw[-3] & 0x80 and not raw[-1] & 0x80
              and (prefix := prefixes.get(raw[:-2])) is not None):
            # the next most common shape, inlined: a known prefix (in bounds, see decode_oid)
            # and a last sub-identifier of two octets (a row index 128…16383)
            oid = (*prefix, ((raw[-2] & 0x7F) << 7) | raw[-1])
        else:
            oid = decode_oid(raw)
            if clean and (len(oid) > MAX_ARCS or max(oid) > UINT32_MAX):
                clean = False
        if oe + 2 > vb_end:
            raise BerError(f"varbind at offset {p} has no value")
        vtag = data[oe]
        n = data[oe + 1]
        if n < 0x80:
            vs = oe + 2
            ve = vs + n
            if ve > vb_end:
                raise BerError(f"value at offset {oe} runs past its varbind")
        else:
            vtag, vs, ve = _header(data, oe, vb_end)
            n = ve - vs
        if ve != vb_end:
            raise BerError(f"trailing bytes in varbind at offset {p}")
        value: SnmpValue
        kind = kinds.get(vtag, _UNKNOWN)
        if kind <= _U64:  # Counter32, Gauge32, TimeTicks; Counter64
            if n == 0:
                raise BerError(f"empty unsigned at offset {oe}")
            # an over-long one (a Counter32 of 1,800 octets) is decoded all the same, in linear
            # time: its range is one varbind's problem (collectors/snmp/bounds.py), not the reply's
            value = from_bytes(data[vs:ve], "big")
            if clean and n > kind and (n > kind + 1 or data[vs]):
                clean = False  # past 4 (8) octets, or a leading 0x00 + 4 (8)
        elif kind == _INT:
            if n == 0:
                raise BerError(f"empty INTEGER at offset {oe}")
            value = from_bytes(data[vs:ve], "big", signed=True)
            if n > 4:
                clean = False
        elif kind == _STR:
            value = data[vs:ve]
            if n > MAX_STRING_OCTETS or (vtag == 0x40 and n != 4 and n != 16):
                clean = False
        elif kind == _NONE:
            if n:
                raise BerError(f"non-empty NULL/exception at offset {oe}")
            value = None
        elif kind == _OID:
            value = decode_oid(data[vs:ve])
            clean = False  # rare (sysObjectID): screened the slow way
        else:
            raise BerError(f"unknown value tag 0x{vtag:02x} at offset {oe}")
        vb = new(VarBind)
        set_oid(vb, oid)
        set_type(vb, types[vtag])
        set_value(vb, value)
        append(vb)
        p = vb_end
    if clean:
        out = InBounds(out)
    return Response(request_id, error_status, error_index, out)
