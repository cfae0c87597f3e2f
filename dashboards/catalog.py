"""The campusmon dashboards (device health: dashboards/health.py). Queries use the names in
docs/metrics.md (VictoriaMetrics maps Influx `measurement` + `field` to `measurement_field`)."""

from __future__ import annotations

from dashboards.health import HEALTH
from dashboards.spec import CAMPUS, DEVICE, DashboardSpec, PanelKind, PanelSpec, Query, Threshold

K = PanelKind
RED_AT_1 = (Threshold(None, "green"), Threshold(1, "red"))
UTIL = (Threshold(None, "green"), Threshold(70, "orange"), Threshold(90, "red"))

OVERVIEW = DashboardSpec(
    uid="campusmon-overview", title_zh="校园网络总览", title_en="Campus overview",
    description="Device health, egress utilisation, busiest and erroring interfaces, polling "
                "health and the agent's own backlog.",
    audience="campus network admins", tags=("campusmon", "overview"),
    panels=(
        PanelSpec(K.STAT, "在线设备", "Devices up", "Inventory devices whose last poll "
                  "succeeded.", "none",
                  (Query(f"count(max by (device) (agent_poll_up{{{DEVICE}}}) == 1) or vector(0)",
                         instant=True),), width=6, height=5),
        PanelSpec(K.STAT, "离线设备", "Devices down", "Inventory devices whose last poll "
                  "failed (any collector).", "none",
                  (Query(f"count(max by (device) (agent_poll_up{{{DEVICE}}}) == 0) or vector(0)",
                         instant=True),), thresholds=RED_AT_1, width=6, height=5),
        PanelSpec(K.BARGAUGE, "按楼宇和类型的在线率", "Up ratio by building and kind",
                  "Share of polls that succeeded, per building and device kind.", "percentunit",
                  (Query(f"avg by (building, kind) (agent_poll_up{{{DEVICE}}})",
                         "{{building}} {{kind}}", instant=True),),
                  thresholds=(Threshold(None, "red"), Threshold(0.9, "orange"),
                              Threshold(0.99, "green")), min=0, max=1, width=12, height=10),
        PanelSpec(K.TIMESERIES, "出口链路利用率", "Egress utilisation",
                  "Inbound and outbound utilisation of interfaces on devices with the inventory "
                  "role 'egress', against ifHighSpeed.", "percent",
                  (Query(f'max by (device, ifname) (snmp_interface_in_utilization_percent'
                         f'{{{CAMPUS},roles=~".*egress.*"}})', "{{device}} {{ifname}} in"),
                   Query(f'max by (device, ifname) (snmp_interface_out_utilization_percent'
                         f'{{{CAMPUS},roles=~".*egress.*"}})', "{{device}} {{ifname}} out")),
                  thresholds=UTIL, min=0, width=12),
        PanelSpec(K.TABLE, "最繁忙接口", "Busiest interfaces",
                  "Top 10 interfaces by inbound + outbound bit rate.", "bps",
                  (Query(f"topk(10, snmp_interface_in_bps{{{DEVICE}}} + "
                         f"snmp_interface_out_bps{{{DEVICE}}})", instant=True),), width=12),
        PanelSpec(K.TABLE, "错误最多的接口", "Erroring interfaces",
                  "Top 10 interfaces by input + output errors over the last hour.", "short",
                  (Query(f"topk(10, increase(snmp_interface_in_errors{{{DEVICE}}}[1h]) + "
                         f"increase(snmp_interface_out_errors{{{DEVICE}}}[1h]))",
                         instant=True),), width=12),
        PanelSpec(K.TIMESERIES, "采集错误", "Polling errors",
                  "Errors per collector per 5 minutes (by bounded error type in "
                  "agent_plugin_errors).", "short",
                  (Query(f"sum by (plugin) (increase(agent_plugin_errors_total{{{CAMPUS}}}[5m]))",
                         "{{plugin}}"),), width=12),
        PanelSpec(K.TIMESERIES, "采集耗时", "Poll duration",
                  "Slowest poll per collector (seconds); compare with the interval.", "s",
                  (Query(f"max by (plugin) (agent_plugin_last_poll_seconds{{{CAMPUS}}})",
                         "{{plugin}}"),), width=12),
        PanelSpec(K.TIMESERIES, "上报积压", "Queue backlog",
                  "Points waiting in each push exporter's disk queue, and the age of the "
                  "oldest; they grow while the centre is unreachable.", "short",
                  (Query(f"max by (instance) (agent_queue_depth_items{{{CAMPUS}}})",
                         "{{instance}} points"),), width=12),
        PanelSpec(K.TIMESERIES, "采集主机 CPU", "Agent host CPU",
                  "CPU use of the machine the agent runs on.", "percent",
                  (Query(f"max by (campus) (host_cpu_usage_percent{{{CAMPUS}}})",
                         "{{campus}}"),), thresholds=UTIL, min=0, max=100, width=12),
    ),
)

