"""TextFSM templates (ntc-templates' and ours) against real device outputs, no SSH involved."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.core.model import ErrorType, EventState
from collectors.ssh.metrics import (
    address_scope,
    ap_metrics,
    ipv6_metrics,
    vendor_mismatch,
    version_metrics,
)
from collectors.ssh.normalize import NORMALIZERS, NormalizeError, normalize_mac, parse_uptime
from collectors.ssh.parsing import ParseFailure, parse, template_path
from collectors.ssh.platforms import (
    COMMAND_SETS,
    CommandKind,
    Platform,
    commands_for,
    platform_for_vendor,
)
from collectors.ssh.rejection import refusal
from collectors.ssh.rows import AccessPoint, ApState, Ipv6Interface, LldpNeighbor, VersionInfo
from inventory.models import Campus, Device, DeviceKind, Inventory

DATA = Path(__file__).resolve().parent / "data"
GARBAGE = "\x1b[?25l@@@@ 0x7f3c ####\n%%%% !!~~\nsegmentation fault at 0xdeadbeef\n"


def rows(platform: Platform, kind: CommandKind, fixture: str) -> list[object]:
    cmd = next(c for c in COMMAND_SETS[platform] if c.kind is kind)
    return list(NORMALIZERS[cmd.template](parse(cmd, (DATA / fixture).read_text())))


def test_every_command_has_a_template_file_and_a_normalizer() -> None:
    for cmds in COMMAND_SETS.values():
        for c in cmds:
            assert template_path(c.source, c.template).is_file(), c.template
            assert c.template in NORMALIZERS, c.template


def test_huawei_version_real_output() -> None:
    [v] = rows(Platform.HUAWEI, CommandKind.VERSION, "huawei_display_version.raw")
    assert v == VersionInfo("Huawei", "AR617VW-LTE4EA", "VRP 5.170", "V300R019C13SPC200",
                            uptime_seconds=15 * 3600 + 16 * 60)


def test_h3c_version_real_output_is_h3c_not_hpe() -> None:
    [v] = rows(Platform.HP_COMWARE, CommandKind.VERSION, "h3c_display_version.raw")
    assert isinstance(v, VersionInfo)
    assert (v.vendor, v.model, v.os_name) == ("H3C", "S7510E", "Comware 5.20")
    assert v.os_version == "5.20 6709L25"
    [m] = [m for m in version_metrics(v, Platform.HP_COMWARE, 1) if m.name == "ssh_device_info"]
    assert m.tags["domestic"] == "yes"


def test_hpe_branded_comware_is_not_domestic() -> None:
    text = ("HPE Comware Software, Version 7.1.070, Release 3507P18\n"
            "Copyright (c) 2010-2023 Hewlett Packard Enterprise Development LP\n"
            "HPE 5130 48G PoE+ 4SFP+ 1-slot HI Switch JH326A uptime is 35 weeks, 3 days, "
            "5 hours, 55 minutes\nLast reboot reason : User reboot\n")
    cmd = COMMAND_SETS[Platform.HP_COMWARE][0]
    [v] = NORMALIZERS[cmd.template](parse(cmd, text))
    assert isinstance(v, VersionInfo) and v.vendor == "HPE"
    assert version_metrics(v, Platform.HP_COMWARE, 1)[0].tags["domestic"] == "no"


def test_ruijie_version_real_output() -> None:
    [v] = rows(Platform.RUIJIE_OS, CommandKind.VERSION, "ruijie_show_version.raw")
    assert isinstance(v, VersionInfo)
    assert (v.vendor, v.model, v.os_version, v.serial) == (
        "Ruijie", "S2628G-E", "10.4(3b19)p3", "2683DH7350460")
    assert v.uptime_seconds == 3 * 60 + 8  # RGOS prints d:h:m:s


def test_cisco_version_real_output() -> None:
    [v] = rows(Platform.CISCO_IOS, CommandKind.VERSION, "cisco_show_version.raw")
    assert isinstance(v, VersionInfo)
    assert (v.model, v.os_version, v.hostname, v.serial) == (
        "WS-C4948E", "12.2(54)SG1", "router1", "CAT1451S15C")


def test_huawei_ipv6_brief_real_output() -> None:
    ifs = rows(Platform.HUAWEI, CommandKind.IPV6_INTERFACES,
               "huawei_display_ipv6_interface_brief.raw")
    assert len(ifs) == 10
    by = {i.name: i for i in ifs if isinstance(i, Ipv6Interface)}
    assert by["Eth-Trunk1"] == Ipv6Interface("Eth-Trunk1", True, True, ("fd00:0db8:abcd:0001::",))
    assert by["100GE1/0/30"].oper_up is False
    assert by["LoopBack0"].oper_up is True  # "up(s)": spoofing, still up


def test_cisco_ipv6_brief_real_output_and_metrics() -> None:
    ifs = [i for i in rows(Platform.CISCO_IOS, CommandKind.IPV6_INTERFACES,
                           "cisco_show_ipv6_interface_brief.raw") if isinstance(i, Ipv6Interface)]
    assert len(ifs) == 78
    vlan76 = next(i for i in ifs if i.name == "Vlan76")
    assert vlan76.addresses == ("fe80::333:3333:3333:3333", "2a01:3333:3333:33::1",
                                "2a01:3333:3333:33::2")
    te310 = next(i for i in ifs if i.name == "TenGigabitEthernet3/10")
    assert (te310.admin_up, te310.oper_up) == (False, False)
    summary = next(m for m in ipv6_metrics(ifs, 1) if m.name == "ssh_ipv6")
    assert summary.fields == {"interfaces": 78, "interfaces_with_global_ipv6": 18,
                              "global_addresses": 30}


def test_own_templates_on_constructed_outputs() -> None:
    # constructed in the vendors' documented layout (data/SOURCES.md): our templates only
    h3c = rows(Platform.HP_COMWARE, CommandKind.IPV6_INTERFACES,
               "h3c_display_ipv6_interface_brief.raw")
    assert [(i.name, i.admin_up, i.oper_up, i.addresses) for i in h3c
            if isinstance(i, Ipv6Interface)][2:] == [
        ("Vlan-interface20", True, False, ()),
        ("Vlan-interface30", False, False, ("2001:da8:2004:30::1",))]
    rj = rows(Platform.RUIJIE_OS, CommandKind.IPV6_INTERFACES,
              "ruijie_show_ipv6_interface_brief.raw")
    assert [i.name for i in rj if isinstance(i, Ipv6Interface)] == [
        "GigabitEthernet 0/25", "VLAN 10", "VLAN 20"]


def test_huawei_ap_list_real_output_to_wlan_metrics() -> None:
    aps = [a for a in rows(Platform.HUAWEI, CommandKind.AP_LIST, "huawei_display_ap_all.raw")
           if isinstance(a, AccessPoint)]
    assert [(a.name, a.state) for a in aps] == [
        ("APW_0055(WC VIP)", ApState.UP), ("APW_0001", ApState.DOWN),
        ("APW_0002", ApState.DOWN), ("APW_0003(Parkin VIP)", ApState.OTHER)]
    assert aps[0].mac == "aa:aa:aa:aa:aa:aa"
    assert aps[0].uptime_seconds == 4 * 86400 + 3600 + 600
    ap_dev = Device("a-101-ap", DeviceKind.AP, "c", "teach-a", "a-101", mac="aa:aa:aa:aa:aa:aa")
    inv = Inventory.build(Campus("c", "c"), (), (), (ap_dev,))
    ms = ap_metrics(aps, "ac-1", inv, 1)
    first = ms[0]
    assert first.name == "wlan_ap"
    assert first.tags == {"controller": "ac-1", "ap_name": "APW_0055(WC VIP)",
                          "ap_mac": "aa:aa:aa:aa:aa:aa", "ap_model": "AirEngine1111-11",
                          "ap_state": "up", "ap_ipv4": "11.11.11.11", "building": "teach-a",
                          "room": "a-101"}
    # not in the inventory: explicitly no place, so it does not inherit the controller's
    assert (ms[1].tags["building"], ms[1].tags["room"]) == ("", "")
    assert first.fields == {"up": 1, "clients": 0, "uptime_seconds": 349800}
    assert ms[-1].name == "wlan_controller"
    assert ms[-1].fields == {"aps_total": 4, "aps_up": 1, "clients": 0}


@pytest.mark.parametrize(("platform", "fixture", "first"), [
    (Platform.HUAWEI, "huawei_display_lldp_neighbor.raw",
     LldpNeighbor("GigabitEthernet0/0/1", "f5:5f:c2:c5:e1:80", "Gi1/0/1", "tsa-2960-sw01")),
    (Platform.HP_COMWARE, "h3c_display_lldp_neighbor-information_list.raw",
     LldpNeighbor("XGE1/0/1", "bc:ea:fa:00:00:01", "Ten-GigabitEthernet1/0/30", "SW-TEST-001")),
    (Platform.CISCO_IOS, "cisco_show_lldp_neighbors.raw",
     LldpNeighbor("Fa0/13", "", "Gi0/13", "S2")),
])
def test_lldp_real_outputs(platform: Platform, fixture: str, first: LldpNeighbor) -> None:
    got = rows(platform, CommandKind.LLDP_NEIGHBORS, fixture)
    assert got[0] == first


@pytest.mark.parametrize("platform", [Platform.HUAWEI, Platform.HP_COMWARE, Platform.RUIJIE_OS])
def test_garbage_is_a_parse_failure_not_an_empty_result(platform: Platform) -> None:
    for cmd in COMMAND_SETS[platform]:
        if cmd.kind in (CommandKind.VERSION, CommandKind.IPV6_INTERFACES):
            with pytest.raises((ParseFailure, NormalizeError)):
                NORMALIZERS[cmd.template](parse(cmd, GARBAGE))


def test_refusals() -> None:
    vrp = "              ^\nError: Unrecognized command found at '^' position.\n"
    assert refusal(vrp, privileged=True) == (
        ErrorType.PROTOCOL, "Error: Unrecognized command found at '^' position.")
    ios = "        ^\n% Invalid input detected at '^' marker.\n"
    assert refusal(ios, privileged=False) is not None
    assert refusal(ios, privileged=False)[0] is ErrorType.PERMISSION  # type: ignore[index]
    assert refusal("Error: Insufficient permission.\n", privileged=True) is not None
    assert refusal((DATA / "cisco_show_version.raw").read_text(), privileged=False) is None


def test_helpers() -> None:
    assert parse_uptime("2 years, 31 weeks, 6 days, 9 hours, 55 minutes") == (
        2 * 365 * 86400 + 31 * 7 * 86400 + 6 * 86400 + 9 * 3600 + 55 * 60)
    assert parse_uptime("313:22:34:30") == ((313 * 24 + 22) * 60 + 34) * 60 + 30
    assert parse_uptime("-") is None
    assert normalize_mac("70BA-EF00-0101") == "70:ba:ef:00:01:01"
    assert normalize_mac("0011.2233.4455") == "00:11:22:33:44:55"
    assert address_scope("fe80::1") == "linklocal"
    assert address_scope("2001:da8::1") == "global"
    assert address_scope("fd00::1") == "ula"
    assert address_scope("fd01:abcd:efgh::") == "invalid"
    assert platform_for_vendor("华为") is Platform.HUAWEI
    assert platform_for_vendor(" H3C ") is Platform.HP_COMWARE
    assert platform_for_vendor("Hikvision") is None
    wanted = frozenset(CommandKind)
    assert CommandKind.AP_LIST not in {c.kind for c in commands_for(
        Platform.HUAWEI, DeviceKind.CORE_SWITCH, wanted)}
    assert CommandKind.AP_LIST in {c.kind for c in commands_for(
        Platform.HUAWEI, DeviceKind.WLAN_CONTROLLER, wanted)}


def test_zte_version_real_output() -> None:
    [v] = rows(Platform.ZTE_ZXROS, CommandKind.VERSION, "zte_show_version.raw")
    assert v == VersionInfo("ZTE", "ZXCTN 6120H-S", "ZXROS", "V5.10.00.50",
                            uptime_seconds=23 * 86400 + 10 * 3600 + 59 * 60)


def test_aruba_ap_database_real_output() -> None:
    aps = [a for a in rows(Platform.ARUBA_OS, CommandKind.AP_LIST, "aruba_show_ap_database.raw")
           if isinstance(a, AccessPoint)]
    assert len(aps) == 3
    first = aps[0]
    assert (first.name, first.model, first.state, first.uptime_seconds) == (
        "ap-building-1", "635", ApState.UP, 2 * 86400 + 17 * 3600 + 8 * 60 + 4)


def test_vendor_mismatch_events_on_change_only() -> None:
    hpe = VersionInfo("HPE", "5130 48G PoE+ 4SFP+ 1-slot HI Switch JH326A", "Comware 7.1.070",
                      "7.1.070 3507P18")
    now, ev = vendor_mismatch("core-sw", "新华三", hpe, None)
    assert now and ev is not None and ev.state is EventState.RAISED
    assert ev.kind == "inventory_mismatch" and ev.key == "ssh:core-sw:vendor"
    assert "the inventory says vendor 新华三, the CLI shows HPE" in ev.summary
    assert vendor_mismatch("core-sw", "新华三", hpe, True) == (True, None)  # still: no event
    h3c = VersionInfo("H3C", "S7510E", "Comware 5.20", "5.20 6709L25")
    now, ev = vendor_mismatch("core-sw", "新华三", h3c, True)
    assert not now and ev is not None and ev.state is EventState.RESOLVED
    assert vendor_mismatch("x", "Some OEM", h3c, None) == (False, None)  # cannot tell
