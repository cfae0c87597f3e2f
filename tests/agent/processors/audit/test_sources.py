"""The central-store path: crafted points → VictoriaMetrics (Influx line protocol, as the
influxdb exporter sends them) → PromClient → the same audit as computed locally."""

import time
import urllib.request

import pytest

from agent.core.lineprotocol import render_many
from agent.processors.audit.cli import central_audits
from agent.processors.audit.engine import run_audit
from agent.processors.audit.inputs import AuditInput, inventory_metrics
from agent.processors.audit.sources import PromClient, SourceError, merge_fields
from tests.agent.processors.audit.crafted import MIN, inventory, points


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
    from agent.core.model import Metric
    from tests.agent.processors.audit.crafted import tags

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


@pytest.mark.timeout(120)
def test_prometheus_names_give_the_same_answer(victoria_metrics) -> None:
    """As a Prometheus that scraped our exporter stores them (`_total` counters, `*_info`
    without a field suffix, exporters/prometheus/naming.py), loaded through VictoriaMetrics'
    Prometheus import; campus renamed so it does not mix with the other tests' data."""
    from agent.core.model import MetricKind
    from exporters.prometheus.naming import family_for, labels_for, sample_value

    inv = inventory()
    t0 = (time.time_ns() // 10**9 - 25 * 60) * 10**9
    pts = points(inv, t0)
    lines = []
    for m in [*pts, *inventory_metrics(inv, t0)]:
        counter = m.name in ("snmp_interface", "snmp_ip_traffic")
        m2 = type(m)(m.name, {**m.tags, "campus": "c1p"}, m.fields, m.ts_ns,
                     MetricKind.COUNTER if counter else m.kind)
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(labels_for(m2).items()))
        for f, v in m2.fields.items():
            value = sample_value(v)
            if value is not None:
                fam = family_for(m2, f, v)
                lines.append(f"{fam.sample_name}{{{labels}}} {value!r} {m2.ts_ns // 10**6}")
    assert any(line.startswith("snmp_interface_in_octets_total{") for line in lines)
    assert any(line.startswith("snmp_device_info{") for line in lines)
    req = urllib.request.Request(f"{victoria_metrics.url}/api/v1/import/prometheus",
                                 data="\n".join(lines).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=30):
        pass
    with urllib.request.urlopen(f"{victoria_metrics.url}/internal/force_flush", timeout=30):
        pass
    start, end = t0 - MIN, t0 + 10 * MIN
    local = run_audit(AuditInput.from_inventory(inv, pts, start, end))
    central = central_audits(victoria_metrics.url, start, end, ["c1p"], 90.0)[0]
    want = {(i.id, i.scope): i.value for i in local.indicators}
    got = {(i.id, i.scope): i.value for i in central.indicators}
    assert got == pytest.approx(want)


@pytest.mark.timeout(120)
def test_report_for_an_earlier_period(victoria_metrics, tmp_path) -> None:
    """`--end` moves the window: the same data gives the same figures later on."""
    import json as _json

    from agent.app.cli import main

    inv = inventory()
    t0 = (time.time_ns() // 10**9 - 50 * 60) * 10**9
    pts = [type(m)(m.name, {**m.tags, "campus": "c1e"}, m.fields, m.ts_ns)
           for m in [*points(inv, t0), *inventory_metrics(inv, t0)]]
    _write(victoria_metrics.url, pts)
    end = str((t0 + 10 * MIN) / 1e9)
    assert main(["report", "--from", victoria_metrics.url, "--campus", "c1e", "--end", end,
                 "--window", "15m", "--out", str(tmp_path)]) == 0
    doc = _json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    share = next(i for i in doc["campuses"][0]["indicators"]
                 if i["indicator"] == "ipv6_egress_traffic_share")
    assert share["value"] == 25.0
    # the window that ends before the data has none of it
    assert main(["report", "--from", victoria_metrics.url, "--campus", "c1e", "--end",
                 str((t0 - 20 * MIN) / 1e9), "--window", "15m",
                 "--out", str(tmp_path / "before")]) == 0
    before = _json.loads((tmp_path / "before" / "report.json").read_text(encoding="utf-8"))
    assert before["campuses"] == []
