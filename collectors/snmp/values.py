"""Small pure helpers turning varbinds into typed values: text, MAC, addresses, table rows."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from collectors.snmp.oids import Obj
from collectors.snmp.session import Oid, SnmpType, VarBind

_TEXTLIKE = (SnmpType.OCTET_STRING, SnmpType.OPAQUE)


def text(vb: VarBind | None) -> str:
    """Printable text of a string value ('' when absent); never raises on odd bytes."""
    if vb is None or not isinstance(vb.value, bytes) or vb.type not in _TEXTLIKE:
        return ""
    return vb.value.decode("utf-8", errors="replace").replace("\x00", "").strip()


def raw(vb: VarBind | None) -> bytes:
    """The octets of a string-like value, b'' otherwise."""
    return vb.value if vb is not None and isinstance(vb.value, bytes) else b""


def number(vb: VarBind | None) -> int | None:
    if vb is None or not isinstance(vb.value, int) or isinstance(vb.value, bool):
        return None
    return vb.value


def mac(raw: bytes | Iterable[int]) -> str:
    return ":".join(f"{b:02x}" for b in bytes(raw))


def mac_from_index(index: Oid) -> str | None:
    """A MAC address carried as six OID sub-identifiers (None when it is not one)."""
    if len(index) != 6 or any(not 0 <= b <= 255 for b in index):
        return None
    return mac(index)


def mac_of(vb: VarBind | None) -> str:
    """A MacAddress / PhysAddress value, or a MAC written as text."""
    if vb is None or not isinstance(vb.value, bytes):
        return ""
    if len(vb.value) == 6:
        return mac(vb.value)
    s = text(vb).lower().replace("-", ":")
    return s if len(s) == 17 and s.count(":") == 5 else ""


def ip_of(vb: VarBind | None) -> str:
    """IpAddress / InetAddress octets (4 or 16), or an address written as text."""
    if vb is None or not isinstance(vb.value, bytes):
        return ""
    raw = vb.value
    if len(raw) in (4, 16) and (vb.type is SnmpType.IP_ADDRESS or not _printable(raw)):
        return str(ipaddress.ip_address(raw))
    try:
        return str(ipaddress.ip_address(text(vb)))
    except ValueError:
        return ""


def _printable(raw: bytes) -> bool:
    return all(32 <= b < 127 for b in raw)


def display(raw: bytes) -> str:
    """Text when printable, else colon-separated hex (LLDP IDs, chassis MACs)."""
    if len(raw) == 6 and not _printable(raw):
        return mac(raw)
    if _printable(raw):
        return raw.decode("ascii").strip()
    return raw.hex(":")


def seconds(vb: VarBind | None) -> float | None:
    """TimeTicks are hundredths of a second; other integers are taken as seconds."""
    n = number(vb)
    if n is None or vb is None:
        return None
    return n / 100 if vb.type is SnmpType.TIMETICKS else float(n)


@dataclass(frozen=True, slots=True)
class Row:
    index: Oid
    cells: Mapping[str, VarBind]

    def get(self, obj: Obj) -> VarBind | None:
        return self.cells.get(obj.name)


_EXCEPTIONS = frozenset({SnmpType.NO_SUCH_OBJECT, SnmpType.NO_SUCH_INSTANCE,
                         SnmpType.END_OF_MIB_VIEW})


def rows(walks: Mapping[Obj, list[VarBind]]) -> dict[Oid, Row]:
    """Column walks joined on the row index (the OID suffix after the column)."""
    cells: dict[Oid, dict[str, VarBind]] = {}
    get = cells.get
    exceptions = _EXCEPTIONS
    for obj, vbs in walks.items():
        n = len(obj.oid)
        name = obj.name
        for vb in vbs:  # once per varbind of every table: no per-cell setdefault({})
            if vb.type in exceptions:
                continue
            idx = vb.oid[n:]
            row = get(idx)
            if row is None:
                cells[idx] = {name: vb}
            else:
                row[name] = vb
    return {idx: Row(idx, c) for idx, c in sorted(cells.items())}


def inet_index(index: Oid) -> tuple[str, str, Oid] | None:
    """Decode an InetAddressType + InetAddress index prefix → (family, address, rest)."""
    if len(index) < 2:
        return None
    kind, length = index[0], index[1]
    raw = index[2: 2 + length]
    if len(raw) != length or any(not 0 <= b <= 255 for b in raw):
        return None
    rest = index[2 + length:]
    try:
        if kind in (1, 3) and length >= 4:  # ipv4, ipv4z
            return "ipv4", str(ipaddress.IPv4Address(bytes(raw[:4]))), rest
        if kind in (2, 4) and length >= 16:  # ipv6, ipv6z
            return "ipv6", str(ipaddress.IPv6Address(bytes(raw[:16]))), rest
    except ValueError:
        return None
    return None


def scope(address: str) -> str:
    ip = ipaddress.ip_address(address)
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "linklocal"
    if ip.is_multicast:
        return "multicast"
    if ip.version == 6 and ip in ipaddress.IPv6Network("fc00::/7"):
        return "ula"
    if ip.version == 4 and ip.is_private:
        return "private"
    return "global" if ip.is_global else "other"
