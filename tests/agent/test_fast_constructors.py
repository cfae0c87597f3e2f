"""The slot-filling constructors of the per-target hot paths build exactly what the dataclass
constructors build: `make_probe_result` (dualstack's ICMP burst) and the scheduler's
`_ok_outcome` (the batch path's PollOutcome of a target that answered)."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from agent.core.model import ErrorType, ProbeResult, make_probe_result
from agent.core.plugin import Target
from agent.framework.scheduler import PollOutcome, _ok_outcome


@pytest.mark.parametrize("error", [None, *ErrorType])
def test_make_probe_result_is_the_dataclass_constructor(error: ErrorType | None) -> None:
    args = ("icmp", error is None, 0.25, {"family": "ipv4", "address": "10.0.0.1"},
            {"connect": 0.1}, error, "" if error is None else "why", {"loss_ratio": 0.5}, 11)
    a = make_probe_result(*args)
    b = ProbeResult(*args)
    assert a == b and type(a) is ProbeResult and repr(a) == repr(b)
    assert a.to_metric() == b.to_metric()
    assert pickle.loads(pickle.dumps(a)) == b
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.ok = False  # type: ignore[misc]


def test_ok_outcome_is_the_dataclass_constructor() -> None:
    t = Target(id="t1", ipv4="10.0.0.1")
    a = _ok_outcome(t, 0.5, 123)
    b = PollOutcome(t, True, None, 0.5, 123, "")
    assert a == b and type(a) is PollOutcome and repr(a) == repr(b)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.ok = False  # type: ignore[misc]
