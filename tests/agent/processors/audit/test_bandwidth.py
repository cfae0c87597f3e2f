from collections.abc import Sequence

from agent.core.model import Metric
from agent.processors.audit import bandwidth
from agent.processors.audit.model import Indicator, Status
from inventory.models import Device
from tests.agent.processors.audit.crafted import MIN, T0, audit_input, inventory, points, tags


def _get(inds: Sequence[Indicator], id_: str, scope: str = "campus") -> Indicator:
    return next(i for i in inds if i.id == id_ and i.scope == scope)


def test_egress_utilisation_volume_and_saturation():
    inds, charts = bandwidth.analyse(audit_input())
    assert _get(inds, "egress_capacity").value == 1000  # ifHighSpeed of GE0/0/1
    assert _get(inds, "egress_capacity").passed  # a8: >= 1 Gbps
    # 10,000 people → 100 Mbps per 1,000; no cited target (a3 not found)
    per = _get(inds, "egress_mbps_per_1000")
    assert per.value == 100.0 and per.target is None and "a3" in per.note
    # inbound 100, 200, 950, 300 Mbps per minute; outbound 50
    assert _get(inds, "egress_utilization_mean").value == 38.75
    assert _get(inds, "egress_utilization_p95").value == 95.0
    assert _get(inds, "egress_utilization_peak").value == 95.0
    assert _get(inds, "egress_volume").value == (1550 + 200) * 60e6 / 8 / 1e9
    sat = _get(inds, "egress_saturation")
    assert sat.value == 1.0 and len(sat.evidence) == 1
    assert _get(inds, "egress_isp_capacity", "isp:CERNET").value == 1000
    # the inside port GE0/0/2 is not an egress link
    assert [s[0] for s in charts[0].series] == ["gw/GE0/0/1"]


def test_counter_reset_interval_is_skipped():
    inv = inventory()
    pts = [p for p in points(inv) if p.name != "snmp_interface"]
    octets = [0, 75 * 10**8, 10**6, 10**6 + 75 * 10**8]  # reset after the second sample
    for k, o in enumerate(octets):
        pts.append(Metric("snmp_interface", tags(inv, "gw", ifname="GE0/0/1", ifindex="1"),
                          {"in_octets": o, "out_octets": 0, "speed_mbps": 1000}, T0 + k * MIN))
    inds, _ = bandwidth.analyse(audit_input(inv, pts))
    # two good intervals of 1000 Mbps each; the reset interval is not a negative or huge rate
    assert _get(inds, "egress_utilization_peak").value == 100.0
    assert _get(inds, "egress_volume").value == 2 * 75 * 10**8 / 1e9
    assert "1 counter reset" in _get(inds, "egress_capacity").evidence[0].detail


def test_no_egress_link_declared():
    inds, charts = bandwidth.analyse(audit_input(inventory(egress=False), points(inventory())))
    cap = _get(inds, "egress_capacity")
    assert cap.value is None and cap.passed is None and "no egress link declared" in cap.note
    assert _get(inds, "egress_utilization_mean").value is None
    assert charts == []


def test_egress_device_without_identifiable_interface():
    inv = inventory()
    gw = inv.device("gw")
    assert gw is not None
    bare = Device(**{**{f: getattr(gw, f) for f in gw.__slots__}, "labels": {}})
    from inventory.models import Inventory
    inv2 = Inventory.build(inv.campus, inv.buildings, inv.rooms,
                           [bare if d.id == "gw" else d for d in inv.devices])
    pts = [Metric(p.name, {**p.tags, "ifalias": "inside"} if p.name == "snmp_interface" else p.tags,
                  p.fields, p.ts_ns) for p in points(inv)]
    inds, _ = bandwidth.analyse(audit_input(inv2, pts))
    cap = _get(inds, "egress_capacity")
    assert cap.value is None and "no egress interface identified" in cap.note
    assert cap.evidence[0].status is Status.UNKNOWN


def test_contracted_capacity_label_wins_over_port_speed():
    inv = inventory()
    gw = inv.device("gw")
    assert gw is not None
    labels = {**gw.labels, "capacity_mbps": "500"}
    dev = Device(**{**{f: getattr(gw, f) for f in gw.__slots__}, "labels": labels})
    from inventory.models import Inventory
    inv2 = Inventory.build(inv.campus, inv.buildings, inv.rooms,
                           [dev if d.id == "gw" else d for d in inv.devices])
    inds, _ = bandwidth.analyse(audit_input(inv2, points(inv)))
    assert _get(inds, "egress_capacity").value == 500
    assert _get(inds, "egress_capacity").passed is False
    assert _get(inds, "egress_utilization_peak").value == 190.0
