"""Vendor AP/radio tables → one model, on crafted varbinds (H3C and AireOS have no
recording with APs; Huawei, Aruba Instant and the Cisco CBW are covered by the recordings)."""

from __future__ import annotations

from collectors.snmp.oids import Obj
from collectors.snmp.session import Oid, SnmpType, VarBind
from collectors.snmp.values import rows
from collectors.snmp.wlan import ApField, ApState, RadioField, build_controller, maps_for


def _col(obj: Obj, index: Oid, kind: SnmpType, value: int | bytes) -> tuple[Obj, VarBind]:
    return obj, VarBind((*obj.oid, *index), kind, value)


def _walks(*cells: tuple[Obj, VarBind]) -> dict[Obj, list[VarBind]]:
    out: dict[Obj, list[VarBind]] = {}
    for obj, vb in cells:
        out.setdefault(obj, []).append(vb)
    return out


def test_h3c_tables_join_on_the_ap_id() -> None:
    (m,) = maps_for("H3C")
    ap_id = (3, 65, 80, 49)  # OCTET STRING index "AP1": length + bytes
    a, r = m.ap, m.radio
    ap_rows = rows(_walks(
        _col(a[ApField.NAME], ap_id, SnmpType.OCTET_STRING, b"A101-AP"),
        _col(a[ApField.MODEL], ap_id, SnmpType.OCTET_STRING, b"WA6320"),
        _col(a[ApField.CLIENTS], ap_id, SnmpType.GAUGE32, 17),
        _col(a[ApField.MAC], ap_id, SnmpType.OCTET_STRING, bytes.fromhex("70baef000101")),
        _col(a[ApField.STATE], ap_id, SnmpType.INTEGER, 5),
        _col(a[ApField.IPV4], ap_id, SnmpType.IP_ADDRESS, bytes([10, 1, 1, 11])),
    ))
    radio_rows = rows(_walks(
        _col(r[RadioField.CHANNEL], (*ap_id, 1), SnmpType.INTEGER, 11),
        _col(r[RadioField.CHANNEL], (*ap_id, 2), SnmpType.INTEGER, 149),
        _col(r[RadioField.STATE], (*ap_id, 1), SnmpType.INTEGER, 1),
        _col(r[RadioField.STATE], (*ap_id, 2), SnmpType.INTEGER, 2),
    ))
    ctrl = build_controller(m, ap_rows, radio_rows, 1, 17)
    (ap,) = ctrl.aps
    assert (ap.name, ap.model, ap.mac, ap.ipv4, ap.state, ap.clients) == (
        "A101-AP", "WA6320", "70:ba:ef:00:01:01", "10.1.1.11", ApState.UP, 17)
    assert [(x.radio, x.band, x.channel, x.up) for x in ap.radios] == [
        ("1", "2.4GHz", 11, True), ("2", "5GHz", 149, False)]
    assert ctrl.aps_up == 1 and ctrl.clients == 17


def test_airespace_states_and_bands() -> None:
    airespace = next(m for m in maps_for("Cisco") if m.id == "airespace")
    mac = (0, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f)
    a, r = airespace.ap, airespace.radio
    ctrl = build_controller(airespace, rows(_walks(
        _col(a[ApField.NAME], mac, SnmpType.OCTET_STRING, b"lab-ap"),
        _col(a[ApField.STATE], mac, SnmpType.INTEGER, 2),  # disassociating
    )), rows(_walks(
        _col(r[RadioField.BAND], (*mac, 0), SnmpType.INTEGER, 1),
        _col(r[RadioField.BAND], (*mac, 1), SnmpType.INTEGER, 2),
        _col(r[RadioField.CLIENTS], (*mac, 1), SnmpType.INTEGER, 9),
    )), None, None)
    (ap,) = ctrl.aps
    assert ap.mac == "00:1b:2c:3d:4e:5f"  # from the table index
    assert ap.state is ApState.DOWN
    assert [(x.band, x.clients) for x in ap.radios] == [("2.4GHz", None), ("5GHz", 9)]
    assert ctrl.clients == 0 + 0  # no per-AP clients column, no controller total


def test_unknown_state_code_is_other() -> None:
    (huawei,) = maps_for("Huawei")
    mac = (1, 2, 3, 4, 5, 6)
    ctrl = build_controller(huawei, rows(_walks(
        _col(huawei.ap[ApField.NAME], mac, SnmpType.OCTET_STRING, b"ap"),
        _col(huawei.ap[ApField.STATE], mac, SnmpType.INTEGER, 7),  # download(7)
    )), {}, None, None)
    assert ctrl.aps[0].state is ApState.OTHER
