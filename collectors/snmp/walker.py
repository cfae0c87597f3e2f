"""Transport-neutral GETBULK walk with a max-repetitions that steps down.

Some agents never answer a GETBULK whose reply would not fit a UDP datagram (a real Huawei AC6605
drops the request for its VLAN bitmaps at max-repetitions ≥ 6), others answer `tooBig`. Both
transports share this loop: they only provide one GETBULK request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from agent.core.errors import CollectError
from agent.core.model import ErrorType
from collectors.snmp.session import InBounds, Oid, SnmpType, VarBind, oid_to_str


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
    stepped_down: bool = False  # then multi-column walks ask for one column at a time

    def step_down(self) -> bool:
        if not self.answered or self.current <= self.minimum:
            return False
        self.current = max(self.minimum, self.current // 2)
        self.stepped_down = True
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
    n = len(root)
    end_of_view = SnmpType.END_OF_MIB_VIEW
    clean = True  # every reply InBounds: so is the walk (bounds.screen skips it)
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
        if type(vbs) is not InBounds:
            clean = False
        if not vbs:
            return InBounds(out) if clean else out
        for vb in vbs:
            oid = vb.oid  # in_subtree inlined: this loop runs once per varbind of every walk
            if vb.type is end_of_view or oid[:n] != root:
                return InBounds(out) if clean else out
            if oid <= last:
                raise PartialWalk(out, ErrorType.PROTOCOL,
                                     f"OID not increasing after {oid_to_str(last)}")
            out.append(vb)
            last = oid
        if len(out) >= MAX_WALK_VARBINDS:
            raise PartialWalk(out, ErrorType.PROTOCOL, f"walk of {oid_to_str(root)} stopped "
                              f"at {MAX_WALK_VARBINDS} varbinds")


BulkManyRequest = Callable[[Sequence[Oid], int], Awaitable[list[VarBind]]]
"""One GETBULK (non-repeaters 0) for several OIDs with a max-repetitions; raises CollectError."""

ColumnResult = tuple[list[VarBind], CollectError | None]
"""One column of a multi-column walk: what arrived, and the error that stopped it early."""

# Varbinds one multi-column GETBULK asks for (columns × max-repetitions): at 25 repetitions,
# 8 columns; about 6 KB of counters. An agent that cannot fit the reply truncates it (RFC 3416
# §4.2.3), and one that drops it instead steps the size down like a single-column walk.
MAX_BULK_VARBINDS = 200


async def bulk_walk_many(request: BulkManyRequest, roots: Sequence[Oid], reps: Repetitions,
                         max_varbinds: int = MAX_BULK_VARBINDS) -> list[ColumnResult]:
    """Walk several columns (subtrees) side by side, several per GETBULK: fewer round trips
    than one walk per column, and no reply spent on the next column after each one ends.

    Per root the result is what `bulk_walk(root)` returns, or what arrived plus the error that
    stopped it (PartialWalk when something arrived). A request that times out or is too big
    (once max-repetitions cannot step down) ends every column still open; any other error (an
    errorStatus an agent answers for one column it rejects) makes the walk ask one column at a
    time, so only the column that fails ends with its error. Each reply either moves its first
    column on (its OIDs strictly increase, at most MAX_WALK_VARBINDS) or ends it, so the
    loop terminates whatever the agent sends."""
    outs: list[list[VarBind]] = [[] for _ in roots]
    errors: list[CollectError | None] = [None] * len(roots)
    lasts: list[Oid] = [tuple(r) for r in roots]
    active = list(range(len(roots)))
    end_of_view = SnmpType.END_OF_MIB_VIEW
    clean = True  # every reply InBounds: so is every column (bounds.screen skips them)
    one_at_a_time = False  # a request failed for one of its columns: ask them one by one
    while active:
        per = (1 if reps.stepped_down or one_at_a_time
               else max(1, max_varbinds // max(1, reps.current)))
        batch = active[:per]
        try:
            vbs = await request([lasts[j] for j in batch], reps.current)
        except (TooBigError, CollectError) as exc:
            stepable = isinstance(exc, TooBigError) or exc.error_type is ErrorType.TIMEOUT
            if stepable and reps.step_down():
                continue
            if not stepable and len(batch) > 1:
                one_at_a_time = True  # retry this batch column by column
                continue
            failed = active if stepable else batch
            for j in failed:
                root = roots[j]
                errors[j] = (PartialWalk(outs[j], exc.error_type,
                                         f"walk of {oid_to_str(root)} stopped: {exc}")
                             if outs[j] else exc)
            if stepable:
                break
            active = active[1:]  # batch == [active[0]]: that column alone ends
            continue
        reps.answered = True
        if type(vbs) is not InBounds:
            clean = False
        ended: set[int] = set()
        if not vbs:
            ended.update(batch)
        k = len(batch)
        for pos, j in enumerate(batch):
            # reply order: repetition by repetition, the columns in turn; so column `pos` of
            # the request is every k-th varbind from `pos`
            root = roots[j]
            n = len(root)
            last = lasts[j]
            out = outs[j]
            append = out.append
            for vb in (vbs[pos::k] if k > 1 else vbs):
                oid = vb.oid
                if vb.type is end_of_view or oid[:n] != root:
                    ended.add(j)
                    break
                if oid <= last:
                    errors[j] = PartialWalk(out, ErrorType.PROTOCOL,
                                            f"OID not increasing after {oid_to_str(last)}")
                    ended.add(j)
                    break
                append(vb)
                last = oid
            lasts[j] = last
            if j not in ended and len(out) >= MAX_WALK_VARBINDS:
                errors[j] = PartialWalk(out, ErrorType.PROTOCOL, f"walk of {oid_to_str(root)} "
                                        f"stopped at {MAX_WALK_VARBINDS} varbinds")
                ended.add(j)
        if ended:
            active = [j for j in active if j not in ended]
    if clean:
        return [(InBounds(outs[j]) if errors[j] is None else outs[j], errors[j])
                for j in range(len(roots))]
    return [(outs[j], errors[j]) for j in range(len(roots))]
