"""Platforms and their command sets, as data.

A platform is a netmiko `device_type`. Each platform lists the commands we run and the TextFSM
template that parses each one: ntc-templates' file where it covers the command (well kept, tested
against many real devices), our own file in `templates/` where it does not.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from agent.shared import vendors
from inventory.models import DeviceKind


class Platform(enum.StrEnum):
    """netmiko device types we have command sets for."""

    HUAWEI = "huawei"  # VRP and YunShan share the CLI we use
    HP_COMWARE = "hp_comware"  # H3C / New H3C (and HPE-branded) Comware 5 and 7
    RUIJIE_OS = "ruijie_os"
    ZTE_ZXROS = "zte_zxros"
    CISCO_IOS = "cisco_ios"
    CISCO_XE = "cisco_xe"
    ARUBA_OS = "aruba_os"  # ArubaOS mobility controllers
    LINUX = "linux"  # servers: files and `ps`, classified by collectors/ssh/servers.py


class CommandKind(enum.StrEnum):
    VERSION = "version"
    IPV6_INTERFACES = "ipv6_interfaces"
    AP_LIST = "ap_list"
    LLDP_NEIGHBORS = "lldp_neighbors"
    SERVER = "server"  # Linux servers' CPU/OS/software (collectors/ssh/servers.py)


class TemplateSource(enum.StrEnum):
    NTC = "ntc"  # ntc_templates/templates/<file>
    OWN = "own"  # collectors/ssh/templates/<file>


@dataclass(frozen=True, slots=True)
class Command:
    kind: CommandKind
    cli: str
    source: TemplateSource
    template: str  # file name
    # None: every device; otherwise only devices of these kinds (an AP list on a switch
    # would only be rejected by the device)
    kinds: frozenset[DeviceKind] | None = None


_WLAN = frozenset({DeviceKind.WLAN_CONTROLLER})
_NTC, _OWN = TemplateSource.NTC, TemplateSource.OWN
_V, _V6, _AP, _LLDP = (CommandKind.VERSION, CommandKind.IPV6_INTERFACES, CommandKind.AP_LIST,
                       CommandKind.LLDP_NEIGHBORS)

_CISCO: tuple[Command, ...] = (
    Command(_V, "show version", _NTC, "cisco_ios_show_version.textfsm"),
    Command(_V6, "show ipv6 interface brief", _NTC, "cisco_ios_show_ipv6_interface_brief.textfsm"),
    Command(_LLDP, "show lldp neighbors", _NTC, "cisco_ios_show_lldp_neighbors.textfsm"),
)

COMMAND_SETS: Mapping[Platform, tuple[Command, ...]] = {
    Platform.HUAWEI: (
        Command(_V, "display version", _NTC, "huawei_vrp_display_version.textfsm"),
        Command(_V6, "display ipv6 interface brief", _OWN,
                "huawei_display_ipv6_interface_brief.textfsm"),
        Command(_AP, "display ap all", _NTC, "huawei_vrp_display_ap_all.textfsm", _WLAN),
        Command(_LLDP, "display lldp neighbor", _NTC, "huawei_vrp_display_lldp_neighbor.textfsm"),
    ),
    Platform.HP_COMWARE: (
        Command(_V, "display version", _OWN, "comware_display_version.textfsm"),
        Command(_V6, "display ipv6 interface brief", _OWN,
                "comware_display_ipv6_interface_brief.textfsm"),
        Command(_LLDP, "display lldp neighbor-information list", _NTC,
                "hp_comware_display_lldp_neighbor-information_list.textfsm"),
    ),
    Platform.RUIJIE_OS: (
        Command(_V, "show version", _OWN, "ruijie_show_version.textfsm"),
        Command(_V6, "show ipv6 interface brief", _OWN,
                "ruijie_show_ipv6_interface_brief.textfsm"),
    ),
    Platform.ZTE_ZXROS: (
        Command(_V, "show version", _NTC, "zte_zxros_show_version.textfsm"),
    ),
    Platform.CISCO_IOS: _CISCO,
    Platform.CISCO_XE: _CISCO,
    Platform.ARUBA_OS: (
        Command(_V, "show version", _NTC, "aruba_os_show_version.textfsm"),
        Command(_V6, "show ipv6 interface brief", _NTC,
                "aruba_os_show_ipv6_interface_brief.textfsm"),
        Command(_AP, "show ap database", _NTC, "aruba_os_show_ap_database.textfsm", _WLAN),
    ),
}

# Platforms with an IOS-like privileged EXEC level entered by `enable` + secret. VRP and Comware
# have none: display commands run in user view, and netmiko's enable() on Comware would enter
# system-view (configuration mode), which a monitoring session must never do.
ENABLE_PLATFORMS = frozenset({Platform.CISCO_IOS, Platform.CISCO_XE, Platform.RUIJIE_OS,
                              Platform.ZTE_ZXROS, Platform.ARUBA_OS})

def platform_for_vendor(vendor: str | None) -> Platform | None:
    """The CLI platform of an inventory vendor (any spelling the vendor catalogue knows, e.g.
    华为 / New H3C); None when the catalogue has no CLI platform for it."""
    v = vendors.by_name(vendor)
    return Platform(v.cli_platform) if v is not None and v.cli_platform else None


def commands_for(platform: Platform, kind: DeviceKind | None,
                 wanted: frozenset[CommandKind]) -> tuple[Command, ...]:
    return tuple(
        c for c in COMMAND_SETS[platform]
        if c.kind in wanted and (c.kinds is None or (kind is not None and kind in c.kinds)))