WIRELESS = DashboardSpec(
    uid="campusmon-wireless", title_zh="无线覆盖", title_en="Wireless coverage",
    description="Teaching places covered by a working AP, APs down, clients per AP and band, "
                "channel utilisation.",
    audience="campus network admins", tags=("campusmon", "wireless"),
    panels=(
        PanelSpec(K.STAT, "教学场所无线覆盖率", "Teaching places covered",
                  "Share of teaching places (classrooms, labs, library, halls) with at least "
                  "one working AP (audit indicator; no national numeric target was found, "
                  "docs/standards.md#a3).", "percent",
                  (Query(f'max by (campus) (audit_indicator_value{{{CAMPUS},'
                         f'indicator="wifi_teaching_coverage",scope="campus"}})',
                         instant=True),), min=0, max=100, width=8, height=5),
        PanelSpec(K.STAT, "故障 AP", "APs down", "APs the controllers report not in service.",
                  "none", (Query(f"count(wlan_ap_up{{{CAMPUS}}} == 0) or vector(0)",
                                 instant=True),), thresholds=RED_AT_1, width=8, height=5),
        PanelSpec(K.STAT, "无线终端", "Wireless clients", "Clients on all APs.", "none",
                  (Query(f"sum(wlan_ap_clients{{{CAMPUS}}})", instant=True),),
                  width=8, height=5),
        PanelSpec(K.BARGAUGE, "各楼宇教学场所覆盖率", "Teaching-place coverage by building",
                  "Share of teaching places with a working AP, per building (audit).",
                  "percent",
                  (Query(f'audit_indicator_value{{{CAMPUS},indicator="wifi_teaching_coverage",'
                         f'scope=~"building.*"}}', "{{scope}}", instant=True),),
                  thresholds=(Threshold(None, "red"), Threshold(90, "green")), min=0, max=100,
                  width=12),
        PanelSpec(K.STAT, "无可用 AP 的场所", "Rooms without a working AP",
                  "Rooms (teaching places included) where no AP is in service (audit).", "none",
                  (Query(f'max by (campus) (audit_indicator_value{{{CAMPUS},'
                         f'indicator="wifi_rooms_without_working_ap",scope="campus"}})',
                         instant=True),), thresholds=RED_AT_1, width=12, height=8),
        PanelSpec(K.TABLE, "故障 AP 列表", "APs down (list)",
                  "AP name, MAC, controller and room of every AP not in service.", "none",
                  (Query(f"wlan_ap_up{{{CAMPUS}}} == 0 or on() vector(0)", instant=True),),
                  width=12),
        PanelSpec(K.BARGAUGE, "各频段终端数", "Clients per band",
                  "Clients per radio band (2.4 / 5 / 6 GHz).", "none",
                  (Query(f"sum by (band) (wlan_radio_clients{{{CAMPUS}}})", "{{band}}",
                         instant=True),), width=12),
        PanelSpec(K.TIMESERIES, "终端最多的 AP", "Busiest APs",
                  "Top 10 APs by clients.", "none",
                  (Query(f"topk(10, wlan_ap_clients{{{CAMPUS}}})", "{{ap_name}}"),), width=12),
        PanelSpec(K.TIMESERIES, "信道利用率", "Channel utilisation",
                  "Per radio channel utilisation reported by the controller.", "percent",
                  (Query(f"topk(10, wlan_radio_utilization_percent{{{CAMPUS}}})",
                         "{{ap_name}} {{band}}"),), thresholds=UTIL, min=0, max=100, width=12),
    ),
)

