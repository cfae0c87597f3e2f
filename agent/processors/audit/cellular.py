"""5G in teaching places against the 信号升格 thresholds (docs/standards.md#c3p): downlink mean
>= 200 Mbps, uplink mean >= 40 Mbps, and >= 90% of samples meeting the rate standard.

Every `cellular_5g` sample of the window counts (from CPEs or sensors); a sample meets the rate
standard when both its downlink and uplink meet the per-sample thresholds.
"""

from __future__ import annotations

from collections import defaultdict

from agent.processors.audit import standards as S
from agent.processors.audit.counters import share
from agent.processors.audit.inputs import AuditInput, num
from agent.processors.audit.model import Evidence, Indicator, Status

FAMILY = "5g"


def _ok(dl: float, ul: float) -> bool:
    return dl >= S.G5_DL_SAMPLE_MBPS and ul >= S.G5_UL_SAMPLE_MBPS


def samples_by_room(inp: AuditInput) -> tuple[dict[str, list[tuple[float, float]]],
                                                dict[str, str]]:
    """(DL, UL) samples per room (the device id when it has no room), and their buildings."""
    per_room: dict[str, list[tuple[float, float]]] = defaultdict(list)
    building: dict[str, str] = {}
    for pts in inp.series("cellular_5g").values():
        for p in pts:
            dl, ul = num(p, "dl_mbps"), num(p, "ul_mbps")
            if dl is None or ul is None:
                continue
            where = p.tags.get("room") or p.tags.get("device") or "?"
            per_room[where].append((dl, ul))
            building[where] = p.tags.get("building", "")
    return dict(per_room), building


def summary(samples: list[tuple[float, float]]) -> str:
    n = len(samples)
    dl = sum(s[0] for s in samples) / n
    ul = sum(s[1] for s in samples) / n
    good = share(sum(_ok(*s) for s in samples), n) or 0.0
    return f"{n} samples, DL {dl:.1f} / UL {ul:.1f} Mbps, {good:.1f}% meet"


def indicators(inp: AuditInput) -> list[Indicator]:
    per_room, building = samples_by_room(inp)
    samples = [s for lst in per_room.values() for s in lst]
    teaching = {r.id for r in inp.rooms if r.kind.is_teaching_place}
    ev = []
    for where, lst in sorted(per_room.items()):
        dl = sum(s[0] for s in lst) / len(lst)
        ul = sum(s[1] for s in lst) / len(lst)
        good = share(sum(_ok(*s) for s in lst), len(lst)) or 0.0
        room_ok = (S.G5_DL_MEAN_MBPS.met_by(dl) and S.G5_UL_MEAN_MBPS.met_by(ul)
                   and S.G5_SAMPLE_SHARE.met_by(good))
        tag = "" if where in teaching else " (not a teaching place)"
        ev.append(Evidence(where, "room", Status.OK if room_ok else Status.FAIL,
                           f"{len(lst)} samples, DL mean {dl:.1f} Mbps, UL mean {ul:.1f} Mbps, "
                           f"{good:.1f}% of samples meet DL>=200/UL>=40{tag}",
                           building.get(where, "")))
    n = len(samples)
    note = "" if n else "no cellular_5g samples in the window"
    good_n = sum(_ok(*s) for s in samples)
    dl_mean = sum(s[0] for s in samples) / n if n else None
    ul_mean = sum(s[1] for s in samples) / n if n else None
    measured_teaching = [e for e in ev if e.subject in teaching]
    return [
        Indicator("5g_dl_mean", FAMILY, "5G下行平均速率", "5G downlink mean", dl_mean, "Mbps",
                  target=S.G5_DL_MEAN_MBPS, numerator=sum(s[0] for s in samples),
                  denominator=n, evidence=tuple(ev), note=note),
        Indicator("5g_ul_mean", FAMILY, "5G上行平均速率", "5G uplink mean", ul_mean, "Mbps",
                  target=S.G5_UL_MEAN_MBPS, numerator=sum(s[1] for s in samples),
                  denominator=n, evidence=tuple(ev), note=note),
        Indicator("5g_sample_compliance", FAMILY, "5G达标样本占比",
                  "5G samples meeting DL>=200 / UL>=40 Mbps", share(good_n, n), "%",
                  target=S.G5_SAMPLE_SHARE, numerator=good_n, denominator=n, counted="samples",
                  evidence=tuple(ev), note=note),
        *_places_ok(measured_teaching, "campus", ""),
        *(ind for b in sorted({e.building for e in measured_teaching})
          for ind in _places_ok([e for e in measured_teaching if e.building == b],
                                f"building:{b}", inp.building_name(b))),
    ]


def _places_ok(measured: list[Evidence], scope: str, building: str) -> list[Indicator]:
    ok = sum(e.status is Status.OK for e in measured)
    zh, en = (f"（{building}）", f" ({building})") if building else ("", "")
    return [Indicator(
        "5g_teaching_places_ok", FAMILY, "5G测量达标的教学场所比例" + zh,
        "Measured teaching places meeting all 信号升格 thresholds" + en,
        share(ok, len(measured)), "%", scope=scope, numerator=ok, denominator=len(measured),
        evidence=tuple(measured), counted="rooms",
        note="share of teaching places with 5G readings; per-room thresholds from c3', no "
             "verified coverage target")]
