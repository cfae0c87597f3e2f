"""Outbound bandwidth: egress links, capacity, utilisation (mean, 95th percentile, peak), volume,
per ISP, Mbps per 1,000 students and staff, saturation periods.

Rates come from the IF-MIB octet counters (`snmp_interface` in/out_octets) of the egress links
(egress.py), interval by interval; an interval whose counter went down is skipped (reset).
Utilisation of an interval is the busier direction's rate over the capacity (full duplex). The
saturation threshold is agent configuration, not a cited target. Only the total capacity has a
cited figure (a8: 高校接入带宽 >= 1 Gbps); per-student bandwidth was not found (a3).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from agent.processors.audit import standards as S
from agent.processors.audit.counters import Interval, deltas, infer_bits, percentile
from agent.processors.audit.egress import EgressLink, egress_links
from agent.processors.audit.inputs import AuditInput, num
from agent.processors.audit.model import Chart, Evidence, Indicator, Status

FAMILY = "bandwidth"
DEFAULT_SATURATION_PERCENT = 90.0


@dataclass(frozen=True, slots=True)
class LinkStats:
    link: EgressLink
    in_bytes: float
    out_bytes: float
    seconds: float
    util: tuple[tuple[int, int, float], ...]  # (start_ns, end_ns, percent) per interval
    mean_in_mbps: float | None
    mean_out_mbps: float | None
    resets: int

    @property
    def mean_util(self) -> float | None:
        if not self.link.capacity_mbps or self.mean_in_mbps is None or self.mean_out_mbps is None:
            return None
        return 100.0 * max(self.mean_in_mbps, self.mean_out_mbps) / self.link.capacity_mbps

    @property
    def p95_util(self) -> float | None:
        return percentile([u for _, _, u in self.util], 95)

    @property
    def peak_util(self) -> float | None:
        return max((u for _, _, u in self.util), default=None)


def _rates(ivs: tuple[Interval, ...]) -> dict[tuple[int, int], float]:
    return {(i.start_ns, i.end_ns): i.delta * 8 / i.seconds / 1e6 for i in ivs}


def link_stats(inp: AuditInput, link: EgressLink) -> LinkStats:
    pts = []
    for key, series in inp.series("snmp_interface").items():
        t = dict(key)
        if t.get("device") == link.device.id and t.get("ifname") == link.ifname:
            pts.extend(series)
    pts.sort(key=lambda p: p.ts_ns)
    ins = [(p.ts_ns, v) for p in pts if (v := num(p, "in_octets")) is not None]
    outs = [(p.ts_ns, v) for p in pts if (v := num(p, "out_octets")) is not None]
    # snmp_interface octets are ifHC* (64-bit) where the device has them, else 32-bit: the
    # width is known only once a value exceeds Counter32 (a decrease before that is a reset)
    din = deltas(ins, infer_bits([v for _, v in ins]))
    dout = deltas(outs, infer_bits([v for _, v in outs]))
    rin, rout = _rates(din.intervals), _rates(dout.intervals)
    util = []
    if link.capacity_mbps:
        for span in sorted(set(rin) & set(rout)):
            util.append((span[0], span[1],
                         100.0 * max(rin[span], rout[span]) / link.capacity_mbps))
    secs_in = sum(i.seconds for i in din.intervals)
    secs_out = sum(i.seconds for i in dout.intervals)
    return LinkStats(
        link, din.total, dout.total, max(secs_in, secs_out), tuple(util),
        din.total * 8 / secs_in / 1e6 if secs_in else None,
        dout.total * 8 / secs_out / 1e6 if secs_out else None,
        max(din.resets, dout.resets))


def saturation_periods(stats: LinkStats, threshold: float) -> list[tuple[int, int, float]]:
    """Runs of consecutive intervals at or above the threshold: (start, end, peak %)."""
    runs: list[tuple[int, int, float]] = []
    for s, e, u in stats.util:
        if u < threshold:
            continue
        if runs and runs[-1][1] == s:
            runs[-1] = (runs[-1][0], e, max(runs[-1][2], u))
        else:
            runs.append((s, e, u))
    return runs


def _fmt_ts(ns: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _opt(v: float | None, fmt: str = ".1f") -> str:
    return "n/a" if v is None else format(v, fmt)


def analyse(inp: AuditInput, saturation_percent: float = DEFAULT_SATURATION_PERCENT
            ) -> tuple[list[Indicator], list[Chart]]:
    links, unidentified = egress_links(inp)
    stats = [link_stats(inp, link) for link in links]
    ev: list[Evidence] = []
    sat_ev: list[Evidence] = []
    for st in stats:
        lk = st.link
        ev.append(Evidence(
            lk.id, "link", Status.INFO,
            f"ISP {lk.isp}; capacity {_opt(lk.capacity_mbps, 'g')} Mbps ({lk.capacity_rule}); "
            f"mean in/out {_opt(st.mean_in_mbps)}/{_opt(st.mean_out_mbps)} Mbps; utilisation "
            f"mean {_opt(st.mean_util)}%, p95 {_opt(st.p95_util)}%, peak {_opt(st.peak_util)}%; "
            f"volume in {st.in_bytes / 1e9:.3f} GB, out {st.out_bytes / 1e9:.3f} GB"
            + (f"; {st.resets} counter reset(s) skipped" if st.resets else ""),
            lk.device.building or "", lk.rule))
        for s, e, peak in saturation_periods(st, saturation_percent):
            sat_ev.append(Evidence(lk.id, "link", Status.FAIL,
                                   f"{_fmt_ts(s)} – {_fmt_ts(e)}, peak {peak:.1f}%",
                                   lk.device.building or ""))
    for d in unidentified:
        ev.append(Evidence(d.id, "device", Status.UNKNOWN,
                           "egress device: no egress interface identified (set label "
                           "egress_interfaces or an uplink ifAlias)", d.building or ""))
    no_links = "" if links else (
        "no egress link declared in the inventory (role egress)" if not unidentified
        else "egress device(s) declared but no egress interface identified")
    caps = [st.link.capacity_mbps for st in stats if st.link.capacity_mbps]
    capacity = sum(caps) if caps else None
    people = inp.campus.students + inp.campus.staff
    total_bytes = sum(st.in_bytes + st.out_bytes for st in stats)
    capacity_secs = sum((st.link.capacity_mbps or 0) * st.seconds for st in stats)
    busy_bits = sum(max(st.in_bytes, st.out_bytes) * 8 / 1e6 for st in stats
                    if st.link.capacity_mbps)
    p95s = [v for st in stats if (v := st.p95_util) is not None]
    peaks = [v for st in stats if (v := st.peak_util) is not None]
    sat_secs = sum((e - s) / 1e9 for s, e, _ in
                   (r for st in stats for r in saturation_periods(st, saturation_percent)))
    evt = tuple(ev)
    out = [
        Indicator("egress_capacity", FAMILY, "出口带宽（合计）", "Egress capacity (total)",
                  capacity, "Mbps", target=S.EGRESS_CAPACITY_HIGHER_ED_MBPS, evidence=evt,
                  note=no_links or "a8 is the 2015 per-school access bandwidth for 高校"),
        Indicator("egress_mbps_per_1000", FAMILY, "每千名师生出口带宽",
                  "Egress Mbps per 1,000 students and staff",
                  capacity * 1000 / people if capacity and people else None, "Mbps/1000",
                  numerator=capacity, denominator=people / 1000 if people else None,
                  note=S.NO_TARGET_BANDWIDTH_PER_PERSON
                  + ("" if people else "; no student/staff counts in the inventory")),
        Indicator("egress_utilization_mean", FAMILY, "出口平均利用率",
                  "Egress utilisation, mean (busier direction)",
                  100.0 * busy_bits / capacity_secs if capacity_secs else None, "%",
                  numerator=busy_bits, denominator=capacity_secs, evidence=evt,
                  note=no_links or S.NO_TARGET_GENERIC),
        Indicator("egress_utilization_p95", FAMILY, "出口利用率95百分位（最忙链路）",
                  "Egress utilisation, 95th percentile (busiest link)",
                  max(p95s) if p95s else None, "%", evidence=evt,
                  note=no_links or S.NO_TARGET_GENERIC),
        Indicator("egress_utilization_peak", FAMILY, "出口利用率峰值",
                  "Egress utilisation, peak", max(peaks) if peaks else None, "%", evidence=evt,
                  note=no_links or S.NO_TARGET_GENERIC),
        Indicator("egress_volume", FAMILY, "出口流量（入+出）", "Egress volume (in + out)",
                  total_bytes / 1e9 if stats else None, "GB", evidence=evt,
                  note=no_links or S.NO_TARGET_GENERIC),
        Indicator("egress_saturation", FAMILY, f"出口饱和时长（利用率≥{saturation_percent:g}%）",
                  f"Egress saturation time (utilisation >= {saturation_percent:g}%)",
                  sat_secs / 60 if stats else None, "min", evidence=tuple(sat_ev),
                  note=f"threshold {saturation_percent:g}% is agent configuration, not a "
                       "cited target"),
    ]
    by_isp: dict[str, list[LinkStats]] = defaultdict(list)
    for st in stats:
        by_isp[st.link.isp].append(st)
    for isp, lst in sorted(by_isp.items()):
        cap = sum(st.link.capacity_mbps or 0 for st in lst)
        out.append(Indicator(
            "egress_isp_capacity", FAMILY, f"出口带宽（{isp}）", f"Egress capacity ({isp})",
            cap or None, "Mbps", scope=f"isp:{isp}",
            evidence=tuple(e for e in ev if any(e.subject == st.link.id for st in lst)),
            note=S.NO_TARGET_GENERIC))
        out.append(Indicator(
            "egress_isp_volume", FAMILY, f"出口流量（{isp}）", f"Egress volume ({isp})",
            sum(st.in_bytes + st.out_bytes for st in lst) / 1e9, "GB", scope=f"isp:{isp}",
            note=S.NO_TARGET_GENERIC))
    chart = Chart("egress_utilization", "出口利用率", "Egress utilisation", "%",
                  tuple((st.link.id, tuple((e, u) for _, e, u in st.util)) for st in stats),
                  threshold=saturation_percent)
    return out, [chart] if stats else []
