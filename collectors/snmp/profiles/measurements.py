"""The device-health measurements the built-in profiles write (names fixed by issue 15, so
alert rules, dashboards and the report agree). Place tags are added by the framework."""

from __future__ import annotations

from agent.core.catalogue import Measurement, counter, gauge, info, state, tag

COMPONENT = tag("component", "component name from ENTITY-MIB entPhysicalName (or the vendor "
                "table's own description) — board, CPU, memory pool, storage")
PORT = tag("port", "interface name (IF-MIB ifName) of the port")

SNMP_CPU = Measurement(
    "snmp_cpu", "CPU load per CPU-bearing component (board, processor)",
    tags=(COMPONENT,),
    fields=(gauge("usage_percent", "percent", "CPU load; the vendor's 5-minute average where "
                  "it offers several, else its only figure"),))
SNMP_MEMORY = Measurement(
    "snmp_memory", "memory use per component (board, memory pool, RAM)",
    tags=(COMPONENT,),
    fields=(gauge("used_percent", "percent", "memory in use"),
            gauge("used_bytes", "bytes", "memory in use, where the device gives sizes"),
            gauge("total_bytes", "bytes", "memory size, where the device gives it")))
SNMP_STORAGE = Measurement(
    "snmp_storage", "disk / flash use per storage area (HOST-RESOURCES hrStorageTable)",
    tags=(COMPONENT,),
    fields=(gauge("used_percent", "percent", "storage in use"),
            gauge("used_bytes", "bytes", "storage in use"),
            gauge("total_bytes", "bytes", "storage size")))
SNMP_SENSOR = Measurement(
    "snmp_sensor", "one environmental sensor or fan / power-supply state",
    tags=(tag("type", "temperature | fan | power_supply | voltage | current | humidity | "
              "power"),
          tag("sensor", "sensor or component name (ENTITY-MIB entPhysicalName or the vendor "
              "table's description)")),
    fields=(gauge("value", "", "reading in the SI unit of its type: °C (temperature), V, A, W, "
                  "%RH, rpm (fan); absent for state-only sensors"),
            state("status", "1 ok, 2 warning, 3 failed / critical (vendor states mapped by the "
                  "profile); absent when the device gives no state"),
            gauge("high_threshold", "", "the device's upper threshold, same unit as value"),
            gauge("low_threshold", "", "the device's lower threshold, same unit as value"),
            state("over_threshold", "1 when value is at/over high_threshold or at/under "
                  "low_threshold, else 0 (only where the device gives a threshold)")))
SNMP_OPTICAL = Measurement(
    "snmp_optical", "optical transceiver DOM readings per port",
    tags=(PORT,),
    fields=(gauge("rx_power_dbm", "dBm", "received optical power"),
            gauge("tx_power_dbm", "dBm", "transmitted optical power"),
            gauge("bias_current_ma", "milliamperes", "laser bias current"),
            gauge("temperature_c", "celsius", "module temperature"),
            gauge("voltage_v", "volts", "module supply voltage"),
            gauge("rx_power_high_dbm", "dBm", "module's upper receive-power alarm threshold"),
            gauge("rx_power_low_dbm", "dBm", "module's lower receive-power alarm threshold"),
            gauge("tx_power_high_dbm", "dBm", "module's upper transmit-power alarm threshold"),
            gauge("tx_power_low_dbm", "dBm", "module's lower transmit-power alarm threshold"),
            state("out_of_range", "1 when rx or tx power is outside the module's thresholds, "
                  "else 0 (only where the module gives thresholds)")))
SNMP_POE = Measurement(
    "snmp_poe", "PoE power sourcing equipment (per PSE / stack member): budget and use",
    tags=(tag("pse", "PSE group index (POWER-ETHERNET-MIB pethMainPseGroupIndex)"),),
    fields=(gauge("budget_watts", "watts", "nominal PSE power budget"),
            gauge("consumption_watts", "watts", "power drawn by powered devices now"),
            gauge("used_percent", "percent", "consumption / budget"),
            state("status", "pethMainPseOperStatus: 1 on, 2 off, 3 faulty")))
SNMP_POE_PORT = Measurement(
    "snmp_poe_port", "PoE per port: detection state and power drawn",
    tags=(tag("pse", "PSE group index (0 where the vendor table has none)"),
          tag("port", "PSE port index within the group (POWER-ETHERNET-MIB), or the ifName "
              "where a vendor table is indexed by interface (HUAWEI-POE-MIB)")),
    fields=(state("detection", "pethPsePortDetectionStatus: 1 disabled, 2 searching, "
                  "3 delivering power, 4 fault, 5 test, 6 other fault"),
            gauge("power_watts", "watts", "power drawn on the port (Cisco, Huawei extensions)")))
SNMP_UPS = Measurement(
    "snmp_ups", "UPS state (UPS-MIB RFC 1628 or the vendor's own)",
    fields=(state("battery_status", "1 unknown, 2 normal, 3 low, 4 depleted"),
            gauge("battery_charge_percent", "percent", "estimated charge remaining"),
            gauge("runtime_remaining_seconds", "seconds", "estimated runtime on battery"),
            gauge("seconds_on_battery", "seconds", "time on battery (0 on mains)"),
            state("on_battery", "1 while the output is fed from the battery, else 0"),
            gauge("output_load_percent", "percent", "output load"),
            gauge("input_voltage_v", "volts", "input line voltage"),
            gauge("battery_temperature_c", "celsius", "battery temperature")))
SNMP_STP = Measurement(
    "snmp_stp", "spanning tree (BRIDGE-MIB dot1dStp): topology changes",
    fields=(counter("topology_changes", "", "topology changes since the bridge started"),
            gauge("time_since_topology_change_seconds", "seconds",
                  "time since the last topology change")))
SNMP_PORT_ERRORS = Measurement(
    "snmp_port_errors", "per-port error and discard rates (from the IF-MIB counters)",
    tags=(tag("ifindex", "IF-MIB ifIndex"), tag("ifname", "IF-MIB ifName")),
    fields=(gauge("in_errors_per_second", "per_second", "inbound packets with errors"),
            gauge("out_errors_per_second", "per_second", "outbound packets with errors"),
            gauge("in_discards_per_second", "per_second", "inbound packets discarded"),
            gauge("out_discards_per_second", "per_second", "outbound packets discarded"),
            gauge("in_error_ratio_percent", "percent",
                  "inbound errors per inbound unicast packet")))

SNMP_ENTITY = Measurement(
    "snmp_entity", "hardware inventory (ENTITY-MIB entPhysicalTable): chassis, modules, "
    "power supplies and fans with their model, serial and firmware",
    tags=(COMPONENT, tag("class", "entPhysicalClass: chassis, module, powerSupply, fan"),
          tag("model", "entPhysicalModelName"), tag("serial", "entPhysicalSerialNum"),
          tag("firmware", "entPhysicalSoftwareRev")),
    fields=(info(),))

HEALTH_MEASUREMENTS: tuple[Measurement, ...] = (
    SNMP_ENTITY,
    SNMP_CPU, SNMP_MEMORY, SNMP_STORAGE, SNMP_SENSOR, SNMP_OPTICAL, SNMP_POE, SNMP_POE_PORT,
    SNMP_UPS, SNMP_STP, SNMP_PORT_ERRORS)
