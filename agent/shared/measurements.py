"""Measurements two plugins write with one meaning (`wlan_ap` from SNMP and from the CLI;
the IPv6 summary of `snmp_ipv6` and `ssh_ipv6`): declared once here, so both producers agree
on field kinds and units by construction (`Catalogue.add` refuses a disagreement)."""

from __future__ import annotations

from agent.core.catalogue import Measurement, gauge, info, state, tag
from inventory.models import Inventory


def sub_entity_place(inventory: Inventory, mac: str) -> dict[str, str]:
    """The place tags of a sub-entity behind the polled device (an AP behind its controller,
    its radios): those of the inventory device with that MAC, else explicitly none, so it never
    inherits the polled device's place (the framework's target tags; "" wins and is not
    rendered). The one way every collector places sub-entities."""
    dev = inventory.by_mac(mac) if mac else None
    return {"building": (dev.building or "") if dev else "",
            "room": (dev.room or "") if dev else ""}


# APs and radios behind a controller carry their own place (`sub_entity_place` of `ap_mac`),
# never the controller's.
AP_IDENTITY = (
    tag("controller", "inventory id of the polled controller"),
    tag("ap_name", "AP name on the controller"),
    tag("ap_mac", "AP MAC (lower case, colon-separated); places the AP from the inventory"),
)

WLAN_CONTROLLER = Measurement(
    "wlan_controller", "a wireless controller's AP table, summed",
    fields=(
        gauge("aps_total", "", "APs in the controller's AP table"),
        gauge("aps_up", "", "APs the controller reports up"),
        gauge("clients", "", "associated clients (the controller's total, else the sum over APs)"),
    ))

WLAN_AP = Measurement(
    "wlan_ap", "one AP as its controller lists it; building/room are the AP's own "
    "(empty when its MAC is not in the inventory)",
    tags=(*AP_IDENTITY,
          tag("ap_model", "AP model"),
          tag("ap_state", "up / down / other"),
          tag("ap_ipv4", "management IPv4 address, when listed"),
          tag("ap_ipv6", "management IPv6 address, when listed")),
    fields=(
        state("up", "1 when the controller reports the AP up, else 0"),
        gauge("clients", "", "associated clients, when listed"),
        gauge("uptime_seconds", "seconds", "AP uptime, when listed"),
    ))

WLAN_RADIO = Measurement(
    "wlan_radio", "one radio of an AP behind a controller; building/room are the AP's own "
    "(empty when its MAC is not in the inventory)",
    tags=(*AP_IDENTITY,
          tag("radio", "radio number in the vendor table"),
          tag("band", "2.4GHz / 5GHz / 6GHz (from the channel when the vendor has no band)")),
    fields=(
        state("up", "1 radio up, 0 down"),
        gauge("channel", "", "channel number"),
        gauge("width_mhz", "MHz", "channel width"),
        gauge("utilization_percent", "percent", "channel utilisation"),
        gauge("clients", "", "clients on this radio"),
    ))

# the IPv6 facts a device gives over SNMP or its CLI: the same names, kinds and units
IPV6_SUMMARY_FIELDS = (
    gauge("global_addresses", "", "global unicast IPv6 addresses (2000::/3)"),
    gauge("interfaces_with_global_ipv6", "", "interfaces with at least one global address"),
    gauge("interfaces", "", "interfaces of the device"),
)

LLDP_NEIGHBOR_TAGS = (
    tag("local_port", "local port name"),
    tag("remote_chassis", "remote chassis id (a MAC when the subtype says so)"),
    tag("remote_port", "remote port id"),
    tag("remote_sys_name", "remote system name"),
)

PRESENT = state("present", "1: the row exists")
INFO = info()
