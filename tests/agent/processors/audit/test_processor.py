from agent.core.model import Event, EventState, Metric, Severity
from agent.processors.audit.inputs import inventories_from_points, inventory_metrics
from agent.processors.audit.plugin import SPEC, AuditConfig, AuditProcessor
from tests.agent.processors.audit.crafted import MIN, T0, inventory, points


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_emits_every_interval_and_passes_items_through():
    inv = inventory()
    clock = Clock()
    proc = AuditProcessor(AuditConfig(emit_interval_secs=60, window_secs=3600), inv, clock,
                          wall_ns=lambda: T0 + 5 * MIN)
    pts = points(inv)
    ev = Event("k", "device_down", EventState.RAISED, Severity.WARNING, "x")
    out = proc.process([*pts, ev])
    assert list(out) == [*pts, ev]  # nothing due yet, items untouched
    clock.t = 61
    out = proc.process([])
    audit = [m for m in out if isinstance(m, Metric) and m.name == "audit_indicator"]
    by_id = {(m.tags["indicator"], m.tags["scope"]): m for m in audit}
    share = by_id[("ipv6_egress_traffic_share", "campus")]
    assert share.fields == {"value": 25.0, "target": 27.0, "pass": 0}
    assert share.tags["source"] == "standards b8" and share.tags["campus"] == "c1"
    # an indicator without a cited target carries neither target nor pass
    per = by_id[("egress_mbps_per_1000", "campus")]
    assert per.fields == {"value": 100.0} and "source" not in per.tags
    assert by_id[("egress_utilization_mean", "campus")].fields["value"] == 38.75
    assert by_id[("localization_iot", "campus")].fields["unknown"] == 2
    names = {m.name for m in out if isinstance(m, Metric)}
    assert {"audit_campus_info", "audit_room_info", "audit_device_info"} <= names
    clock.t = 90
    assert list(proc.process([])) == []  # next emission one interval later
    proc.close()
    proc.close()


def test_window_drops_old_counter_samples():
    inv = inventory()
    clock = Clock()
    # window of 2.5 minutes ending at the last sample: only the last 2 intervals remain
    proc = AuditProcessor(AuditConfig(emit_interval_secs=1, window_secs=150), inv, clock,
                          wall_ns=lambda: T0 + 4 * MIN)
    proc.process(points(inv))
    clock.t = 2
    out = proc.process([])
    by_id = {m.tags["indicator"]: m for m in out
             if isinstance(m, Metric) and m.name == "audit_indicator" and
             m.tags["scope"] == "campus"}
    assert by_id["egress_utilization_mean"].fields["value"] == (950 + 300) / 2 / 10


def test_inventory_round_trip_through_series():
    inv = inventory()
    rebuilt = inventories_from_points(inventory_metrics(inv, T0))["c1"]
    assert rebuilt.campus.students == 9000 and rebuilt.campus.staff == 1000
    assert [r.id for r in rebuilt.rooms] == sorted(r.id for r in inv.rooms)
    gw = next(d for d in rebuilt.devices if d.id == "gw")
    assert gw.roles == frozenset({"egress"})
    assert gw.labels["egress_interfaces"] == "GE0/0/1=CERNET"
    cam = next(d for d in rebuilt.devices if d.id == "cam")
    assert (cam.ipv6, cam.mac, cam.room) == ("2001:db8::10", "44:19:b6:00:00:01", "a-101")


def test_spec_example_is_a_valid_config():
    cfg = SPEC.config_model.model_validate(
        {k: v for k, v in SPEC.example.items() if k != "type"})
    assert isinstance(cfg, AuditConfig)


def test_facts_older_than_the_window_expire() -> None:
    inv = inventory()
    clock = Clock()
    now = [T0 + 5 * MIN]
    proc = AuditProcessor(AuditConfig(emit_interval_secs=1, window_secs=600), inv, clock,
                          wall_ns=lambda: now[0])
    proc.process(points(inv))
    assert proc.snapshot_input().latest("snmp_ipv6")
    now[0] = T0 + 3600 * 10**9  # an hour later, nothing refreshed
    inp = proc.snapshot_input()
    assert inp.latest("snmp_ipv6") == [] and inp.series("snmp_interface") == {}
