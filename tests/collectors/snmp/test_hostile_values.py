"""Well-formed SNMP carrying values no sane agent sends: the poll and the metrics survive.

The session here is scripted (unit level): it answers every GET and walk with random
OID suffixes and random value types, which no real agent on this box can be made to do.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from collectors.snmp.collect import DevicePoller
from collectors.snmp.metrics import Clock, to_metrics
from collectors.snmp.rates import RateTracker
from collectors.snmp.records import Profile
from collectors.snmp.session import Oid, SnmpType, VarBind
from inventory.models import Inventory


def _value(rnd: random.Random) -> tuple[SnmpType, int | bytes | Oid | None]:
    kind = rnd.choice(list(SnmpType))
    if kind in (SnmpType.OCTET_STRING, SnmpType.OPAQUE, SnmpType.IP_ADDRESS):
        return kind, rnd.randbytes(rnd.choice([0, 1, 4, 6, 16, 20, 300]))
    if kind is SnmpType.OBJECT_IDENTIFIER:
        return kind, tuple(rnd.randrange(0, 2**32) for _ in range(rnd.randint(0, 12)))
    if kind in (SnmpType.NULL, SnmpType.NO_SUCH_OBJECT, SnmpType.NO_SUCH_INSTANCE,
                SnmpType.END_OF_MIB_VIEW):
        return kind, None
    return kind, rnd.choice([0, -1, 1, 2**31, 2**32 - 1, 2**64 - 1, -(2**31),
                             rnd.randrange(-(2**63), 2**64)])


class HostileSession:
    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)

    async def get(self, oids: Sequence[Oid]) -> list[VarBind]:
        return [VarBind(o, *_value(self.rnd)) for o in oids]

    async def walk(self, root: Oid) -> list[VarBind]:
        out = []
        for _ in range(self.rnd.randint(0, 8)):
            suffix = tuple(self.rnd.choice([0, 1, 2, 4, 6, 16, 255, 256, 2**32 - 1])
                           for _ in range(self.rnd.randint(0, 24)))
            out.append(VarBind((*root, *suffix), *_value(self.rnd)))
        return out

    async def close(self) -> None:
        return None


@pytest.mark.parametrize("seed", range(60))
async def test_hostile_values_never_crash_the_poll(seed: int) -> None:
    result = await DevicePoller(HostileSession(seed), list(Profile)).run()
    tracker = RateTracker()
    for n in range(2):  # the second pass exercises rates on garbage counters
        metrics = to_metrics(result.data, tracker, Clock(n + 1, float(n * 60)),
                             Inventory.empty(), "dev")
        assert metrics[0].name == "snmp_device_info"
        for m in metrics:
            assert all(isinstance(v, str) for v in m.tags.values())
            assert all(isinstance(v, int | float) for v in m.fields.values())