IOT = DashboardSpec(
    uid="campusmon-iot", title_zh="物联网设备", title_en="Campus IoT",
    description="IoT devices per class up/down, stale devices, last seen, telemetry.",
    audience="campus network admins", tags=("campusmon", "iot"),
    panels=(
        PanelSpec(K.BARGAUGE, "各类设备在线数", "Devices up per class",
                  "IoT devices whose heartbeat is fresh, per class.", "none",
                  (Query(f"sum by (iot_class) (iot_device_up{{{DEVICE}}})", "{{iot_class}}",
                         instant=True),), width=12),
        PanelSpec(K.BARGAUGE, "各类设备离线数", "Devices down per class",
                  "IoT devices that missed their heartbeat or sent a last will, per class.",
                  "none",
                  (Query(f"count by (iot_class) (iot_device_up{{{DEVICE}}} == 0) "
                         f"or sum by (iot_class) (iot_device_up{{{DEVICE}}}) * 0",
                         "{{iot_class}}", instant=True),), thresholds=RED_AT_1, width=12),
        PanelSpec(K.BARGAUGE, "各协议设备数", "Devices per protocol",
                  "IoT devices per protocol and class (mqtt, modbus, coap, bacnet, rtsp, "
                  "lorawan, zigbee, sparkplug): one liveness whatever a device speaks.", "none",
                  (Query(f'count by (protocol, iot_class) (label_replace('
                         f'iot_device_up{{{DEVICE}}}, "protocol", "mqtt", "protocol", ""))',
                         "{{protocol}} {{iot_class}}", instant=True),), width=12),
        PanelSpec(K.TABLE, "有连接无视频的摄像机", "Cameras answering without video",
                  "Cameras whose RTSP port answers TCP but sends no frame (camera_stream): "
                  "the case a ping misses.", "none",
                  (Query(f"(camera_stream_tcp_ok{{{DEVICE}}} == 1 and on (device) "
                         f"camera_stream_video{{{DEVICE}}} == 0) or on() vector(0)",
                         instant=True),), width=12),
        PanelSpec(K.TABLE, "最久未上报", "Stalest devices",
                  "Top 20 devices by seconds since the last message.", "s",
                  (Query(f"topk(20, iot_device_last_seen_age_seconds{{{DEVICE}}})",
                         instant=True),), width=12),
        PanelSpec(K.TIMESERIES, "在线率", "Up ratio", "Share of IoT devices up over time.",
                  "percentunit", (Query(f"avg(iot_device_up{{{DEVICE}}})", "up ratio"),),
                  min=0, max=1, width=12),
        PanelSpec(K.TIMESERIES, "环境传感器温度", "Environment temperature",
                  "Temperature reported by environment sensors.", "celsius",
                  (Query(f'iot_telemetry_temperature_c{{{DEVICE},iot_class="env_sensor"}}',
                         "{{device}}"),), width=12),
        PanelSpec(K.TIMESERIES, "错误报文", "Bad payloads",
                  "Malformed payloads per device (counted, never fatal).", "short",
                  (Query(f"sum by (device) (iot_device_bad_payloads_total{{{DEVICE}}})",
                         "{{device}}"),), width=12),
    ),
)

