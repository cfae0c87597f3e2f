"""A small BER reader for SNMP v1/v2c notifications, and the Response that acknowledges an inform.

Why not the poller's fast codec (collectors/snmp/fast/ber.py): it knows one message shape (a
v2c Response to our own request) and its types live in the SNMP poller, which a plugin may not
import. Notifications need three other shapes (v1 Trap-PDU, SNMPv2-Trap, InformRequest) and the
raw varbind list for the acknowledgement, so this reader is separate and self-contained. Why not
pysnmp for v1/v2c: building pyasn1 objects costs ~20x the CPU per message, and a flapping core
switch sends thousands a second (pysnmp still handles v3, whose USM needs its crypto).

Every malformed, truncated or oversized input raises `BerError`, nothing else.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TypeAlias

Oid: TypeAlias = tuple[int, ...]
Value: TypeAlias = int | bytes | Oid | str | None

V1, V2C, V3 = 0, 1, 3
TRAP_V1 = 0xA4
INFORM = 0xA6
TRAP_V2 = 0xA7
RESPONSE = 0xA2

SYS_UPTIME_0: Oid = (1, 3, 6, 1, 2, 1, 1, 3, 0)
SNMP_TRAP_OID_0: Oid = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)
SNMP_TRAPS: Oid = (1, 3, 6, 1, 6, 3, 1, 1, 5)  # coldStart.. (RFC 3584 §3.1: v1 generic traps)
MAX_VARBINDS = 256


class BerError(ValueError):
    """The bytes are not a well-formed SNMP v1/v2c notification."""


@dataclass(frozen=True, slots=True)
class VarBind:
    oid: Oid
    tag: int  # BER tag of the value (0x02 INTEGER, 0x04 OCTET STRING, 0x40 IpAddress …)
    value: Value


@dataclass(frozen=True, slots=True)
class Notification:
    """A decoded v1/v2c trap or inform, already in the v2 shape (RFC 3584 §3.1)."""

    version: int  # 0 = v1, 1 = v2c
    community: bytes = field(repr=False)  # a shared secret: never in a repr or a log
    pdu: int  # TRAP_V1, TRAP_V2 or INFORM
    request_id: int
    trap_oid: Oid
    uptime: int | None
    varbinds: tuple[VarBind, ...]  # without sysUpTime.0 / snmpTrapOID.0
    agent_addr: str | None = None  # v1 only


def _header(data: bytes, p: int, limit: int) -> tuple[int, int, int]:
    if p + 2 > limit:
        raise BerError(f"truncated TLV at offset {p}")
    tag = data[p]
    n = data[p + 1]
    p += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4 or p + k > limit:
            raise BerError(f"bad length at offset {p - 1}")
        n = int.from_bytes(data[p:p + k], "big")
        p += k
    end = p + n
    if end > limit:
        raise BerError(f"length {n} at offset {p} runs past the end")
    return tag, p, end


def _int(data: bytes, p: int, limit: int) -> tuple[int, int]:
    tag, s, e = _header(data, p, limit)
    if tag != 0x02 or s == e or e - s > 9:
        raise BerError(f"expected INTEGER at offset {p}")
    return int.from_bytes(data[s:e], "big", signed=True), e


_OIDS: dict[bytes, Oid] = {}  # a trap stream repeats the same OIDs: decode each once
_OIDS_MAX = 8192


def decode_oid(raw: bytes) -> Oid:
    hit = _OIDS.get(raw)
    if hit is not None:
        return hit
    if not raw or raw[-1] & 0x80 or len(raw) > 256:
        raise BerError("bad OID")
    if raw.isascii():  # every sub-identifier < 128: done in C
        first = raw[0]
        oid: Oid = ((first // 40, first % 40) if first < 80 else (2, first - 80)) + tuple(raw[1:])
    else:
        subs: list[int] = []
        acc = 0
        for b in raw:
            acc = (acc << 7) | (b & 0x7F)
            if not b & 0x80:
                subs.append(acc)
                acc = 0
        first = subs[0]
        oid = ((first // 40, first % 40) if first < 80 else (2, first - 80)) + tuple(subs[1:])
    if len(_OIDS) >= _OIDS_MAX:
        _OIDS.clear()
    _OIDS[raw] = oid
    return oid


# SMIv2 ranges in octets: INTEGER and the 32-bit types fit 5 (a leading 0 keeps an unsigned
# value positive), Counter64 9. A longer one is hostile: it would become an int of thousands
# of digits that no label or line can render.
_MAX_INT_OCTETS = {0x02: 5, 0x41: 5, 0x42: 5, 0x43: 5, 0x46: 9}


def _value(tag: int, raw: bytes) -> Value:
    limit = _MAX_INT_OCTETS.get(tag)
    if limit is not None and len(raw) > limit:
        raise BerError(f"integer of {len(raw)} octets (tag 0x{tag:02x})")
    if tag == 0x02:
        return int.from_bytes(raw, "big", signed=True) if raw else 0
    if tag in (0x41, 0x42, 0x43, 0x46):
        return int.from_bytes(raw, "big")
    if tag == 0x06:
        return decode_oid(raw)
    if tag == 0x40:
        if len(raw) != 4:
            raise BerError("IpAddress is not 4 octets")
        return str(ipaddress.IPv4Address(raw))
    if tag in (0x04, 0x44):
        return raw
    return None  # NULL, noSuchObject, noSuchInstance, endOfMibView


def _varbinds(data: bytes, p: int, limit: int) -> list[VarBind]:
    tag, s, e = _header(data, p, limit)
    if tag != 0x30:
        raise BerError(f"expected varbind list at offset {p}")
    out: list[VarBind] = []
    while s < e:
        if len(out) >= MAX_VARBINDS:
            raise BerError(f"more than {MAX_VARBINDS} varbinds")
        # short-form lengths (< 128 octets: nearly every varbind) read inline; else _header
        if s + 4 <= e and data[s] == 0x30 and data[s + 1] < 0x80 and data[s + 3] < 0x80:
            vs, ve = s + 2, s + 2 + data[s + 1]
            t2, os_, oe = data[vs], vs + 2, vs + 2 + data[vs + 1]
            if ve > e or oe > ve:
                raise BerError(f"varbind at offset {s} runs past the end")
        else:
            t, vs, ve = _header(data, s, e)
            if t != 0x30:
                raise BerError(f"expected varbind at offset {s}")
            t2, os_, oe = _header(data, vs, ve)
        if t2 != 0x06:
            raise BerError(f"expected OID at offset {vs}")
        vt, xs, xe = _header(data, oe, ve)
        out.append(VarBind(decode_oid(data[os_:oe]), vt, _value(vt, data[xs:xe])))
        s = ve
    return out


def peek_version(data: bytes) -> int:
    """The message's SNMP version (0, 1, 3) without decoding the rest."""
    tag, s, e = _header(data, 0, len(data))
    if tag != 0x30:
        raise BerError("not an SNMP message")
    v, _ = _int(data, s, e)
    return v


