"""Every target the audits use, each tied to its entry of docs/standards.md (`Source.link`,
e.g. docs/standards.md#b8).

Only figures that page verifies appear here. Where it says a figure was NOT found (per-student
bandwidth in the 2020 vocational standard, docs/standards.md#a3; the 2024 IPv6 work plan,
docs/standards.md#b7; AP density or coverage percentages), the audits show the measured value
with no target and `NO_TARGET_*` explains why in the report.
"""

from __future__ import annotations

from agent.processors.audit.model import Op, Reference, Source, Target

B2 = Source(
    "b2", "教育部《推进IPv6规模部署行动计划》贯彻落实通知 (2018)",
    "教育系统各类网络、门户网站和重要应用系统完成升级改造，支持IPv6访问 (end-2020)",
    "http://m.selfevite.com/xxxw/0e383769ee66463dba4b3254a846ea13.htm")
A5 = Source(
    "a5", "《高等学校数字校园建设规范（试行）》(教科信函〔2021〕14号)",
    "IPv4/IPv6 dual stack campus network (qualitative)",
    "https://www.zzptech.com/documents/高等学校数字校园建设规范")
B5 = Source(
    "b5", "《深入推进IPv6规模部署和应用2022年工作安排》",
    "fixed-network IPv6 traffic share 13% by end-2022", "http://www.szab.net/article-180958.html")
B6 = Source(
    "b6", "《深入推进IPv6规模部署和应用2023年工作安排》",
    "fixed-network IPv6 traffic share 15% by end-2023",
    "http://finance.dzxwnews.com/caijing/2023/0704/129616.html")
B8 = Source(
    "b8", "《2025年深入推进IPv6规模部署和应用工作要点》",
    "fixed-network IPv6 traffic share 27% by end-2025",
    "https://epaper.ahgrrb.com/index/article/articleinfo.html?doc_id=36157")
CERNET_PORTAL = Source(
    "b.3", "教育网IPv6规模部署监测报告(2023年7月)",
    "CERNET portal IPv6 support 1666/2030 = 82.07% (July 2023)",
    "http://www.591qyd.net/magazine/article/qsg_4111185.html")
NATIONAL_2025 = Source(
    "b.2", "国家IPv6发展监测平台 (新华社报道, 2025年6月)",
    "measured national fixed-network IPv6 traffic share 28.32% (June 2025)",
    "http://m.alexandertzhao.com/news/guonei/2025-08-02/1754446.html")
C3 = Source(
    "c3'", "《关于开展“信号升格”专项行动的通知》(工信部联通信〔2023〕257号)",
    "5G downlink mean >= 200 Mbps, uplink mean >= 40 Mbps, >= 90% of samples meeting the rate",
    "http://m.jrlcb.cn/p/143606.html")
A8 = Source(
    "a8", "《教育信息化十年发展规划(2011-2020年)》",
    "高校接入带宽 >= 1 Gbps (by 2015)", "https://iamivan.net/a/zOWkNqz.html")
A3 = Source(
    "a3", "《职业院校数字校园规范》(2020)",
    "numeric infrastructure clauses NOT found / unverified")
D1 = Source("d.1", "国产化 detection: IANA PEN registry, Observium/LibreNMS rules",
            "vendor table, IANA PEN, sysDescr")

# --- targets (each decides pass/fail) ---
IPV6_ALL_NETWORKS = Target(100.0, B2)
IPV6_EGRESS_SHARE_2025 = Target(27.0, B8)
WEB_IPV6_ALL = Target(100.0, B2)
G5_DL_MEAN_MBPS = Target(200.0, C3)
G5_UL_MEAN_MBPS = Target(40.0, C3)
G5_SAMPLE_SHARE = Target(90.0, C3)
G5_DL_SAMPLE_MBPS = 200.0  # per-sample rate standard (c3')
G5_UL_SAMPLE_MBPS = 40.0
EGRESS_CAPACITY_HIGHER_ED_MBPS = Target(1000.0, A8, Op.GE)

# --- references (context lines on charts; never decide pass) ---
IPV6_EGRESS_REFS = (
    Reference("2022年目标 固网IPv6流量占比", "2022 target, fixed-network IPv6 traffic", 13.0, B5),
    Reference("2023年目标 固网IPv6流量占比", "2023 target, fixed-network IPv6 traffic", 15.0, B6),
    Reference("全国固网IPv6流量占比实测 2025年6月", "national fixed-network measured, June 2025",
              28.32, NATIONAL_2025),
)
CERNET_PORTAL_REF = (
    Reference("教育网门户IPv6支持度 2023年7月", "CERNET portal IPv6 support, July 2023",
              82.07, CERNET_PORTAL),
)

NO_TARGET_BANDWIDTH_PER_PERSON = (
    "no target: per-student bandwidth in 《职业院校数字校园规范》(2020) was not found "
    "(docs/standards.md#a3); measured value only")
NO_TARGET_WIFI_COVERAGE = (
    "no target: no verified coverage percentage for teaching places (docs/standards.md#a3, "
    "docs/standards.md#a14); measured value only")
NO_TARGET_LOCALIZATION = (
    "no target: the detection rules (docs/standards.md#d-1, docs/standards.md#d-2, "
    "docs/standards.md#d-3) set no domestic-share target; measured value only")
NO_TARGET_GENERIC = "no target in docs/standards.md; measured value only"
