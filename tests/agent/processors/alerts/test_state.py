"""Alert state on crafted streams: pending → firing → resolved, dedup, re-notify, flapping,
silences and maintenance windows. Time is a fake clock: nothing sleeps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from agent.core.model import Event, EventState, Item, Metric, Severity
from inventory.models import DeviceKind
from tests.agent.processors.alerts.helpers import (
    T0,
    FakeClock,
    alert_events,
    alerts_metric,
    campus,
    dev,
    icmp,
    processor,
    raised,
)

INV = campus([dev("sw-1", DeviceKind.ACCESS_SWITCH), dev("sw-2", DeviceKind.ACCESS_SWITCH)])


def test_pending_then_firing_after_for_duration_then_resolved() -> None:
    clock = FakeClock()
    p = processor(INV, clock, rule_names=["device_down_icmp"])  # for_secs: 60
    out = p.process([icmp(INV, "sw-1", False)])
    assert alert_events(out) == []
    assert alerts_metric(out)["critical"] == {"firing": 0, "pending": 1, "suppressed": 0}
    clock.advance(30)
    assert alert_events(p.process([icmp(INV, "sw-1", False)])) == []
    clock.advance(30)
    ev = alert_events(p.process([icmp(INV, "sw-1", False)]))
    assert [(e.state, e.key, e.kind) for e in ev] == [
        (EventState.RAISED, "device_down_icmp:sw-1", "device_down_icmp")]
    assert ev[0].severity is Severity.CRITICAL
    assert ev[0].labels["alertname"] == "device_down_icmp"
    assert ev[0].labels["team"] == "ops" and ev[0].labels["building"] == "teach-a"
    assert "sw-1" in ev[0].summary and "does not answer ping" in ev[0].summary
    clock.advance(30)
    ev = alert_events(p.process([icmp(INV, "sw-1", True)]))
    assert [(e.state, e.key) for e in ev] == [(EventState.RESOLVED, "device_down_icmp:sw-1")]


def test_pending_that_clears_never_notifies() -> None:
    clock = FakeClock()
    p = processor(INV, clock, rule_names=["device_down_icmp"])
    p.process([icmp(INV, "sw-1", False)])
    clock.advance(30)
    assert alert_events(p.process([icmp(INV, "sw-1", True)])) == []
    assert p.book.alerts() == []


def test_all_families_must_fail_for_device_down() -> None:
    clock = FakeClock()
    p = processor(INV, clock, {"overrides": {"device_down_icmp": {"for_secs": 0}}},
                  rule_names=["device_down_icmp"])
    out = p.process([icmp(INV, "sw-1", False, "ipv6"), icmp(INV, "sw-1", True, "ipv4")])
    assert alert_events(out) == []
    out = p.process([icmp(INV, "sw-1", False, "ipv4")])
    assert [e.key for e in raised(alert_events(out))] == ["device_down_icmp:sw-1"]


def test_dedup_and_renotify_interval() -> None:
    clock = FakeClock()
    p = processor(INV, clock, {"overrides": {"device_down_icmp": {"for_secs": 0}},
                               "renotify_secs": 3600}, rule_names=["device_down_icmp"])
    events = []
    for _ in range(240):  # 2 hours, every 30 s, the same failure over and over
        events += alert_events(p.process([icmp(INV, "sw-1", False)] * 3))
        clock.advance(30)
    reasons = [e.labels["notify_reason"] for e in events]
    assert reasons == ["new", "renotify"]  # t=0 and t=3600; the next would be at 7200
    assert {e.key for e in events} == {"device_down_icmp:sw-1"}


def test_flapping_every_tick_for_ten_minutes_is_bounded() -> None:
    clock = FakeClock()
    p = processor(INV, clock, {"overrides": {"device_down_icmp": {"for_secs": 0}}},
                  rule_names=["device_down_icmp"])
    events = []
    for tick in range(20):  # 10 minutes at 30 s: down, up, down, up …
        events += alert_events(p.process([icmp(INV, "sw-1", tick % 2 == 1)]))
        clock.advance(30)
    during = len(events)
    assert during <= 4, [(e.state, e.labels["notify_reason"]) for e in events]
    assert events[-1].labels["notify_reason"] == "flapping"
    assert events[-1].state is EventState.RAISED
    # the input settles (up); once calm for the window, exactly one resolve follows
    for _ in range(40):
        events += alert_events(p.process([icmp(INV, "sw-1", True)]))
        clock.advance(30)
    tail = events[during:]
    assert [(e.state, e.labels["notify_reason"]) for e in tail] == [
        (EventState.RESOLVED, "resolved")]
    # without damping the same input would have sent 20 notifications


def test_silence_mutes_then_notifies_if_still_firing() -> None:
    clock = FakeClock()
    start = dt.datetime.fromtimestamp(T0 / 1e9, tz=dt.UTC)
    cfg = {"overrides": {"device_down_icmp": {"for_secs": 0}},
           "silences": [{"comment": "cabling work", "match": {"device": "sw-1"},
                         "starts_at": start.isoformat(),
                         "ends_at": (start + dt.timedelta(minutes=10)).isoformat()}]}
    p = processor(INV, clock, cfg, rule_names=["device_down_icmp"])
    out = alert_events(p.process([icmp(INV, "sw-1", False), icmp(INV, "sw-2", False)]))
    assert [e.key for e in out] == ["device_down_icmp:sw-2"]  # sw-1 muted, sw-2 not
    clock.advance(300)
    assert alert_events(p.process([icmp(INV, "sw-1", False)])) == []
    clock.advance(301)  # the silence is over and sw-1 is still down
    out = alert_events(p.process([icmp(INV, "sw-1", False)]))
    assert [(e.key, e.state) for e in out] == [("device_down_icmp:sw-1", EventState.RAISED)]


def test_cleared_inside_maintenance_window_is_never_notified() -> None:
    clock = FakeClock()
    local = dt.datetime.fromtimestamp(T0 / 1e9, tz=dt.UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][local.weekday()]
    start = (local - dt.timedelta(minutes=5)).time().replace(second=0, microsecond=0)
    end = (local + dt.timedelta(minutes=30)).time().replace(second=0, microsecond=0)
    cfg = {"overrides": {"device_down_icmp": {"for_secs": 0}},
           "maintenance": [{"name": "weekly reboot", "weekdays": [day], "start": str(start),
                            "end": str(end), "match_regex": {"device": "sw-.*"}}]}
    p = processor(INV, clock, cfg, rule_names=["device_down_icmp"])
    assert alert_events(p.process([icmp(INV, "sw-1", False)])) == []
    clock.advance(600)
    assert alert_events(p.process([icmp(INV, "sw-1", True)])) == []
    assert p.book.alerts() == []


def test_event_facts_deduplicate_and_auto_resolve() -> None:
    clock = FakeClock()
    p = processor(INV, clock, rule_names=["unregistered_device", "rogue_ra"])
    fact = Event("lan:aa:bb:cc:00:00:01", "unregistered_device", EventState.OBSERVED,
                 Severity.WARNING, "unregistered host aa:bb:cc:00:00:01 at 10.1.1.99",
                 labels={"campus": "hn-demo", "interface": "eth0"})
    ra = Event("ra:fe80::1", "rogue_ra", EventState.RAISED, Severity.CRITICAL,
               "rogue RA from fe80::1 advertising 2001:db8:bad::/64",
               labels={"campus": "hn-demo"})
    events = []
    for _ in range(10):  # seen every minute for 10 minutes: one alert each
        events += alert_events(p.process([fact, ra]))
        clock.advance(60)
    assert sorted(e.key for e in events) == [
        "rogue_ra:ra:fe80::1", "unregistered_device:lan:aa:bb:cc:00:00:01"]
    assert all(e.summary.startswith(("unregistered host", "rogue RA")) for e in events)
    # the RA source is gone: the producer resolves it; the host is not seen for an hour
    out = alert_events(p.process([Event("ra:fe80::1", "rogue_ra", EventState.RESOLVED,
                                        Severity.CRITICAL, "gone")]))
    assert [(e.key, e.state) for e in out] == [("rogue_ra:ra:fe80::1", EventState.RESOLVED)]
    clock.advance(3601)
    out = alert_events(p.process([]))
    assert [(e.key, e.state) for e in out] == [
        ("unregistered_device:lan:aa:bb:cc:00:00:01", EventState.RESOLVED)]


def test_own_alert_events_are_not_input() -> None:
    clock = FakeClock()
    p = processor(INV, clock, rule_names=["rogue_ra"])
    ra = Event("ra:1", "rogue_ra", EventState.RAISED, Severity.CRITICAL, "x")
    first = alert_events(p.process([ra]))
    assert len(first) == 1
    assert alert_events(p.process(first)) == first  # passed through, nothing new


def test_alert_series_per_firing_alert_then_zero_once() -> None:
    clock = FakeClock()
    p = processor(INV, clock, {"overrides": {"device_down_icmp": {"for_secs": 0}},
                               "metrics_interval_secs": 30}, rule_names=["device_down_icmp"])

    def series(items: Sequence[Item]) -> list[tuple[str, object]]:
        return [(m.tags["key"], m.fields["firing"]) for m in items
                if isinstance(m, Metric) and m.name == "alert"]

    assert series(p.process([icmp(INV, "sw-1", False)])) == [("device_down_icmp:sw-1", 1)]
    clock.advance(30)
    assert series(p.process([icmp(INV, "sw-1", True)])) == [("device_down_icmp:sw-1", 0)]
    clock.advance(30)
    assert series(p.process([])) == []


def test_notified_alerts_survive_a_restart(tmp_path: Path) -> None:
    """Shutdown saves what was notified; the next run reopens it without paging again, sends
    the resolve when the device is back, and resolves what is never seen again after the
    grace time."""
    from agent.processors.alerts.conditions import EvalContext
    from agent.processors.alerts.plugin import AlertsConfig, AlertsProcessor, load_rules

    clock = FakeClock()
    cfg = AlertsConfig.model_validate({"overrides": {"device_down_icmp": {"for_secs": 0}},
                                       "restore_grace_secs": 300})
    rules = [r for r in load_rules(cfg, tmp_path) if r.name == "device_down_icmp"]
    state = tmp_path / "state.json"

    def start() -> AlertsProcessor:
        return AlertsProcessor(rules, cfg, EvalContext(INV, {}), clock, state_path=state)

    first = start()
    out = alert_events(first.process([icmp(INV, "sw-1", False), icmp(INV, "sw-2", False)]))
    assert len(raised(out)) == 2
    first.close()
    first.close()
    clock.advance(60)
    second = start()
    assert alert_events(second.process([icmp(INV, "sw-1", False)])) == []  # no second page
    clock.advance(30)
    out = alert_events(second.process([icmp(INV, "sw-1", True)]))
    assert [(e.key, e.state) for e in out] == [("device_down_icmp:sw-1", EventState.RESOLVED)]
    clock.advance(300)  # sw-2 was never seen again: the reopened alert expires
    out = alert_events(second.process([]))
    assert [(e.key, e.state) for e in out] == [("device_down_icmp:sw-2", EventState.RESOLVED)]