def decode(data: bytes) -> Notification:
    limit = len(data)
    tag, s, e = _header(data, 0, limit)
    if tag != 0x30 or e != limit:
        raise BerError("not an SNMP message (or trailing bytes)")
    version, p = _int(data, s, e)
    if version not in (V1, V2C):
        raise BerError(f"SNMP version {version} is not v1/v2c")
    t, cs, ce = _header(data, p, e)
    if t != 0x04:
        raise BerError("expected community")
    community = data[cs:ce]
    pdu, ps, pe = _header(data, ce, e)
    if version == V1:
        if pdu != TRAP_V1:
            raise BerError(f"v1 PDU 0x{pdu:02x} is not a Trap")
        t, os_, oe = _header(data, ps, pe)
        if t != 0x06:
            raise BerError("expected enterprise OID")
        enterprise = decode_oid(data[os_:oe])
        t, as_, ae = _header(data, oe, pe)
        if t != 0x40 or ae - as_ != 4:
            raise BerError("expected agent-addr")
        agent = str(ipaddress.IPv4Address(data[as_:ae]))
        generic, q = _int(data, ae, pe)
        specific, q = _int(data, q, pe)
        t, ts, te = _header(data, q, pe)
        if t != 0x43:
            raise BerError("expected time-stamp")
        stamp = int.from_bytes(data[ts:te], "big")
        v1_vbs = _varbinds(data, te, pe)
        # RFC 3584 §3.1: generic traps are snmpTraps.(g+1), enterprise ones enterprise.0.specific
        v1_oid = (*SNMP_TRAPS, generic + 1) if 0 <= generic < 6 else (*enterprise, 0, specific)
        return Notification(version, community, pdu, 0, v1_oid, stamp, tuple(v1_vbs), agent)
    if pdu not in (TRAP_V2, INFORM):
        raise BerError(f"v2c PDU 0x{pdu:02x} is not a trap or inform")
    request_id, q = _int(data, ps, pe)
    _, q = _int(data, q, pe)
    _, q = _int(data, q, pe)
    vbs = _varbinds(data, q, pe)
    uptime: int | None = None
    trap_oid: Oid | None = None
    rest: list[VarBind] = []
    for vb in vbs:
        if vb.oid == SYS_UPTIME_0 and isinstance(vb.value, int):
            uptime = vb.value
        elif vb.oid == SNMP_TRAP_OID_0 and isinstance(vb.value, tuple):
            trap_oid = vb.value
        else:
            rest.append(vb)
    if trap_oid is None:
        raise BerError("no snmpTrapOID.0 varbind")
    return Notification(version, community, pdu, request_id, trap_oid, uptime, tuple(rest))


def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + _len(len(body)) + body


def _enc_int(n: int) -> bytes:
    return _tlv(0x02, n.to_bytes((n.bit_length() + 8) // 8, "big", signed=True))


def inform_response(data: bytes) -> bytes:
    """The Response acknowledging a v2c InformRequest: same request-id and varbinds (RFC 3416
    §4.2.7). Built from the request's own bytes, so the varbinds echo exactly."""
    limit = len(data)
    _, s, e = _header(data, 0, limit)
    version, p = _int(data, s, e)
    _, cs, ce = _header(data, p, e)
    pdu, ps, pe = _header(data, ce, e)
    if version != V2C or pdu != INFORM:
        raise BerError("not a v2c inform")
    request_id, q = _int(data, ps, pe)
    _, q = _int(data, q, pe)
    _, q = _int(data, q, pe)
    body = _enc_int(request_id) + _enc_int(0) + _enc_int(0) + data[q:pe]
    return _tlv(0x30, _enc_int(V2C) + _tlv(0x04, data[cs:ce]) + _tlv(RESPONSE, body))
