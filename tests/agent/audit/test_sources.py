"""The central-store path: crafted points → VictoriaMetrics (Influx line protocol, as the
influxdb exporter sends them) → PromClient → the same audit as computed locally."""

import time
import urllib.request

import pytest

from agent.audit.cli import central_audits
from agent.audit.engine import run_audit
from agent.audit.inputs import AuditInput, inventory_metrics
from agent.audit.sources import PromClient, SourceError, merge_fields
from agent.lineprotocol import render_many
from tests.agent.audit.crafted import MIN, inventory, points


def test_merge_fields_groups_by_series_and_time():
    rows = [("m", {"a": "1"}, "x", 5, 1.0), ("m", {"a": "1"}, "y", 5, 2.0),
            ("m", {"a": "1"}, "x", 6, 3.0), ("m", {"a": "2"}, "x", 5, 4.0)]
    got = sorted((m.tags["a"], m.ts_ns, dict(m.fields)) for m in merge_fields(rows))
    assert got == [("1", 5, {"x": 1.0, "y": 2.0}), ("1", 6, {"x": 3.0}), ("2", 5, {"x": 4.0})]


def test_unreachable_store_is_a_clear_error():
    with pytest.raises(SourceError, match="cannot reach"):
        PromClient("http://127.0.0.1:9", timeout_s=2).points(0, 10**9)


def _write(url: str, metrics) -> None:
    body = "\n".join(render_many(metrics)).encode()
    req = urllib.request.Request(f"{url}/write", data=body, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status in (200, 204)
    with urllib.request.urlopen(f"{url}/internal/force_flush", timeout=30):
        pass


@pytest.mark.timeout(120)
def test_central_store_gives_the_local_answer(victoria_metrics):
    inv = inventory()
    t0 = (time.time_ns() // 10**9 - 20 * 60) * 10**9  # whole seconds: VM keeps milliseconds
    pts = points(inv, t0)
    _write(victoria_metrics.url, [*pts, *inventory_metrics(inv, t0)])
    start, end = t0 - MIN, t0 + 10 * MIN
    local = run_audit(AuditInput.from_inventory(inv, pts, start, end))
    # the central store: no inventory file, rebuilt from audit_*_info
    central = central_audits(victoria_metrics.url, start, end, ["c1"], 90.0)
    assert [a.campus.code for a in central] == ["c1"]
    c = central[0]
    assert c.campus.students == 9000
    want = {(i.id, i.scope): i.value for i in local.indicators}
    got = {(i.id, i.scope): i.value for i in c.indicators}
    assert set(got) == set(want)
    for key, v in want.items():
        if v is None:
            assert got[key] is None, key
        else:
            assert got[key] == pytest.approx(v, rel=1e-9), key
    assert got[("ipv6_egress_traffic_share", "campus")] == 25.0


@pytest.mark.timeout(120)
def test_counters_fetched_for_egress_devices_only(victoria_metrics) -> None:
    """A day of every switch port is the bulk of the store: only the egress device's
    counter history is read, and only IPv6 rows of the neighbour table."""
    from agent.model import Metric
    from tests.agent.audit.crafted import tags

    inv = inventory()
    t0 = (time.time_ns() // 10**9 - 15 * 60) * 10**9
    extra = [Metric("snmp_interface", tags(inv, "core", ifname="X1", ifindex="1"),
                    {"in_octets": 1, "out_octets": 1}, t0),
             Metric("snmp_fdb", tags(inv, "acc", mac="aa:bb:cc:00:00:01", ip="10.9.9.9"),
                    {"present": 1}, t0),
             Metric("snmp_fdb", tags(inv, "acc", mac="aa:bb:cc:00:00:02", ip="2001:db8::9"),
                    {"present": 1}, t0)]
    _write(victoria_metrics.url, [*points(inv, t0), *extra, *inventory_metrics(inv, t0)])
    got = PromClient(victoria_metrics.url).points(t0 - MIN, t0 + 10 * MIN, ["c1"])
    assert {m.tags["device"] for m in got if m.name == "snmp_interface"} == {"gw"}
    assert [m.tags["ip"] for m in got if m.name == "snmp_fdb"] == ["2001:db8::9"]
