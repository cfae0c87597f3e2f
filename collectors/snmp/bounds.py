"""Bounds on what a device may answer: one out-of-range varbind is set aside, not the device.

Both transports (the fast BER path and pysnmp) decode whatever the wire says: an INTEGER of
1,800 octets, a Counter32 past 2^32, a 60 kB string, an OID with 10,000 arcs. Such a value is
not SMIv2 (RFC 2578 fixes every range below), and further up it breaks things far from its cause
(a 4,300-digit int cannot even be printed). `BoundedSession` wraps any `SnmpSession` and screens
each varbind once, where it enters: a bad one in a walk is dropped, in a GET it becomes
noSuchInstance (the answer keeps its positions), and each is reported to `on_reject` with a
typed reason, so the collector counts it and logs it once with the device.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence

from agent.core.errors import CollectError
from collectors.snmp.session import InBounds, Oid, SnmpSession, SnmpType, VarBind
from collectors.snmp.walker import ColumnResult

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1
MAX_OID_ARCS = 128  # RFC 2578 §7.1.3: at most 128 sub-identifiers, each ≤ 2^32-1
MAX_STRING_OCTETS = 16_384  # SMIv2 allows 65,535; no MIB object the collector reads nears 16 kB

_UNSIGNED32 = frozenset({SnmpType.COUNTER32, SnmpType.GAUGE32, SnmpType.TIMETICKS})
_STRINGS = frozenset({SnmpType.OCTET_STRING, SnmpType.OPAQUE})

RejectSink = Callable[[str, str], None]  # (reason, detail)
WalkMany = Callable[[Sequence[Oid]], Awaitable[list[ColumnResult]]]


def _oid_problem(oid: Oid) -> str | None:
    if len(oid) > MAX_OID_ARCS:
        return f"{len(oid)} arcs"
    for arc in oid:
        if not 0 <= arc <= UINT32_MAX:
            return f"an arc of {arc.bit_length()} bits"
    return None


def _head(oid: Oid) -> str:
    """The OID for a log line, bounded (its arcs are checked before this is called)."""
    return ".".join(map(str, oid[:24])) + (".…" if len(oid) > 24 else "")


def varbind_problem(vb: VarBind) -> tuple[str, str] | None:
    """(reason, detail) for a varbind outside SMIv2 bounds; None when it is usable."""
    p = _oid_problem(vb.oid)
    if p is not None:
        return "bad_oid", f"varbind name with {p}"
    v, t = vb.value, vb.type
    if isinstance(v, int) and not isinstance(v, bool):
        if t is SnmpType.INTEGER and not INT32_MIN <= v <= INT32_MAX:
            return "int_out_of_range", f"{_head(vb.oid)}: INTEGER of {v.bit_length()} bits"
        if t in _UNSIGNED32 and not 0 <= v <= UINT32_MAX:
            return "int_out_of_range", f"{_head(vb.oid)}: {t.name} of {v.bit_length()} bits"
        if t is SnmpType.COUNTER64 and not 0 <= v <= UINT64_MAX:
            return "int_out_of_range", f"{_head(vb.oid)}: Counter64 of {v.bit_length()} bits"
    elif isinstance(v, bytes):
        if t in _STRINGS and len(v) > MAX_STRING_OCTETS:
            return "string_too_long", f"{_head(vb.oid)}: string of {len(v)} octets"
        if t is SnmpType.IP_ADDRESS and len(v) not in (4, 16):
            return "bad_value", f"{_head(vb.oid)}: IpAddress of {len(v)} octets"
    elif isinstance(v, tuple):
        p = _oid_problem(v)
        if p is not None:
            return "bad_oid", f"{_head(vb.oid)}: OBJECT IDENTIFIER value with {p}"
    return None


def screen(vbs: Sequence[VarBind], on_reject: RejectSink, *, keep_positions: bool
           ) -> list[VarBind]:
    if type(vbs) is InBounds:  # checked by the transport's decoder (the fast path)
        return vbs
    out: list[VarBind] = []
    append = out.append
    for vb in vbs:
        problem = varbind_problem(vb)
        if problem is None:
            append(vb)
            continue
        on_reject(*problem)
        if keep_positions:
            oid = vb.oid if _oid_problem(vb.oid) is None else ()
            out.append(VarBind(oid, SnmpType.NO_SUCH_INSTANCE, None))
    return out


def _ignore(reason: str, detail: str) -> None:
    return None


class BoundedSession:
    """An `SnmpSession` whose answers hold only in-bounds varbinds."""

    def __init__(self, inner: SnmpSession, on_reject: RejectSink | None = None) -> None:
        self.inner = inner
        self.on_reject = on_reject or _ignore

    async def get(self, oids: Sequence[Oid]) -> list[VarBind]:
        return screen(await self.inner.get(oids), self.on_reject, keep_positions=True)

    async def walk(self, root: Oid) -> list[VarBind]:
        try:
            vbs = await self.inner.walk(root)
        except CollectError as exc:  # a walk that stopped early: what arrived, screened too
            arrived = getattr(exc, "varbinds", None)
            if isinstance(arrived, list):
                exc.varbinds = screen(  # type: ignore[attr-defined]
                    arrived, self.on_reject, keep_positions=False)
            raise
        return screen(vbs, self.on_reject, keep_positions=False)

    async def _walk_many(self, inner_many: WalkMany, roots: Sequence[Oid]
                         ) -> list[ColumnResult]:
        out: list[ColumnResult] = []
        for vbs, exc in await inner_many(roots):
            vbs = screen(vbs, self.on_reject, keep_positions=False)
            if exc is not None and isinstance(getattr(exc, "varbinds", None), list):
                exc.varbinds = vbs  # type: ignore[attr-defined]
            out.append((vbs, exc))
        return out

    async def close(self) -> None:
        await self.inner.close()

    def __getattr__(self, name: str) -> object:  # max_repetitions, counters for benches …
        attr = getattr(self.inner, name)
        if name == "walk_many":  # a transport's multi-column walk, screened like walk()
            return functools.partial(self._walk_many, attr)
        return attr
