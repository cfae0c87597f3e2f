"""The `snmp` plugin end to end against snmpsim: metric names and tags per docs/metrics.md,
APs placed in their inventory rooms by MAC, rates from the second poll, partial walks kept."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from agent.core.errors import CollectError, PartialCollect
from agent.core.model import ErrorType, Item, Metric
from agent.core.plugin import BuildContext, Target
from collectors.snmp.collect import DevicePoller
from collectors.snmp.plugin import SPEC, SnmpConfig, build
from collectors.snmp.records import Profile
from collectors.snmp.session import Oid, SnmpType, VarBind, oid_from_str
from collectors.snmp.walker import PartialWalk, Repetitions, TooBigError, bulk_walk
from config.credentials import SnmpV2cCredential
from inventory.models import Building, Campus, Device, DeviceKind, Inventory, Room, RoomKind
from tests.collectors.snmp.conftest import SnmpAgent

AP_MAC = "50:6f:77:ea:dc:a0"  # the AP in the vrp_ac6605-26 recording (hwWlanApTable index)


def _inventory() -> Inventory:
    campus = Campus("hn-vc", "Test Vocational College")
    ac = Device("ac-1", DeviceKind.WLAN_CONTROLLER, "hn-vc", "b-admin", "r-mdf",
                ipv4="127.0.0.1", credential="ac6605", vendor="Huawei")
    ap = Device("ap-101", DeviceKind.AP, "hn-vc", "b-teach", "r-101", mac=AP_MAC)
    return Inventory.build(
        campus, [Building("b-admin", "Admin"), Building("b-teach", "Teaching")],
        [Room("r-mdf", "MDF", RoomKind.MACHINE_ROOM, "b-admin"),
         Room("r-101", "Classroom 101", RoomKind.CLASSROOM, "b-teach")], [ac, ap])


def _ctx(tmp_path: Path, inventory: Inventory) -> BuildContext:
    creds = {c: SnmpV2cCredential(name=c, type="snmp_v2c", community=c)
             for c in ("vrp_ac6605-26", "fortigate_60fospfv3")}
    creds["ac6605"] = creds["vrp_ac6605-26"]
    return BuildContext(instance="snmp/test", inventory=inventory, credentials=creds,
                        data_dir=tmp_path, config_dir=tmp_path)


def _by_name(items: Sequence[Item]) -> dict[str, list[Metric]]:
    out: dict[str, list[Metric]] = {}
    for it in items:
        assert isinstance(it, Metric)
        out.setdefault(it.name, []).append(it)
    return out


async def _poll_recording(agent: SnmpAgent, tmp_path: Path, community: str,
                          profiles: list[str]) -> dict[str, list[Metric]]:
    """One poll through the plugin of one recording, by its community."""
    creds = {community: SnmpV2cCredential(name=community, type="snmp_v2c",
                                          community=community)}
    ctx = BuildContext(instance="snmp/test", inventory=Inventory.empty(), credentials=creds,
                       data_dir=tmp_path, config_dir=tmp_path)
    poller = build(SnmpConfig(transport="pysnmp", request_timeout_secs=0.5,
                              credential=community, profiles=profiles), ctx)
    try:
        return _by_name(await poller.poll(Target(id=community, ipv4="127.0.0.1",
                                                 port=agent.port)))
    finally:
        await poller.close()


@pytest.mark.timeout(60)
async def test_controller_poll_places_aps_in_their_rooms(snmpsim_fixtures: SnmpAgent,
                                                         tmp_path: Path) -> None:
    inv = _inventory()
    poller = build(SnmpConfig(transport="pysnmp", request_timeout_secs=0.5),
                   _ctx(tmp_path, inv))
    device = inv.device("ac-1")
    assert device is not None
    target = Target(id="ac-1", device=device, port=snmpsim_fixtures.port)
    try:
        first = _by_name(await poller.poll(target))
        second = _by_name(await poller.poll(target))
    finally:
        await poller.close()
    (info,) = first["snmp_device_info"]
    assert info.tags["detected_vendor"] == "Huawei" and info.tags["domestic"] == "yes"
    assert info.tags["domestic_rule"] == "huawei-pen"
    assert info.tags["detected_kind"] == "wlan_controller"
    assert info.tags["sys_object_id"] == "1.3.6.1.4.1.2011.2.240.6"
    assert info.fields == {"info": 1}
    assert len(first["snmp_interface"]) == 33
    (ctrl,) = first["wlan_controller"]
    assert ctrl.fields["aps_total"] == 1
    (ap,) = first["wlan_ap"]
    assert ap.tags["ap_mac"] == AP_MAC and ap.tags["ap_name"] == "TestAP-NAME"
    assert ap.tags["ap_model"] == "AP7050DN-E"
    assert (ap.tags["building"], ap.tags["room"]) == ("b-teach", "r-101")
    assert ap.tags["controller"] == "ac-1"
    assert ap.tags["ap_ipv4"] == "" and ap.tags["ap_ipv6"] == ""  # not in this recording
    radios = sorted((r.tags["band"], r.fields["channel"]) for r in first["wlan_radio"])
    assert radios == [("2.4GHz", 6), ("5GHz", 40)]
    # Raw counters are ints; rates appear from the second poll (static recording: zero).
    ifm = next(m for m in second["snmp_interface"] if "in_octets" in m.fields)
    assert isinstance(ifm.fields["in_octets"], int)
    assert "in_bps" not in next(m for m in first["snmp_interface"]
                                if m.tags["ifindex"] == ifm.tags["ifindex"]).fields
    assert ifm.fields["in_bps"] == 0.0
    assert {"snmp_ipv6", "snmp_system"} <= set(first)


@pytest.mark.timeout(60)
async def test_dual_stack_firewall_reports_ipv6_addresses(snmpsim_fixtures: SnmpAgent,
                                                          tmp_path: Path) -> None:
    got = await _poll_recording(snmpsim_fixtures, tmp_path, "fortigate_60fospfv3",
                                ["system", "interfaces", "ipv6", "ip", "lldp"])
    addrs = [m for m in got["snmp_ip_address"] if m.tags["family"] == "ipv6"]
    assert len(addrs) == 6
    (v6,) = got["snmp_ipv6"]
    assert v6.fields["global_addresses"] == sum(1 for m in addrs if m.tags["scope"] == "global")
    assert v6.fields["global_addresses"] >= 1
    traffic = {m.tags["ip_version"]: m for m in got["snmp_ip_traffic"]}
    assert set(traffic) == {"ipv4", "ipv6"}  # ipSystemStatsTable per IP version
    assert all(isinstance(traffic[v].fields["in_octets"], int) for v in traffic)
    assert got["snmp_lldp_neighbor"], "the FortiGate recording has LLDP neighbours"
    assert all(m.tags["remote_chassis"] for m in got["snmp_lldp_neighbor"])


async def test_missing_credential_is_a_typed_error(tmp_path: Path) -> None:
    poller = build(SnmpConfig(), _ctx(tmp_path, Inventory.empty()))
    with pytest.raises(CollectError) as info:
        await poller.poll(Target(id="x", ipv4="127.0.0.1"))
    assert info.value.error_type is ErrorType.AUTH
    await poller.close()


@pytest.mark.timeout(30)
async def test_a_non_snmp_device_credential_falls_back_to_the_instance_default(
        snmpsim_fixtures: SnmpAgent, tmp_path: Path) -> None:
    from config.credentials import SshCredential

    ctx = _ctx(tmp_path, Inventory.empty())
    creds = {**ctx.credentials, "cli": SshCredential(name="cli", type="ssh", username="u",
                                                     password="p")}
    ctx = BuildContext(instance=ctx.instance, inventory=ctx.inventory, credentials=creds,
                       data_dir=tmp_path, config_dir=tmp_path)
    poller = build(SnmpConfig(transport="pysnmp", credential="vrp_ac6605-26",
                              profiles=["system"]), ctx)
    try:
        items = await poller.poll(Target(id="ac", ipv4="127.0.0.1", credential="cli",
                                         port=snmpsim_fixtures.port))
    finally:
        await poller.close()
    info = next(m for m in items if isinstance(m, Metric) and m.name == "snmp_device_info")
    assert info.tags["detected_vendor"] == "Huawei"


def test_example_config_is_valid() -> None:
    SnmpConfig.model_validate({k: v for k, v in SPEC.example.items()
                               if k not in ("type", "interval_secs", "targets")})


class ScriptedSession:
    """Stands in for a device whose interface walk breaks halfway (unit level: the failure
    mode cannot be produced on demand by snmpsim)."""

    def __init__(self) -> None:
        self.closed = False

    async def get(self, oids: Sequence[Oid]) -> list[VarBind]:
        return [VarBind(o, SnmpType.NO_SUCH_OBJECT, None) for o in oids]

    async def walk(self, root: Oid) -> list[VarBind]:
        if root == oid_from_str("1.3.6.1.2.1.2.2.1.2"):  # ifDescr: two rows, then it breaks
            raise PartialWalk([VarBind((*root, 1), SnmpType.OCTET_STRING, b"ge0"),
                               VarBind((*root, 2), SnmpType.OCTET_STRING, b"ge1")],
                              ErrorType.PROTOCOL, "OID not increasing")
        return []

    async def close(self) -> None:
        self.closed = True


async def test_partial_walk_keeps_what_arrived() -> None:
    result = await DevicePoller(ScriptedSession(), [Profile.INTERFACES]).run()
    assert result.data is not None and sorted(result.data.interfaces) == [1, 2]
    assert [(f.what, f.error_type) for f in result.failures] == [
        ("IF-MIB::ifDescr", ErrorType.PROTOCOL)]


async def test_plugin_raises_partial_collect_with_items(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import collectors.snmp.plugin as plugin_mod

    async def fake_open(*args: object, **kw: object) -> ScriptedSession:
        return ScriptedSession()

    monkeypatch.setattr(plugin_mod, "open_session", fake_open)
    poller = build(SnmpConfig(credential="ac6605", profiles=["interfaces"]),
                   _ctx(tmp_path, Inventory.empty()))
    with pytest.raises(PartialCollect) as info:
        await poller.poll(Target(id="x", ipv4="127.0.0.1"))
    assert info.value.error_type is ErrorType.PROTOCOL
    names = [m.name for m in info.value.items if isinstance(m, Metric)]
    assert names.count("snmp_interface") == 2 and "snmp_device_info" in names
    await poller.close()


async def test_walk_steps_down_on_too_big_and_keeps_rows_on_failure() -> None:
    root = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2)
    rows = [VarBind((*root, i), SnmpType.OCTET_STRING, b"x") for i in range(1, 11)]
    calls: list[int] = []

    async def request(start: Oid, reps: int) -> list[VarBind]:
        calls.append(reps)
        if reps > 3:
            raise TooBigError()
        after = [vb for vb in rows if vb.oid > start][:reps]
        return after or [VarBind((1, 3, 6, 1, 2, 1, 2, 2, 1, 3, 1), SnmpType.INTEGER, 6)]

    reps = Repetitions(current=12, answered=True)
    assert await bulk_walk(request, root, reps) == rows
    assert reps.current == 3 and calls[:3] == [12, 6, 3]

    async def dies_after_first(start: Oid, n: int) -> list[VarBind]:
        if start != root:
            raise CollectError(ErrorType.TIMEOUT)
        return rows[:n]

    with pytest.raises(PartialWalk) as info:
        await bulk_walk(dies_after_first, root, Repetitions(current=4, minimum=4))
    assert info.value.varbinds == rows[:4] and info.value.error_type is ErrorType.TIMEOUT


@pytest.mark.timeout(60)
async def test_fdb_maps_mac_to_port_vlan_and_ip(snmpsim_fixtures: SnmpAgent,
                                                tmp_path: Path) -> None:
    got = await _poll_recording(snmpsim_fixtures, tmp_path, "arubaos",
                                ["system", "interfaces", "fdb"])
    fdb = got["snmp_fdb"]
    assert len(fdb) == 38
    assert all(m.tags["mac"].count(":") == 5 and m.tags["port"] for m in fdb)
    # Q-BRIDGE gives the VLAN; ipNetToPhysical/ipNetToMedia give the IP of known MACs.
    assert {m.tags["vlan"] for m in fdb} >= {"10", "20"}
    assert any(m.tags["ip"] == "192.168.100.1" for m in fdb)


@pytest.mark.timeout(60)
async def test_aruba_instant_aps_with_addresses_state_and_uptime(snmpsim_fixtures: SnmpAgent,
                                                                 tmp_path: Path) -> None:
    got = await _poll_recording(snmpsim_fixtures, tmp_path, "aruba-instant_105",
                                ["system", "wlan"])
    aps = {m.tags["ap_mac"]: m for m in got["wlan_ap"]}
    assert set(aps) == {"24:de:c6:c3:50:a4", "24:de:c6:c3:52:da"}
    ap = aps["24:de:c6:c3:50:a4"]
    assert ap.tags["ap_ipv4"] == "10.4.1.27" and ap.tags["ap_state"] == "up"
    assert ap.tags["ap_model"] == "105" and ap.fields["up"] == 1
    assert ap.fields["uptime_seconds"] == 85817.0  # aiAPUptime TimeTicks 8581700
    (ctrl,) = got["wlan_controller"]
    assert (ctrl.fields["aps_total"], ctrl.fields["aps_up"]) == (2, 2)


@pytest.mark.timeout(60)
async def test_per_device_overrides(snmpsim_fixtures: SnmpAgent, tmp_path: Path) -> None:
    cfg = SnmpConfig.model_validate({
        "transport": "pysnmp", "credential": "vrp_ac6605-26", "profiles": ["system"],
        "max_repetitions": 25,
        "devices": {"ac-weak": {"max_repetitions": 5, "request_timeout_secs": 0.7,
                                "retries": 0}}})
    weak, other = cfg.transport_options("ac-weak"), cfg.transport_options("ac-2")
    assert (weak.max_repetitions, weak.timeout_s, weak.retries) == (5, 0.7, 0)
    assert (other.max_repetitions, other.retries) == (25, 1)
    poller = build(cfg, _ctx(tmp_path, Inventory.empty()))
    target = Target(id="ac-weak", ipv4="127.0.0.1", port=snmpsim_fixtures.port)
    try:
        await poller.poll(target)
        session = poller._devices["ac-weak"].session
        assert session.max_repetitions == 5  # type: ignore[attr-defined]
    finally:
        await poller.close()


@pytest.mark.timeout(60)
async def test_ipv6_neighbor_hosts_from_the_nd_cache(snmpsim_fixtures: SnmpAgent,
                                                     tmp_path: Path) -> None:
    got = await _poll_recording(snmpsim_fixtures, tmp_path, "vrp_ne", ["system", "ipv6"])
    (v6,) = got["snmp_ipv6"]
    # vrp_ne's ipNetToPhysicalTable: one IPv6 neighbour (2a03:2760::1:0:0:0:2), nine IPv4.
    assert v6.fields["ipv6_neighbor_hosts"] == 1
    assert int(v6.fields["ipv4_neighbor_hosts"]) >= 1
