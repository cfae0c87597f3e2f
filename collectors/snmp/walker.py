"""Transport-neutral GETBULK walk with a max-repetitions that steps down.

Some agents never answer a GETBULK whose reply would not fit a UDP datagram (a real Huawei AC6605
drops the request for its VLAN bitmaps at max-repetitions ≥ 6), others answer `tooBig`. Both
transports share this loop: they only provide one GETBULK request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from agent.core.errors import CollectError
from agent.core.model import ErrorType
from collectors.snmp.session import Oid, SnmpType, VarBind, oid_to_str


class TooBigError(CollectError):
    """The agent answered tooBig: the reply would exceed its message size."""

    def __init__(self, message: str = "tooBig") -> None:
        super().__init__(ErrorType.PROTOCOL, message)


class PartialWalk(CollectError):
    """A walk stopped early: `varbinds` holds what arrived, `error_type` why it stopped."""

    def __init__(self, varbinds: list[VarBind], error_type: ErrorType, message: str) -> None:
        super().__init__(error_type, message)
        self.varbinds = varbinds


BulkRequest = Callable[[Oid, int], Awaitable[list[VarBind]]]
"""One GETBULK (non-repeaters 0) from an OID with a max-repetitions; raises CollectError."""


@dataclass(slots=True)
class Repetitions:
    """Max-repetitions learned per device: halves on timeout/tooBig, stays where it worked.

    A device that never answered is not stepped down (a dead device costs one timeout, not
    one per step).
    """

    current: int
    minimum: int = 1
    answered: bool = False

    def step_down(self) -> bool:
        if not self.answered or self.current <= self.minimum:
            return False
        self.current = max(self.minimum, self.current // 2)
        return True


# A hostile or broken agent can answer an endless, ever-increasing table: a walk ends here at the
# latest (the largest real tables, a core router's ARP or a big FDB, stay well below it).
MAX_WALK_VARBINDS = 250_000


def in_subtree(oid: Oid, root: Oid) -> bool:
    return oid[: len(root)] == root


async def bulk_walk(request: BulkRequest, root: Oid, reps: Repetitions) -> list[VarBind]:
    """All varbinds under `root`; PartialWalk keeps what arrived before a failure."""
    out: list[VarBind] = []
    last = root
    while True:
        try:
            vbs = await request(last, reps.current)
        except (TooBigError, CollectError) as exc:
            stepable = isinstance(exc, TooBigError) or exc.error_type is ErrorType.TIMEOUT
            if stepable and reps.step_down():
                continue
            if out:
                raise PartialWalk(out, exc.error_type,
                                     f"walk of {oid_to_str(root)} stopped: {exc}") from exc
            raise
        reps.answered = True
        if not vbs:
            return out
        for vb in vbs:
            if vb.type is SnmpType.END_OF_MIB_VIEW or not in_subtree(vb.oid, root):
                return out
            if vb.oid <= last:
                raise PartialWalk(out, ErrorType.PROTOCOL,
                                     f"OID not increasing after {oid_to_str(last)}")
            out.append(vb)
            last = vb.oid
        if len(out) >= MAX_WALK_VARBINDS:
            raise PartialWalk(out, ErrorType.PROTOCOL, f"walk of {oid_to_str(root)} stopped "
                              f"at {MAX_WALK_VARBINDS} varbinds")