ROLLOUT = DashboardSpec(
    uid="campusmon-ipv6-5g", title_zh="IPv6 与 5G 推进", title_en="IPv6 and 5G rollout",
    description="Per campus and province-wide: each indicator against its cited target "
                "(docs/standards.md), website IPv6-support results, 5G readings against the "
                "信号升格 thresholds (docs/standards.md#c3p).",
    audience="provincial inspectors", tags=("campusmon", "ipv6", "5g", "inspector"),
    panels=(
        PanelSpec(K.TABLE, "IPv6 指标与目标", "IPv6 indicators vs targets",
                  "Value and cited target of every IPv6 indicator per campus; targets from "
                  "docs/standards.md#b5 (13% fixed-network IPv6 traffic, 2022), "
                  "docs/standards.md#b6 (15%, 2023), docs/standards.md#b8 (27%, 2025).",
                  "percent",
                  (Query(f'audit_indicator_value{{{CAMPUS},indicator=~"ipv6_.*"}}',
                         instant=True),
                   Query(f'audit_indicator_target{{{CAMPUS},indicator=~"ipv6_.*"}}',
                         instant=True)), width=24, height=9),
        PanelSpec(K.TIMESERIES, "出口 IPv6 流量占比", "IPv6 share of egress traffic",
                  "Δ IPv6 octets / Δ all octets on the egress router (IP-MIB "
                  "ipSystemStatsTable, in + out). Target lines: 15% (b6, 2023), 27% (b8, 2025).",
                  "percentunit",
                  (Query(f'sum by (campus) (snmp_ip_traffic_in_bps{{{CAMPUS},ip_version="ipv6"}}'
                         f' + snmp_ip_traffic_out_bps{{{CAMPUS},ip_version="ipv6"}}) / '
                         f'sum by (campus) (snmp_ip_traffic_in_bps{{{CAMPUS}}} + '
                         f'snmp_ip_traffic_out_bps{{{CAMPUS}}})', "{{campus}}"),),
                  thresholds=(Threshold(None, "red"), Threshold(0.15, "orange"),
                              Threshold(0.27, "green")), min=0, max=1, width=12),
        PanelSpec(K.BARGAUGE, "全省 IPv6 流量占比", "Province: IPv6 traffic share by campus",
                  "Latest IPv6 share of egress traffic per campus (audit), province-wide.",
                  "percent",
                  (Query('audit_indicator_value{indicator="ipv6_egress_traffic_share",'
                         'scope="campus"}', "{{campus}}", instant=True),),
                  thresholds=(Threshold(None, "red"), Threshold(15, "orange"),
                              Threshold(27, "green")), min=0, max=100, width=12),
        PanelSpec(K.TABLE, "网站 IPv6 支持度", "Website IPv6 support",
                  "National website IPv6-support test items per site "
                  "(docs/standards.md#b-4): AAAA, "
                  "homepage over IPv6, success ratio, NS on IPv6, content consistency, in-site "
                  "link ratios, latency ratio; pass = all items.", "percentunit",
                  (Query(f"web_ipv6_support_pass{{{CAMPUS}}}", instant=True),
                   Query(f"web_ipv6_support_success_ratio{{{CAMPUS}}}", instant=True)),
                  width=12),
        PanelSpec(K.TIMESERIES, "IPv6 回退", "IPv6 regressions",
                  "Targets where IPv4 works while IPv6 fails, is much slower, has no AAAA or "
                  "an AAAA pointing at a dead address.", "none",
                  (Query(f"sum(probe_ipv6_regression_regression{{{CAMPUS}}}) or vector(0)",
                         "targets"),), thresholds=RED_AT_1, width=12),
        PanelSpec(K.TIMESERIES, "5G 下行速率", "5G downlink",
                  "Downlink throughput from 5G CPEs; threshold 200 Mbps (docs/standards.md#c3p).",
                  "Mbits", (Query(f"cellular_5g_dl_mbps{{{DEVICE}}}", "{{device}}"),),
                  thresholds=(Threshold(None, "red"), Threshold(200, "green")), width=12),
        PanelSpec(K.TIMESERIES, "5G 上行速率", "5G uplink",
                  "Uplink throughput from 5G CPEs; threshold 40 Mbps (docs/standards.md#c3p).",
                  "Mbits", (Query(f"cellular_5g_ul_mbps{{{DEVICE}}}", "{{device}}"),),
                  thresholds=(Threshold(None, "red"), Threshold(40, "green")), width=12),
        PanelSpec(K.STAT, "5G 达标样本占比", "5G samples meeting the rate standard",
                  "Share of 5G samples with DL >= 200 Mbps and UL >= 40 Mbps; target >= 90% "
                  "(docs/standards.md#c3p).", "percent",
                  (Query(f'audit_indicator_value{{{CAMPUS},indicator="5g_sample_compliance",'
                         f'scope="campus"}}', instant=True),),
                  thresholds=(Threshold(None, "red"), Threshold(90, "green")), min=0, max=100,
                  width=12, height=5),
    ),
)

