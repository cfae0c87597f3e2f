"""Properties of the alert state machine over arbitrary input histories (hypothesis): per key a
resolve only ever follows a raise, never two resolves in a row; notifications stay bounded
whatever the input does; and once every input is good for long enough, everything that was
raised has been resolved and no alert is left."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.core.model import EventState
from inventory.models import DeviceKind
from tests.agent.processors.alerts.helpers import (
    FakeClock,
    alert_events,
    campus,
    dev,
    icmp,
    processor,
)

INV = campus([dev("core", DeviceKind.CORE_SWITCH),
              dev("acc", DeviceKind.ACCESS_SWITCH, parent="core", port="GE1/0/1"),
              dev("cam", DeviceKind.CAMERA, parent="acc", port="GE0/0/1")])
DEVICES = ("core", "acc", "cam")

steps = st.lists(
    st.tuples(st.sampled_from(DEVICES), st.booleans(), st.integers(min_value=0, max_value=90)),
    min_size=1, max_size=120)


@settings(max_examples=80, deadline=None)
@given(history=steps, for_secs=st.sampled_from([0, 30, 60]))
def test_notifications_are_well_formed_and_end_resolved(
        history: list[tuple[str, bool, int]], for_secs: int) -> None:
    clock = FakeClock()
    p = processor(INV, clock, {"overrides": {"device_down_icmp": {"for_secs": for_secs}},
                               "renotify_secs": 3600}, rule_names=["device_down_icmp"])
    events = []
    for device, ok, secs in history:
        events += alert_events(p.process([icmp(INV, device, ok)]))
        clock.advance(secs)
    for _ in range(30):  # all good, long enough for flapping to calm and grace times to pass
        for device in DEVICES:
            events += alert_events(p.process([icmp(INV, device, True)]))
        clock.advance(60)
    last: dict[str, EventState] = {}
    for e in events:
        if e.state is EventState.RESOLVED:
            assert last.get(e.key) is EventState.RAISED, (e.key, [x.state for x in events])
        last[e.key] = e.state
    assert all(s is EventState.RESOLVED for s in last.values())
    assert p.book.alerts() == []
    # bounded: per key at most new + flapping + one renotify per hour of history, + resolves
    hours = sum(s for _, _, s in history) / 3600 + 1
    for key in last:
        raised = sum(1 for e in events if e.key == key and e.state is EventState.RAISED)
        assert raised <= 4 + 2 * hours, (key, raised)
