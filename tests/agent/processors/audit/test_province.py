import pytest

from agent.processors.audit import standards as S
from agent.processors.audit.model import CampusAudit, CampusInfo, Indicator
from agent.processors.audit.province import roll_up


def _audit(code: str, *inds: Indicator) -> CampusAudit:
    return CampusAudit(CampusInfo(code, code), 0, 1, inds)


def _ind(id_: str, value: float | None, unit: str = "%", num: float | None = None,
         den: float | None = None, scope: str = "campus") -> Indicator:
    return Indicator(id_, "x", id_, id_, value, unit, scope=scope, numerator=num,
                     denominator=den, target=S.IPV6_EGRESS_SHARE_2025 if unit == "%" else None)


def test_shares_are_reaggregated_not_averaged() -> None:
    a = _audit("a", _ind("share", 50.0, num=1, den=2), _ind("egress_utilization_peak", 40.0),
               _ind("cap", 1000.0, unit="Mbps"), _ind("cap", 300.0, unit="Mbps", scope="isp:X"),
               _ind("wifi_teaching_coverage", 0.0, num=0, den=1, scope="building:b1"))
    b = _audit("b", _ind("share", 10.0, num=1, den=10), _ind("egress_utilization_peak", 90.0),
               _ind("cap", None, unit="Mbps"), _ind("cap", 200.0, unit="Mbps", scope="isp:X"))
    got = {(i.id, i.scope): i for i in roll_up([a, b])}
    assert got[("share", "campus")].value == pytest.approx(100 * 2 / 12)  # not (50 + 10) / 2
    assert got[("share", "campus")].target is S.IPV6_EGRESS_SHARE_2025
    assert got[("egress_utilization_peak", "campus")].value == 90.0
    assert got[("cap", "campus")].value == 1000.0  # a campus without data adds nothing
    assert got[("cap", "isp:X")].value == 500.0
    assert ("wifi_teaching_coverage", "building:b1") not in got  # buildings stay per campus


def test_mean_without_weights_is_not_combined() -> None:
    a = _audit("a", _ind("wifi_channel_utilization", 30.0))
    b = _audit("b", _ind("wifi_channel_utilization", 50.0))
    assert roll_up([a, b])[0].value is None
