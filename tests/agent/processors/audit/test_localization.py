from collections.abc import Sequence

from agent.processors.audit import localization
from agent.processors.audit.model import Indicator, Status
from agent.processors.audit.vendors import classify_vendor
from inventory.models import DeviceKind, Inventory
from tests.agent.processors.audit.crafted import audit_input


def _get(inds: Sequence[Indicator], id_: str) -> Indicator:
    return next(i for i in inds if i.id == id_)


def test_vendor_table():
    assert classify_vendor("Huawei") == ("yes", "d.1 declared vendor Huawei")
    assert classify_vendor("新华三")[0] == "yes"
    assert classify_vendor("cisco")[0] == "no"
    assert classify_vendor("ZKTeco")[0] == "unknown"  # not in d.1: never guessed
    assert classify_vendor(None) == ("unknown", "no vendor declared")
    assert classify_vendor("  ")[0] == "unknown"


def test_categories_rules_and_unknown_counted_apart():
    inds = localization.indicators(audit_input())
    net = _get(inds, "localization_network")
    assert (net.numerator, net.denominator, net.unknown) == (3, 3, 0)
    sec = _get(inds, "localization_security")
    # declared Cisco, but SNMP identified a Huawei: the SNMP rule decides and is shown
    assert sec.value == 100.0 and sec.evidence[0].rule == "d.1 sysObjectID .2011"
    iot = _get(inds, "localization_iot")
    # Hikvision camera domestic; ZKTeco door and the unknown-vendor CPE are unknown
    assert (iot.numerator, iot.denominator, iot.unknown) == (1, 1, 2)
    assert iot.value == 100.0
    unknown = {e.subject: e.rule for e in iot.evidence if e.status is Status.UNKNOWN}
    assert set(unknown) == {"door", "cpe"}
    assert "not in the standards.md d.1 table" in unknown["door"]
    cpu, os_ = _get(inds, "localization_cpu"), _get(inds, "localization_os")
    assert cpu.value == 100.0 and cpu.evidence[0].rule == "d.2 x"
    assert os_.value is None and os_.unknown == 1
    systems = _get(inds, "localization_systems")
    assert systems.unknown == 1 and systems.evidence[0].subject == "教务系统"
    terminals = _get(inds, "localization_terminals")
    assert terminals.value is None and terminals.denominator == 0
    assert all(i.target is None for i in inds)


def test_ssh_identification_is_used_when_snmp_has_none():
    from agent.core.model import Metric
    from tests.agent.processors.audit.crafted import T0, inventory, points, tags

    inv = inventory()
    pts = [*points(inv), Metric("ssh_device_info", tags(inv, "acc", domestic="no",
                                                        domestic_rule="standards d.1 HPE",
                                                        detected_vendor="HPE"), {"info": 1}, T0)]
    net = _get(localization.indicators(audit_input(inv, pts)), "localization_network")
    acc = next(e for e in net.evidence if e.subject == "acc")
    assert acc.status is Status.FAIL and acc.rule == "standards d.1 HPE"


def test_iot_devices_of_every_protocol_are_counted():
    """A Modbus UPS, a BACnet air handler: not IoT by kind, IoT by their `iot_class` label."""
    from tests.agent.processors.audit.crafted import dev, inventory

    base = inventory()
    extra = [dev("ups-1", DeviceKind.UPS, room="dc-101", vendor="Kehua",
                 labels={"iot_class": "ups", "modbus_map": "ups"}),
             dev("ahu-1", DeviceKind.SENSOR, room="dc-101", vendor="Siemens",
                 labels={"iot_class": "hvac", "bacnet_instance": "1001"}),
             dev("pdu", DeviceKind.UPS, room="dc-101", vendor="Kehua")]  # no class: not IoT
    inv = Inventory.build(base.campus, base.buildings, base.rooms, [*base.devices, *extra])
    iot = _get(localization.indicators(audit_input(inv)), "localization_iot")
    subjects = {e.subject for e in iot.evidence}
    assert {"ups-1", "ahu-1"} <= subjects and "pdu" not in subjects
    # neither vendor is in the standards' d.1 table: counted apart as unknown, never guessed
    assert (iot.numerator, iot.denominator, iot.unknown) == (1, 1, 4)


