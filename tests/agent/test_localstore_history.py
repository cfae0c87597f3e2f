"""The local store over months: raw points for the configured window, 5-minute roll-ups
after, events and audit results kept raw for 180 days, all within the size bound."""

from __future__ import annotations

import time
from pathlib import Path

from agent.core.model import Metric
from agent.framework.localstore import LocalStore

MIN = 60 * 10**9
HOUR = 60 * MIN
DAY = 24 * HOUR


def test_old_raw_points_become_five_minute_rollups(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s.db", retention_hours=1, max_bytes=50 * 2**20)
    now = time.time_ns() // (5 * MIN) * (5 * MIN)
    start = now - 3 * HOUR
    # interface counters are rolled up on egress devices (the reports read no others)
    tags = {"device": "sw1", "ifname": "ge1", "roles": "egress"}
    pts = [Metric("snmp_interface", tags, {"in_octets": 1000 * i, "in_bps": float(i % 5),
                                           "oper_status": 1, "ifdescr_text": f"t{i}"},
                  start + i * MIN) for i in range(180)]
    store.write(pts)
    store.prune(now_ns=now)
    got = store.query("snmp_interface")
    old = [m for m in got if m.ts_ns < now - HOUR]
    recent = [m for m in got if m.ts_ns >= now - HOUR]
    assert [m.ts_ns for m in recent] == [p.ts_ns for p in pts if p.ts_ns >= now - HOUR]
    # the two old hours as 24 five-minute rows: counters keep their last value (deltas and
    # rates still add up), floats their average and max, text the last value
    assert len(old) == 24
    first = old[0]
    assert first.ts_ns == start + 4 * MIN  # the bucket's last sample
    assert first.fields["in_octets"] == 4000
    assert first.fields["in_bps"] == 2.0 and first.fields["in_bps_max"] == 4.0
    assert first.fields["oper_status"] == 1 and first.fields["ifdescr_text"] == "t4"
    assert old[-1].fields["in_octets"] == 1000 * 119
    assert first.tags == tags
    store.close()


def test_events_and_audits_are_kept_raw_for_180_days(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s.db", retention_hours=24, max_bytes=50 * 2**20)
    now = time.time_ns()
    store.write([
        Metric("event", {"key": "sw1:down", "state": "raised"}, {"summary": "sw1 down"},
               now - 170 * DAY),
        Metric("audit_indicator", {"indicator": "ipv6"}, {"value": 87.5}, now - 170 * DAY),
        Metric("snmp_cpu", {"device": "sw1"}, {"usage_percent": 5.0}, now - 170 * DAY),
        Metric("event", {"key": "sw1:down", "state": "raised"}, {"summary": "too old"},
               now - 200 * DAY),
    ])
    store.prune(now_ns=now)
    assert [m.fields["summary"] for m in store.query("event")] == ["sw1 down"]
    assert [m.fields["value"] for m in store.query("audit_indicator")] == [87.5]
    # a raw metric past its window survives as its 5-minute roll-up
    cpu = store.query("snmp_cpu")
    assert [m.fields["usage_percent"] for m in cpu] == [5.0] and "usage_percent_max" in (
        cpu[0].fields)
    store.close()


def test_rollups_and_history_stay_within_the_size_bound(tmp_path: Path) -> None:
    bound = 3 * 2**20
    store = LocalStore(tmp_path / "s.db", retention_hours=1, max_bytes=bound)
    now = time.time_ns() // (5 * MIN) * (5 * MIN)
    rows = [(Metric("snmp_interface", {"device": f"sw{d}", "ifname": "ge1"},
                    {"in_octets": b * 1000 + d, "in_bps": 1.5 * b, "in_bps_max": 3.0 * b},
                    now - (2000 - b) * 5 * MIN), now - (2000 - b) * 5 * MIN)
            for b in range(2000) for d in range(20)]
    store.write_rollups(rows)
    store.write([Metric("event", {"key": f"k{i}"}, {"summary": "x" * 200}, now - i * MIN)
                 for i in range(2000)])
    store.prune(now_ns=now)
    size = store._size()  # the bound is on live pages
    assert size <= bound
    kept = store.query("snmp_interface", {"device": "sw3"})
    assert kept and kept[-1].fields["in_octets"] == 1999 * 1000 + 3  # the newest survive
    assert store.query("event")  # history goes last
    store.close()
