"""The narrow interface between the SNMP collector and its transports.

Two transports implement it: the pysnmp engine (v2c and v3, all USM protocols) and a
purpose-built v2c fast path (its own BER codec over an asyncio datagram endpoint). The collector
codes against `SnmpSession` only, so either can serve any profile, and tests can compare them.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias

Oid: TypeAlias = tuple[int, ...]


class SnmpType(enum.IntEnum):
    """BER tags of SNMP values (RFC 3416 / SMIv2)."""

    INTEGER = 0x02
    OCTET_STRING = 0x04
    NULL = 0x05
    OBJECT_IDENTIFIER = 0x06
    IP_ADDRESS = 0x40
    COUNTER32 = 0x41
    GAUGE32 = 0x42
    TIMETICKS = 0x43
    OPAQUE = 0x44
    COUNTER64 = 0x46
    NO_SUCH_OBJECT = 0x80
    NO_SUCH_INSTANCE = 0x81
    END_OF_MIB_VIEW = 0x82


SnmpValue: TypeAlias = int | bytes | Oid | None


@dataclass(frozen=True, slots=True)
class VarBind:
    oid: Oid
    type: SnmpType
    value: SnmpValue  # int for numbers, bytes for strings/IpAddress/Opaque, Oid, None


class InBounds(list[VarBind]):
    """Varbinds a transport already found within the SMIv2 bounds of collectors/snmp/bounds.py
    while decoding them (where it costs a comparison per varbind): `bounds.screen` passes them
    through unchecked. A transport that cannot tell returns a plain list, which is screened."""

    __slots__ = ()


def oid_from_str(s: str) -> Oid:
    return tuple(int(x) for x in s.strip(".").split("."))


def oid_to_str(oid: Oid) -> str:
    return ".".join(map(str, oid))


class SnmpSession(Protocol):
    """One device. Raises `agent.core.errors.CollectError` (timeout, auth, protocol, …)."""

    async def get(self, oids: Sequence[Oid]) -> list[VarBind]: ...

    async def walk(self, root: Oid) -> list[VarBind]:
        """GETBULK walk of the subtree; may raise PartialCollect with what arrived."""
        ...

    async def close(self) -> None: ...