def test_servers_terminals_databases_and_middleware_from_platform_rows():
    """server_platform (SNMP/SSH) and terminal_os (DHCP) rows become items of the cpu, os,
    database, middleware and terminals indicators, each with its rule; unknown apart."""
    from agent.core.model import Metric
    from tests.agent.processors.audit.crafted import T0, inventory, points, tags

    inv = inventory()
    dev = next(d.id for d in inv.devices)

    def plat(cat: str, vendor: str, product: str, domestic: str, rule: str) -> Metric:
        return Metric("server_platform", tags(inv, dev, category=cat, platform_vendor=vendor,
                                              product=product, domestic=domestic, rule=rule,
                                              source="snmp-host-resources"), {"info": 1}, T0)

    def term(mac: str, family: str, domestic: str, rule: str) -> Metric:
        return Metric("terminal_os", {"campus": inv.campus.code, "mac": mac,
                                      "os_family": family, "domestic": domestic, "rule": rule,
                                      "evidence": "55=…"}, {"confidence_ratio": 0.8}, T0)

    pts = [*points(inv),
           plat("cpu", "Hygon", "Hygon C86 7285", "yes", "d.2 model HygonGenuine/Hygon"),
           plat("os", "Kylinsoft", "Kylin", "yes", "d.3 kernel suffix .ky10."),
           plat("database", "Dameng", "DM", "yes", "d.4 process dmserver"),
           plat("database", "Oracle", "MySQL", "no", "d.4 process mysqld"),
           plat("middleware", "TongTech", "TongWeb", "yes", "d.4 java com.tongweb"),
           term("02:00:00:00:00:01", "Kylin", "yes", "d.5 hostname kylin"),
           term("02:00:00:00:00:02", "Windows", "no", "d.5 option 55 Windows 10/11"),
           term("02:00:00:00:00:03", "unknown", "unknown", "no terminal rule matched")]
    inds = localization.indicators(audit_input(inv, pts))
    db = _get(inds, "localization_database")
    assert (db.numerator, db.denominator, db.value) == (1, 2, 50.0)
    assert {e.rule for e in db.evidence} == {"d.4 process dmserver", "d.4 process mysqld"}
    mw = _get(inds, "localization_middleware")
    assert (mw.numerator, mw.denominator) == (1, 1)
    assert mw.evidence[0].rule == "d.4 java com.tongweb" and mw.evidence[0].subject == dev
    cpu = _get(inds, "localization_cpu")
    assert any(e.rule == "d.2 model HygonGenuine/Hygon" for e in cpu.evidence)
    t = _get(inds, "localization_terminals")
    assert (t.numerator, t.denominator, t.unknown) == (1, 2, 1)
    # a terminal seen on the LAN whose MAC the inventory knows takes its building
    known = next(d for d in inv.devices if d.mac)
    inds = localization.indicators(audit_input(inv, [*pts, term(known.mac or "", "UOS", "yes",
                                                                "d.5 hostname uos")]))
    e = next(e for e in _get(inds, "localization_terminals").evidence
             if e.subject == (known.mac or "").lower())
    assert known.building and e.building == known.building


def test_information_system_judged_by_its_web_front():
    """info_system_http (probes/systems) names the middleware of a system whose developer is
    unknown: the share counts it with the d.4 header rule; the TLS issuer goes in the detail."""
    from agent.core.model import Metric
    from tests.agent.processors.audit.crafted import T0, inventory, points

    inv = inventory()
    before = _get(localization.indicators(audit_input(inv)), "localization_systems")
    assert before.unknown == 1
    front = Metric("info_system_http", {
        "campus": inv.campus.code, "system": "教务系统", "url": "https://jw.example/",
        "platform_vendor": "TongTech", "product": "TongWeb", "domestic": "yes",
        "rule": "d.4 http java com.tongweb", "tls_issuer": "CN=Campus CA"},
        {"up": 1, "tls_sm2": 0}, T0)
    after = _get(localization.indicators(audit_input(inv, [*points(inv), front])),
                 "localization_systems")
    [e] = after.evidence
    assert (after.numerator, after.denominator, after.unknown) == (1, 1, 0)
    assert "d.4 http java com.tongweb" in e.rule and "TLS issuer CN=Campus CA" in e.detail