BANDWIDTH = DashboardSpec(
    uid="campusmon-bandwidth", title_zh="出口带宽", title_en="Outbound bandwidth",
    description="Egress links: 95th percentile, utilisation over time, Mbps per 1,000 "
                "students and staff. No national per-student figure was verified "
                "(docs/standards.md#a3): values are shown without a target.",
    audience="campus network admins, provincial inspectors",
    tags=("campusmon", "bandwidth"),
    panels=(
        PanelSpec(K.TIMESERIES, "出口流量", "Egress traffic",
                  "Bit rate in and out on interfaces of egress devices.", "bps",
                  (Query(f'sum by (device) (snmp_interface_in_bps{{{CAMPUS},'
                         f'roles=~".*egress.*"}})', "{{device}} in"),
                   Query(f'sum by (device) (snmp_interface_out_bps{{{CAMPUS},'
                         f'roles=~".*egress.*"}})', "{{device}} out")), width=24),
        PanelSpec(K.STAT, "出口利用率 95 分位", "Egress utilisation p95",
                  "95th percentile of inbound utilisation over the dashboard's time range, "
                  "for the busiest egress interface.", "percent",
                  (Query(f'max(quantile_over_time(0.95, snmp_interface_in_utilization_percent'
                         f'{{{CAMPUS},roles=~".*egress.*"}}[$__range]))', instant=True),),
                  thresholds=UTIL, width=8, height=5),
        PanelSpec(K.STAT, "出口利用率峰值", "Egress utilisation peak",
                  "Peak egress utilisation over the dashboard's time range.", "percent",
                  (Query(f'max(max_over_time(snmp_interface_in_utilization_percent'
                         f'{{{CAMPUS},roles=~".*egress.*"}}[$__range]))', instant=True),),
                  thresholds=UTIL, width=8, height=5),
        PanelSpec(K.STAT, "每千名师生出口带宽", "Egress Mbps per 1,000 students and staff",
                  "Contracted egress capacity per 1,000 students and staff (inventory "
                  "counts); shown with no target (docs/standards.md#a3: not found).", "Mbits",
                  (Query(f'audit_indicator_value{{{CAMPUS},indicator="egress_mbps_per_1000",'
                         f'scope="campus"}}', instant=True),), width=8, height=5),
        PanelSpec(K.TIMESERIES, "各运营商出口容量", "Egress capacity per ISP",
                  "Egress capacity (ifHighSpeed) per ISP label of the egress device.", "Mbits",
                  (Query(f'audit_indicator_value{{{CAMPUS},indicator="egress_isp_capacity"}}',
                         "{{campus}} {{scope}}"),), width=24),
        PanelSpec(K.STAT, "出口饱和时长", "Egress saturation",
                  "Minutes in the audit window with egress utilisation at or above the "
                  "configured saturation level (a setting, not a national target).", "m",
                  (Query(f'max by (campus) (audit_indicator_value{{{CAMPUS},'
                         f'indicator="egress_saturation",scope="campus"}})', instant=True),),
                  thresholds=RED_AT_1, width=24, height=5),
    ),
)

