from collections.abc import Sequence

from agent.core.model import Metric
from agent.processors.audit import cellular, wireless
from agent.processors.audit.model import Indicator, Status
from tests.agent.processors.audit.crafted import T0, audit_input, inventory, points, tags


def _get(inds: Sequence[Indicator], id_: str, scope: str = "campus") -> Indicator:
    return next(i for i in inds if i.id == id_ and i.scope == scope)


def test_teaching_place_coverage_and_rooms_without_aps():
    inds = wireless.indicators(audit_input())
    cov = _get(inds, "wifi_teaching_coverage")
    # a-101 covered; a-102 has no AP; a-201's AP is down; a-301's AP has no controller data
    assert (cov.numerator, cov.denominator) == (1, 4)
    assert cov.target is None  # measured value only
    by_room = {e.subject: e for e in cov.evidence}
    assert by_room["a-101"].status is Status.OK
    assert "bands 2.4GHz,5GHz" in by_room["a-101"].detail
    assert "clients 23" in by_room["a-101"].detail
    assert "no AP serves this room" in by_room["a-102"].detail
    assert "ap3 (no data)" in by_room["a-301"].detail
    none = _get(inds, "wifi_rooms_without_working_ap")
    assert none.value == 3
    assert {e.subject for e in none.evidence} == {"a-102", "a-201", "a-301"}
    # the machine room is not a teaching place
    assert "dc-101" not in by_room
    # per building
    ta = _get(inds, "wifi_teaching_coverage", "building:ta")
    assert ta.value == 25.0
    assert _get(inds, "wifi_channel_utilization").value == 30.0
    assert _get(inds, "wifi_survey_rssi").value == -55


def test_ap_with_all_radios_down_is_not_working():
    inv = inventory()
    pts = [p for p in points(inv) if p.name != "wlan_radio"]
    pts.append(Metric("wlan_radio", tags(inv, "ac", ap_name="ap1", ap_mac="00:00:00:00:00:01",
                                         radio="0", band="5GHz"), {"up": 0}, T0))
    cov = _get(wireless.indicators(audit_input(inv, pts)), "wifi_teaching_coverage")
    assert cov.numerator == 0


def test_ap_matched_by_mac_without_room_tag():
    inv = inventory()
    pts = [p for p in points(inv) if p.name not in ("wlan_ap", "wlan_radio")]
    pts.append(Metric("wlan_ap", {"campus": "c1", "device": "ac", "ap_name": "AP-0001",
                                  "ap_mac": "00:00:00:00:00:03"}, {"up": 1, "clients": 4}, T0))
    cov = _get(wireless.indicators(audit_input(inv, pts)), "wifi_teaching_coverage")
    assert {e.subject for e in cov.evidence if e.status is Status.OK} == {"a-301"}


def test_5g_against_signal_upgrade_thresholds():
    inds = cellular.indicators(audit_input())
    dl, ul, share = (_get(inds, i) for i in ("5g_dl_mean", "5g_ul_mean", "5g_sample_compliance"))
    assert dl.value == (9 * 300 + 100) / 10 and dl.passed
    assert ul.value == (9 * 60 + 20) / 10 and ul.passed
    assert share.value == 90.0 and share.passed  # exactly the threshold: >= 90 %
    for i in (dl, ul, share):
        assert i.target is not None and i.target.source.row == "c3'"
    assert _get(inds, "5g_teaching_places_ok").value == 100.0


def test_5g_below_threshold_and_no_samples():
    inv = inventory()
    pts = [p for p in points(inv) if p.name != "cellular_5g"]
    pts += [Metric("cellular_5g", tags(inv, "cpe"), {"dl_mbps": 199.9, "ul_mbps": 50.0},
                   T0 + k) for k in range(3)]
    inds = cellular.indicators(audit_input(inv, pts))
    assert _get(inds, "5g_dl_mean").passed is False
    assert _get(inds, "5g_sample_compliance").value == 0.0
    empty = cellular.indicators(audit_input(inv, []))
    assert all(i.value is None and i.passed is None for i in empty)


def test_teaching_place_table() -> None:
    from agent.processors.audit.rooms import teaching_places

    t = teaching_places(audit_input())
    rows = {r[1]: r for r in t.rows}
    assert set(rows) == {"A101 (a-101)", "A102 (a-102)", "A201 Lab (a-201)", "Library (a-301)"}
    a101 = rows["A101 (a-101)"]
    assert a101[3] == "ap1: up" and a101[4] == "2.4GHz,5GHz" and a101[9] == "yes"
    assert a101[8].startswith("10 samples, DL 280.0 / UL 56.0 Mbps, 90.0% meet")
    assert rows["A102 (a-102)"][3] == "— none" and rows["A102 (a-102)"][9] == "NO"
    assert rows["Library (a-301)"][3] == "ap3: no data"


def test_ap_no_longer_listed_by_its_controller_drops_out() -> None:
    """Only the controller's newest table counts (Ruijie lists online APs only, e4)."""
    inv = inventory()
    pts = points(inv)
    later = [Metric("wlan_ap", tags(inv, "ac", ap_name="ap2", ap_mac="00:00:00:00:00:02",
                                    room="a-201", building="ta", ap_state="down"),
                    {"up": 0}, T0 + 60 * 10**9)]
    cov = _get(wireless.indicators(audit_input(inv, [*pts, *later])), "wifi_teaching_coverage")
    by_room = {e.subject: e for e in cov.evidence}
    # ap1 was up in the older table only: no longer counted; a-101 now shows it as no data
    assert cov.numerator == 0
    assert "ap1 (no data)" in by_room["a-101"].detail


def test_5g_teaching_places_per_building() -> None:
    inds = cellular.indicators(audit_input())
    assert _get(inds, "5g_teaching_places_ok", "building:ta").value == 100.0
    assert [i.scope for i in inds if i.id == "5g_teaching_places_ok"] == ["campus",
                                                                         "building:ta"]
