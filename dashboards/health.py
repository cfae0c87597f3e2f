"""The device-health dashboard: CPU, memory, temperatures, fans and power supplies, optics, PoE,
UPS, spanning tree and port errors, from the snmp health profiles (collectors/snmp/profiles;
names as in docs/metrics.md: measurement `M`, field `f` → `M_f`)."""

from __future__ import annotations

from dashboards.spec import DEVICE, DashboardSpec, PanelKind, PanelSpec, Query, Threshold

K = PanelKind
RED_AT_1 = (Threshold(None, "green"), Threshold(1, "red"))
LOAD = (Threshold(None, "green"), Threshold(70, "orange"), Threshold(90, "red"))

HEALTH = DashboardSpec(
    uid="campusmon-device-health", title_zh="设备健康", title_en="Device health",
    description="Switch, router and controller health from SNMP: CPU and memory per board, "
                "temperatures against the device's own thresholds, fans and power supplies, "
                "optical levels, PoE budget, UPS state, spanning-tree changes and port errors. "
                "The alert rules of the same names fire on these series.",
    audience="campus network admins", tags=("campusmon", "health"),
    panels=(
        PanelSpec(K.STAT, "故障风扇/电源", "Failed fans and power supplies",
                  "Fans and power supplies in a failed / critical state (fan_failed, "
                  "psu_failed).", "none",
                  (Query(f'count(snmp_sensor_status{{{DEVICE},type=~"fan|power_supply"}} >= 3)'
                         " or vector(0)", instant=True),),
                  thresholds=RED_AT_1, width=6, height=5),
        PanelSpec(K.STAT, "超温传感器", "Sensors over threshold",
                  "Temperature sensors at or over the threshold the device reports "
                  "(temperature_over_threshold).", "none",
                  (Query(f"count(snmp_sensor_over_threshold{{{DEVICE}}} == 1) or vector(0)",
                         instant=True),), thresholds=RED_AT_1, width=6, height=5),
        PanelSpec(K.STAT, "UPS 电池供电", "UPS on battery",
                  "UPSes feeding their load from the battery (ups_on_battery).", "none",
                  (Query(f"count(snmp_ups_on_battery{{{DEVICE}}} == 1) or vector(0)",
                         instant=True),), thresholds=RED_AT_1, width=6, height=5),
        PanelSpec(K.STAT, "最高 CPU", "Highest CPU",
                  "The busiest CPU-bearing component of the selection.", "percent",
                  (Query(f"max(snmp_cpu_usage_percent{{{DEVICE}}}) or vector(0)",
                         instant=True),), thresholds=LOAD, min=0, max=100, width=6, height=5),
        PanelSpec(K.TIMESERIES, "CPU 使用率", "CPU per component",
                  "5-minute CPU load per board / processor (cpu_high at 90% for 10 min).",
                  "percent",
                  (Query(f"max by (device, component) (snmp_cpu_usage_percent{{{DEVICE}}})",
                         "{{device}} {{component}}"),), thresholds=LOAD, min=0, max=100),
        PanelSpec(K.TIMESERIES, "内存使用率", "Memory per component",
                  "Memory in use per board / pool (memory_high at 90% for 10 min).", "percent",
                  (Query(f"max by (device, component) (snmp_memory_used_percent{{{DEVICE}}})",
                         "{{device}} {{component}}"),), thresholds=LOAD, min=0, max=100),
        PanelSpec(K.TIMESERIES, "温度", "Temperatures",
                  "Temperature sensors (°C); the device's own threshold is in the table of "
                  "sensors.", "celsius",
                  (Query(f'max by (device, sensor) (snmp_sensor_value{{{DEVICE},'
                         f'type="temperature"}})', "{{device}} {{sensor}}"),),
                  thresholds=(Threshold(None, "green"), Threshold(60, "orange"),
                              Threshold(70, "red"))),
        PanelSpec(K.TABLE, "风扇与电源状态", "Fans and power supplies",
                  "State per fan / power supply: 1 ok, 2 warning, 3 failed.", "none",
                  (Query(f'max by (device, type, sensor) (snmp_sensor_status{{{DEVICE},'
                         f'type=~"fan|power_supply"}})', instant=True),),
                  thresholds=(Threshold(None, "green"), Threshold(2, "orange"),
                              Threshold(3, "red"))),
        PanelSpec(K.TABLE, "光模块收光功率", "Optical receive power",
                  "Received power per optical port (dBm) with the module's low threshold "
                  "(optical_power_out_of_range).", "dBm",
                  (Query(f"max by (device, port) (snmp_optical_rx_power_dbm{{{DEVICE}}})",
                         instant=True),
                   Query(f"max by (device, port) (snmp_optical_rx_power_low_dbm{{{DEVICE}}})",
                         instant=True))),
        PanelSpec(K.BARGAUGE, "PoE 预算使用", "PoE budget used",
                  "Share of each PSE's power budget drawn by powered devices "
                  "(poe_budget_near_exhaustion at 90%).", "percent",
                  (Query(f"max by (device, pse) (snmp_poe_used_percent{{{DEVICE}}})",
                         "{{device}} PSE {{pse}}", instant=True),),
                  thresholds=LOAD, min=0, max=100),
        PanelSpec(K.TIMESERIES, "UPS 电量", "UPS battery charge",
                  "Battery charge per UPS (ups_battery_low at 30%).",
                  "percent",
                  (Query(f"max by (device) (snmp_ups_battery_charge_percent{{{DEVICE}}})",
                         "{{device}}"),),
                  thresholds=(Threshold(None, "red"), Threshold(30, "orange"),
                              Threshold(60, "green")), min=0, max=100),
        PanelSpec(K.TIMESERIES, "生成树拓扑变化", "Spanning-tree topology changes",
                  "Topology changes per device over 15 minutes (a loop or a flapping edge "
                  "port shows as a steady climb).", "short",
                  (Query(f"sum by (device) (increase(snmp_stp_topology_changes{{{DEVICE}}}"
                         "[15m]))", "{{device}}"),)),
        PanelSpec(K.TABLE, "端口错误率", "Port error rates",
                  "Top 10 ports by inbound + outbound errors per second (port_errors_high "
                  "at 1% of inbound packets).", "pps",
                  (Query(f"topk(10, snmp_port_errors_in_errors_per_second{{{DEVICE}}} + "
                         f"snmp_port_errors_out_errors_per_second{{{DEVICE}}})",
                         instant=True),), width=24),
    ),
)