# one stat per 国产化 category the demo campus feeds (security: the simulated campus has no
# firewall; terminals seen by DHCP need the LAN listener, the asset register feeds this one)
LOCALIZATION_ROW: tuple[tuple[str, str, str, str], ...] = (
    ("network", "网络设备", "Network devices", "d-1"),
    ("wireless", "无线设备", "Wireless", "d-1"),
    ("servers", "服务器", "Servers", "d-1"),
    ("terminals", "终端", "Terminals", "d-5"),
    ("os", "操作系统", "Operating systems", "d-3"),
    ("cpu", "CPU", "CPUs", "d-2"),
    ("database", "数据库", "Databases", "d-4"),
    ("middleware", "中间件", "Middleware", "d-4"),
    ("systems", "信息系统", "Information systems", "d-4"),
    ("iot", "物联网设备", "IoT devices", "d-1"),
)

LOCALIZATION = DashboardSpec(
    uid="campusmon-localization", title_zh="国产化", title_en="Localization",
    description="Share of domestic (国产) items per category and campus; unknown is counted "
                "separately, never guessed. Vendor rules: docs/standards.md#d-1; CPUs "
                "docs/standards.md#d-2; OS docs/standards.md#d-3.",
    audience="provincial inspectors", tags=("campusmon", "localization"),
    panels=(
        PanelSpec(K.BARGAUGE, "各类别国产化率", "Domestic share per category",
                  "Share of items classified domestic per category (network, wireless, "
                  "security, servers, terminals, IoT, OS, CPU, information systems).",
                  "percent",
                  (Query(f'audit_indicator_value{{{CAMPUS},indicator=~"localization_.*",'
                         f'scope="campus"}}', "{{campus}} {{indicator}}", instant=True),),
                  thresholds=(Threshold(None, "orange"), Threshold(50, "green")),
                  min=0, max=100, width=24, height=10),
        *(PanelSpec(K.STAT, f"国产化率：{zh}", f"Domestic share: {en}",
                    f"Share of {en.lower()} classified domestic (docs/standards.md#{anchor}); "
                    "unknown items are counted apart, not in the share.", "percent",
                    (Query(f'max by (campus) (audit_indicator_value{{{CAMPUS},'
                           f'indicator="localization_{cat}",scope="campus"}})',
                           instant=True),),
                    thresholds=(Threshold(None, "orange"), Threshold(50, "green")),
                    min=0, max=100, width=6, height=4)
          for cat, zh, en, anchor in LOCALIZATION_ROW),
        PanelSpec(K.TABLE, "服务器CPU/操作系统/数据库/中间件", "Server platforms",
                  "Each server's CPU, OS, database and middleware (SNMP HOST-RESOURCES or SSH), "
                  "the vendor, the domestic flag and the rule that decided "
                  "(docs/standards.md#d-2, #d-3, #d-4).", "none",
                  (Query(f"count by (device, category, platform_vendor, product, domestic, "
                         f"rule) (server_platform_info{{{DEVICE}}})", instant=True),),
                  width=24),
        PanelSpec(K.BARGAUGE, "按国产化判定的设备数", "Devices by domestic flag",
                  "SNMP-identified devices per domestic flag (yes / no / unknown).", "none",
                  (Query(f"count by (domestic) (snmp_device_info_info{{{DEVICE}}})",
                         "{{domestic}}", instant=True),), width=12),
        PanelSpec(K.TABLE, "设备厂商", "Vendors",
                  "Detected vendor, domestic flag and the rule that decided it.", "none",
                  (Query(f"count by (detected_vendor, domestic, domestic_rule) "
                         f"(snmp_device_info_info{{{DEVICE}}})", instant=True),), width=12),
    ),
)

