"""Bounded parsers of passive terminal evidence: NetBIOS name service (NBNS, RFC 1002 §4.2,
UDP 137) and LLDP-MED inventory (ANSI/TIA-1057 TLVs inside IEEE 802.1AB LLDPDUs).

Pure bytes → plain data, no scapy: the capture thread hands over a frame's payload. A payload
that breaks its format raises `MalformedFrame` (the capture counts it as a bad frame and goes
on); anything else that is simply not evidence returns None. Every loop is bounded by the
payload length and by MAX_LLDP_TLVS; every string is cut to MAX_TEXT characters.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_TEXT = 128
MAX_LLDP_TLVS = 64  # a real LLDPDU carries ~10-20 TLVs; a 1500-byte frame fits at most ~750
TIA_OUI = b"\x00\x12\xbb"  # LLDP-MED organisationally specific TLVs (TIA-1057)
# LLDP-MED device type (capabilities TLV, subtype 1): 1-3 endpoint classes, 4 network
# connectivity (a switch announcing MED to its phones: not a terminal)
MED_NETWORK_CONNECTIVITY = 4
NB_WORKSTATION, NB_SERVER = 0x00, 0x20  # NetBIOS suffixes naming the host itself


class MalformedFrame(ValueError):
    """A frame that claims a protocol and breaks its format."""


def _text(raw: bytes, encoding: str = "utf-8") -> str:
    s = raw[: MAX_TEXT * 4].decode(encoding, errors="replace")
    return "".join(ch for ch in s if ch.isprintable()).strip()[:MAX_TEXT]


# -- NBNS (RFC 1002) -------------------------------------------------------------------------

def _nb_name(payload: bytes, off: int) -> tuple[str, int]:
    """The first-level encoded NetBIOS name at `off`: length 32, 32 letters A-P (two per
    byte), an empty scope (0). Returns (name without padding, suffix byte)."""
    if off + 34 > len(payload):
        raise MalformedFrame("NBNS name past the end of the packet")
    if payload[off] != 32:
        raise MalformedFrame(f"NBNS name length {payload[off]}, not 32")
    enc = payload[off + 1: off + 33]
    if any(c < 0x41 or c > 0x50 for c in enc):
        raise MalformedFrame("NBNS name not in the A-P half-byte encoding")
    raw = bytes(((enc[i] - 0x41) << 4) | (enc[i + 1] - 0x41) for i in range(0, 32, 2))
    # Windows writes the name in the OEM code page (GBK on Chinese systems)
    return _text(raw[:15], "gbk"), raw[15]


def nbns_own_name(payload: bytes) -> str | None:
    """The host's own NetBIOS name from a name registration / refresh request (opcodes 5,
    8, 9: the question is the sender's name) or a positive name query response (the answer
    is the responder's name). A name *query* asks for another host's name: not evidence about
    the sender, so None."""
    if len(payload) < 12:
        raise MalformedFrame("NBNS shorter than its 12-byte header")
    flags = int.from_bytes(payload[2:4], "big")
    qdcount = int.from_bytes(payload[4:6], "big")
    ancount = int.from_bytes(payload[6:8], "big")
    response, opcode, rcode = bool(flags & 0x8000), (flags >> 11) & 0xF, flags & 0xF
    registers = not response and opcode in (5, 8, 9) and qdcount >= 1
    answers = response and opcode == 0 and rcode == 0 and ancount >= 1
    if not (registers or answers):
        return None
    name, suffix = _nb_name(payload, 12)
    if suffix not in (NB_WORKSTATION, NB_SERVER) or not name or name == "*":
        return None  # group, domain and browser names say nothing about this host
    return name


# -- LLDP-MED (IEEE 802.1AB + TIA-1057) ------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LldpMedInfo:
    system_name: str = ""
    system_descr: str = ""
    device_type: int | None = None  # LLDP-MED capabilities: 1-3 endpoint, 4 network
    hardware_rev: str = ""
    firmware_rev: str = ""
    software_rev: str = ""
    manufacturer: str = ""
    model: str = ""


_MED_INVENTORY = {5: "hardware_rev", 6: "firmware_rev", 7: "software_rev", 9: "manufacturer",
                  10: "model"}  # 8 serial and 11 asset id are not read (no need, may be PII)


def parse_lldp(payload: bytes) -> LldpMedInfo | None:
    """An LLDPDU (the Ethernet payload of ethertype 0x88cc). None when it carries no LLDP-MED
    TLV or comes from a network-connectivity device (a switch), else what an endpoint says of
    itself."""
    fields: dict[str, str] = {}
    device_type: int | None = None
    med = False
    i, n = 0, 0
    while i < len(payload):
        if i + 2 > len(payload):
            raise MalformedFrame("LLDP TLV header cut short")
        header = int.from_bytes(payload[i: i + 2], "big")
        kind, length = header >> 9, header & 0x1FF
        i += 2
        if i + length > len(payload):
            raise MalformedFrame(f"LLDP TLV type {kind} length {length} past the end")
        value = payload[i: i + length]
        i += length
        n += 1
        if n == 1 and kind != 1:
            raise MalformedFrame("LLDPDU does not start with a chassis ID TLV")
        if n > MAX_LLDP_TLVS:
            raise MalformedFrame(f"more than {MAX_LLDP_TLVS} LLDP TLVs")
        if kind == 0:  # End of LLDPDU
            break
        if kind == 5:
            fields["system_name"] = _text(value)
        elif kind == 6:
            fields["system_descr"] = _text(value)
        elif kind == 127 and length >= 4 and value[:3] == TIA_OUI:
            med = True
            subtype, data = value[3], value[4:]
            if subtype == 1:
                if len(data) != 3:
                    raise MalformedFrame("LLDP-MED capabilities TLV is not 3 bytes")
                device_type = data[2]
            elif subtype in _MED_INVENTORY:
                fields[_MED_INVENTORY[subtype]] = _text(data)
    if n == 0:
        raise MalformedFrame("empty LLDPDU")
    if not med or device_type == MED_NETWORK_CONNECTIVITY:
        return None
    return LldpMedInfo(device_type=device_type, **fields)
