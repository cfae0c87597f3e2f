"""Out-of-range varbinds are set aside one by one, with a typed reason; the rest is kept.

The inner session is scripted (unit level); the same answers over the wire, through a real
`campusmon run`, are in tests/hostile/test_hostile_snmp.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from agent.core.model import ErrorType
from collectors.snmp.bounds import BoundedSession, varbind_problem
from collectors.snmp.fast.ber import BerError, decode_oid
from collectors.snmp.session import Oid, SnmpType, VarBind
from collectors.snmp.walker import PartialWalk

IF_OPER = (1, 3, 6, 1, 2, 1, 2, 2, 1, 8)
HUGE = int.from_bytes(b"\x7f" + b"\xff" * 1800, "big")


class Scripted:
    def __init__(self, answer: list[VarBind], partial: bool = False) -> None:
        self.answer = answer
        self.partial = partial

    async def get(self, oids: Sequence[Oid]) -> list[VarBind]:
        return list(self.answer)

    async def walk(self, root: Oid) -> list[VarBind]:
        if self.partial:
            raise PartialWalk(list(self.answer), ErrorType.TIMEOUT, "stopped")
        return list(self.answer)

    async def close(self) -> None:
        return None


BAD = [
    (VarBind((*IF_OPER, 1), SnmpType.INTEGER, HUGE), "int_out_of_range"),
    (VarBind((*IF_OPER, 2), SnmpType.INTEGER, 2**31), "int_out_of_range"),
    (VarBind((*IF_OPER, 3), SnmpType.COUNTER32, 2**32), "int_out_of_range"),
    (VarBind((*IF_OPER, 4), SnmpType.COUNTER64, 2**64), "int_out_of_range"),
    (VarBind((*IF_OPER, 5), SnmpType.OCTET_STRING, b"x" * 60_000), "string_too_long"),
    (VarBind((*IF_OPER, 6), SnmpType.IP_ADDRESS, b"\x01\x02\x03"), "bad_value"),
    (VarBind((*IF_OPER, 2**40), SnmpType.INTEGER, 1), "bad_oid"),
    (VarBind((1, 3) + (1,) * 200, SnmpType.INTEGER, 1), "bad_oid"),
    (VarBind((*IF_OPER, 9), SnmpType.OBJECT_IDENTIFIER, (1, 3, 2**33)), "bad_oid"),
]
GOOD = [
    VarBind((*IF_OPER, 10), SnmpType.INTEGER, -(2**31)),
    VarBind((*IF_OPER, 11), SnmpType.COUNTER64, 2**64 - 1),
    VarBind((*IF_OPER, 12), SnmpType.OCTET_STRING, b"x" * 16_384),
]


@pytest.mark.parametrize(("vb", "reason"), BAD)
def test_each_hostile_value_has_its_reason(vb: VarBind, reason: str) -> None:
    problem = varbind_problem(vb)
    assert problem is not None and problem[0] == reason
    assert len(problem[1]) < 300  # the detail never quotes the offender whole


async def test_walk_keeps_the_good_and_reports_the_bad() -> None:
    seen: list[str] = []
    s = BoundedSession(Scripted([b for b, _ in BAD] + GOOD), lambda r, d: seen.append(r))
    assert await s.walk(IF_OPER) == GOOD
    assert seen == [r for _, r in BAD]


async def test_get_keeps_positions() -> None:
    seen: list[str] = []
    s = BoundedSession(Scripted([BAD[0][0], GOOD[0]]), lambda r, d: seen.append(r))
    got = await s.get([(*IF_OPER, 1), (*IF_OPER, 10)])
    assert [vb.type for vb in got] == [SnmpType.NO_SUCH_INSTANCE, SnmpType.INTEGER]
    assert got[0].oid == (*IF_OPER, 1)


async def test_a_partial_walk_is_screened_too() -> None:
    seen: list[str] = []
    s = BoundedSession(Scripted([BAD[0][0], GOOD[0]], partial=True),
                       lambda r, d: seen.append(r))
    with pytest.raises(PartialWalk) as info:
        await s.walk(IF_OPER)
    assert info.value.varbinds == [GOOD[0]]
    assert seen == ["int_out_of_range"]


def test_ber_refuses_an_oid_sub_identifier_past_five_octets() -> None:
    assert decode_oid(b"\x2b\x8f\xff\xff\xff\x7f") == (1, 3, 0xFFFFFFFF)
    with pytest.raises(BerError):
        decode_oid(b"\x2b" + b"\xff" * 60_000 + b"\x7f")
    with pytest.raises(BerError):
        decode_oid(b"\xff" * 6 + b"\x01")


async def test_an_endless_table_ends_the_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    from collectors.snmp import walker

    monkeypatch.setattr(walker, "MAX_WALK_VARBINDS", 1000)
    calls = 0

    async def endless(oid: Oid, reps: int) -> list[VarBind]:
        nonlocal calls
        calls += 1
        last = oid[-1] if len(oid) > len(IF_OPER) else 0
        return [VarBind((*IF_OPER, last + i + 1), SnmpType.INTEGER, 1) for i in range(reps)]

    with pytest.raises(PartialWalk) as info:
        await walker.bulk_walk(endless, IF_OPER, walker.Repetitions(50))
    assert len(info.value.varbinds) == 1000 and calls == 20