SECURITY = DashboardSpec(
    uid="campusmon-security", title_zh="安全告警", title_en="Security",
    description="Firing alerts, unregistered devices, rogue RA / DHCP, insecure management, "
                "latest device events (traps, syslog) and login failures.",
    audience="security teams", tags=("campusmon", "security"),
    panels=(
        PanelSpec(K.STAT, "正在告警", "Firing alerts", "Alerts firing now, all severities.",
                  "none", (Query(f"sum(alerts_firing{{{CAMPUS}}}) or vector(0)",
                                 instant=True),), thresholds=RED_AT_1, width=6, height=5),
        PanelSpec(K.STAT, "被抑制告警", "Suppressed alerts",
                  "Alerts held back because a device upstream is down (topology).", "none",
                  (Query(f"sum(alerts_suppressed{{{CAMPUS}}}) or vector(0)", instant=True),),
                  width=6, height=5),
        PanelSpec(K.STAT, "未登记设备", "Unregistered devices",
                  "Hosts seen on the LAN that are not in the inventory (real-name register).",
                  "none",
                  (Query(f"sum(lan_hosts_unregistered{{{CAMPUS}}}) or vector(0)",
                         instant=True),), thresholds=RED_AT_1, width=6, height=5),
        PanelSpec(K.STAT, "地址冲突", "Address conflicts",
                  "IP addresses claimed by more than one MAC.", "none",
                  (Query(f"sum(lan_hosts_conflicts{{{CAMPUS}}}) or vector(0)", instant=True),),
                  thresholds=RED_AT_1, width=6, height=5),
        PanelSpec(K.TIMESERIES, "按级别的告警", "Alerts by severity",
                  "Firing and pending alerts per severity.", "none",
                  (Query(f"sum by (severity) (alerts_firing{{{CAMPUS}}})", "{{severity}} firing"),
                   Query(f"sum by (severity) (alerts_pending{{{CAMPUS}}})",
                         "{{severity}} pending")), width=12),
        PanelSpec(K.TABLE, "不安全的管理方式", "Insecure management",
                  "Devices answering SNMP with a default community or SNMPv3 without "
                  "authentication, or with telnet / plain HTTP management open (alert rules).",
                  "none",
                  (Query(f'sum by (key, alertname) (alert_firing{{{CAMPUS},'
                         f'alertname=~"insecure_.*"}}) or vector(0)', instant=True),), width=12),
        PanelSpec(K.TABLE, "非法 RA / DHCP", "Rogue RA / DHCP",
                  "Router advertisements and DHCP servers not on the allowed lists.", "none",
                  (Query(f'sum by (alertname) (alert_firing{{{CAMPUS},'
                         f'alertname=~"rogue_.*"}}) or vector(0)', instant=True),), width=12),
        PanelSpec(K.TABLE, "最近的设备事件", "Latest device events",
                  "Traps and syslog lines of the last hour per device and category (link "
                  "down, reboot, auth failure, config saved, hardware, port security, AP "
                  "offline), warnings and worse; the lines themselves are in the agent's local "
                  "store (campusmon query -m event) and the central log system.", "none",
                  (Query(f'sort_desc(sum by (device, event_kind, category, severity) '
                         f'(increase(events_total{{{CAMPUS},severity=~"warning|critical"}}[1h]))'
                         f' > 0) or vector(0)', instant=True),), width=12),
        PanelSpec(K.TIMESERIES, "登录与认证失败", "Login and authentication failures",
                  "Failed logins (syslog) and SNMP authentication failures (traps) per device, "
                  "per 5 minutes; login_failure_burst alerts at 5.", "none",
                  (Query(f'sum by (device, event_kind) (increase(events_total{{{CAMPUS},'
                         f'category="auth_failure"}}[5m])) or vector(0)',
                         "{{device}} {{event_kind}}"),), width=12),
    ),
)

DASHBOARDS: tuple[DashboardSpec, ...] = (
    OVERVIEW, WIRELESS, IOT, ROLLOUT, BANDWIDTH, LOCALIZATION, SECURITY, HEALTH,
)
