"""What the SSH collector writes (the catalogue, agent/core/catalogue.py); metrics.py builds it.
Where the datum is SNMP's, the declaration is shared (agent/shared/measurements.py)."""

from __future__ import annotations

from agent.core.catalogue import Measurement, gauge, state, tag
from agent.shared.measurements import (
    INFO,
    IPV6_SUMMARY_FIELDS,
    LLDP_NEIGHBOR_TAGS,
    PRESENT,
    WLAN_AP,
    WLAN_CONTROLLER,
)
from agent.shared.platforms import SERVER_PLATFORM

MEASUREMENTS: tuple[Measurement, ...] = (
    Measurement(
        "ssh_device_info", "identity read from the CLI (each tag only when the CLI shows it)",
        tags=(tag("detected_vendor", "vendor told apart by the output (H3C vs HPE)"),
              tag("domestic", "yes / no / unknown"),
              tag("domestic_rule", "the rule that decided (the vendor table)"),
              tag("platform", "netmiko device type"),
              tag("model", "device model"), tag("os", "operating system"),
              tag("os_version", "OS version"), tag("serial", "serial number"),
              tag("hostname", "configured host name")),
        fields=(INFO,)),
    Measurement("ssh_system", "system facts from the CLI",
                fields=(gauge("uptime_seconds", "seconds", "device uptime"),)),
    Measurement(
        "ssh_interface_ipv6", "IPv6 per interface from the CLI",
        tags=(tag("ifname", "interface name"),),
        fields=(state("admin_status", "IF-MIB values: 1 up, 2 down"),
                state("oper_status", "IF-MIB values: 1 up, 2 down"),
                gauge("addresses", "", "IPv6 addresses on the interface"),
                gauge("global_addresses", "", "global unicast (2000::/3) addresses"))),
    Measurement(
        "ssh_ip_address", "IPv6 addresses listed by the CLI",
        tags=(tag("address", "the address"), tag("family", "ipv6"),
              tag("scope", "global / ula / linklocal / other / invalid"),
              tag("ifname", "interface name")),
        fields=(PRESENT,)),
    Measurement("ssh_ipv6", "the device's IPv6 readiness from the CLI (snmp_ipv6's fields)",
                fields=IPV6_SUMMARY_FIELDS),
    Measurement("ssh_lldp_neighbor", "LLDP neighbours from the CLI", tags=LLDP_NEIGHBOR_TAGS,
                fields=(PRESENT,)),
    WLAN_AP,
    WLAN_CONTROLLER,
    SERVER_PLATFORM,  # Linux servers: CPU/OS/database/middleware (servers.py)
)
