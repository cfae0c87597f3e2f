"""The report's device-health table from the snmp health measurements: the hottest sensor
against the device's threshold, failed fans / PSUs, optics out of range, PoE and UPS state;
devices without health readings are left out."""

from __future__ import annotations

from agent.core.model import Metric
from agent.processors.audit.engine import run_audit
from agent.processors.audit.health import device_health
from agent.processors.audit.inputs import AuditInput
from inventory.models import DeviceKind
from tests.agent.processors.alerts.helpers import campus, dev, tags_for

INV = campus([
    dev("core-sw", DeviceKind.CORE_SWITCH, building="dc"),
    dev("acc-1", DeviceKind.ACCESS_SWITCH, parent="core-sw", port="GE1/0/1"),
    dev("ups-1", DeviceKind.UPS, parent="core-sw", port="GE1/0/9", building="dc"),
    dev("cam-1", DeviceKind.CAMERA, parent="acc-1"),
])
T = 1_700_000_000 * 10**9


def m(name: str, device: str, tags: dict[str, str], fields: dict[str, float | int],
      ts: int = T) -> Metric:
    return Metric(name, {**tags_for(INV, device), **tags}, fields, ts)


def test_health_table_rows() -> None:
    points = [
        m("snmp_cpu", "core-sw", {"component": "MPU 0"}, {"usage_percent": 30.0}, T - 10**9),
        m("snmp_cpu", "core-sw", {"component": "MPU 0"}, {"usage_percent": 44.0}),
        m("snmp_cpu", "core-sw", {"component": "LPU 1"}, {"usage_percent": 12.0}),
        m("snmp_memory", "core-sw", {"component": "MPU 0"}, {"used_percent": 61.0}),
        m("snmp_sensor", "core-sw", {"type": "temperature", "sensor": "MPU 0"},
          {"value": 83.0, "high_threshold": 75.0}),
        m("snmp_sensor", "core-sw", {"type": "fan", "sensor": "0.2"}, {"status": 3}),
        m("snmp_sensor", "core-sw", {"type": "fan", "sensor": "0.1"}, {"status": 1}),
        m("snmp_optical", "core-sw", {"port": "XGE0/0/1"}, {"out_of_range": 1}),
        m("snmp_poe", "acc-1", {"pse": "1"}, {"used_percent": 42.0}),
        m("snmp_ups", "ups-1", {}, {"on_battery": 1, "battery_charge_percent": 20.0}),
    ]
    inp = AuditInput.from_inventory(INV, points, T - 3600 * 10**9, T + 10**9)
    t = device_health(inp)
    rows = {r[1]: r for r in t.rows}
    assert set(rows) == {"core-sw", "acc-1", "ups-1"}  # the camera has no health readings
    assert rows["core-sw"][3:8] == ("44%", "61%", "83 °C / 75 OVER", "fan 0.2", "XGE0/0/1")
    assert rows["acc-1"][8] == "42%"
    assert rows["ups-1"][9] == "ON BATTERY, 20%"
    assert len(t.headers) == len(rows["core-sw"])
    assert any(x.id == "device_health" for x in run_audit(inp).tables)
