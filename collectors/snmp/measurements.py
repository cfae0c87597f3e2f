"""What the SNMP poller writes (the catalogue, agent/core/catalogue.py); metrics.py builds it."""

from __future__ import annotations

from agent.core.catalogue import Measurement, counter, gauge, state, tag
from agent.shared.measurements import (
    INFO,
    IPV6_SUMMARY_FIELDS,
    LLDP_NEIGHBOR_TAGS,
    PRESENT,
    WLAN_AP,
    WLAN_CONTROLLER,
    WLAN_RADIO,
)
from agent.shared.platforms import SERVER_PLATFORM
from collectors.snmp.profiles.measurements import HEALTH_MEASUREMENTS

_IF = (tag("ifindex", "IF-MIB ifIndex"), tag("ifname", "ifName, else ifDescr"))
_RATES = (
    gauge("in_bps", "bps", "inbound bit rate since the previous poll (wrap- and reset-safe)"),
    gauge("out_bps", "bps", "outbound bit rate since the previous poll"),
)

MEASUREMENTS: tuple[Measurement, ...] = (
    Measurement(
        "snmp_device_info", "identity of the device: vendor, 国产 flag and the rule that "
        "decided it, kind, OS, ENTITY-MIB chassis facts",
        tags=(tag("sys_object_id", "sysObjectID, dotted (empty without a system group)"),
              tag("detected_vendor", "vendor by the identification rules (unknown when none)"),
              tag("domestic", "yes / no / unknown"),
              tag("domestic_rule", "id of the vendor rule that decided, none otherwise"),
              tag("detected_kind", "switch, router, wlan_controller, ap, firewall … unknown"),
              tag("kind_rule", "id of the rule that decided the kind"),
              tag("os", "operating system family"),
              tag("model", "ENTITY-MIB chassis model"),
              tag("serial", "ENTITY-MIB chassis serial"),
              tag("firmware", "ENTITY-MIB chassis firmware, or the vendor subtree"),
              tag("sys_name", "sysName")),
        fields=(INFO,)),
    Measurement("snmp_system", "system group",
                fields=(gauge("uptime_seconds", "seconds", "sysUpTime"),)),
    Measurement(
        "snmp_interface", "IF-MIB interface table (64-bit HC counters when the device has them)",
        tags=(*_IF, tag("ifalias", "ifAlias")),
        fields=(
            counter("in_octets", "bytes", "ifHCInOctets / ifInOctets"),
            counter("out_octets", "bytes", "ifHCOutOctets / ifOutOctets"),
            counter("in_ucast_pkts", "packets", "unicast packets in"),
            counter("out_ucast_pkts", "packets", "unicast packets out"),
            counter("in_errors", "packets", "inbound packets with errors"),
            counter("out_errors", "packets", "outbound packets with errors"),
            counter("in_discards", "packets", "inbound packets discarded"),
            counter("out_discards", "packets", "outbound packets discarded"),
            gauge("speed_mbps", "Mbps", "ifHighSpeed, else ifSpeed"),
            state("admin_status", "IF-MIB ifAdminStatus: 1 up, 2 down, 3 testing"),
            state("oper_status", "IF-MIB ifOperStatus: 1 up, 2 down, 3 testing …"),
            *_RATES,
            gauge("in_utilization_percent", "percent", "in_bps against speed_mbps"),
            gauge("out_utilization_percent", "percent", "out_bps against speed_mbps"),
        )),
    Measurement(
        "snmp_ip_traffic", "IP-MIB ipSystemStatsTable per IP version (HC counters)",
        tags=(tag("ip_version", "ipv4 / ipv6"),),
        fields=(
            counter("in_octets", "bytes", "octets received"),
            counter("out_octets", "bytes", "octets sent"),
            counter("in_receives", "packets", "datagrams received"),
            counter("out_transmits", "packets", "datagrams sent"),
            counter("in_forw_datagrams", "packets", "datagrams forwarded"),
            *_RATES,
        )),
    Measurement(
        "snmp_ip_if_traffic", "IP-MIB ipIfStatsTable per IP version and interface",
        tags=(tag("ip_version", "ipv4 / ipv6"), *_IF),
        fields=(counter("in_octets", "bytes", "octets received"),
                counter("out_octets", "bytes", "octets sent"), *_RATES)),
    Measurement(
        "snmp_ipv6", "the device's IPv6 readiness (IP-MIB)",
        fields=(
            *IPV6_SUMMARY_FIELDS,
            gauge("ipv6_neighbor_hosts", "", "distinct MACs with a routable IPv6 address in "
                  "ipNetToPhysicalTable (IPv6-capable clients seen by a router)"),
            gauge("ipv4_neighbor_hosts", "", "distinct MACs with a routable IPv4 address"),
            state("ipv6_forwarding", "1 the device routes IPv6, 0 not (when it answers)"),
            state("ipv4_forwarding", "1 the device routes IPv4, 0 not (when it answers)"),
        )),
    Measurement(
        "snmp_ip_address", "IP-MIB ipAddressTable rows",
        tags=(tag("address", "the address"), tag("family", "ipv4 / ipv6"),
              tag("scope", "global / linklocal / loopback / ula / private / multicast / other"),
              tag("ifindex", "interface of the address (empty when unknown)")),
        fields=(PRESENT,)),
    Measurement("snmp_lldp_neighbor", "LLDP-MIB remote table", tags=LLDP_NEIGHBOR_TAGS,
                fields=(PRESENT,)),
    Measurement(
        "snmp_fdb", "bridge forwarding table (Q-BRIDGE, else BRIDGE-MIB)",
        tags=(tag("mac", "learned MAC"),
              tag("port", "ifName of the bridge port, else its number"),
              tag("vlan", "dot1qFdbId (empty from the plain BRIDGE-MIB table)"),
              tag("ip", "address of the MAC from the neighbour tables, when known")),
        fields=(PRESENT,)),
    WLAN_CONTROLLER,
    WLAN_AP,
    WLAN_RADIO,
    *HEALTH_MEASUREMENTS,  # device health (profiles/measurements.py)
    SERVER_PLATFORM,  # servers: CPU/OS/DB/middleware from HOST-RESOURCES (servers.py)
)
