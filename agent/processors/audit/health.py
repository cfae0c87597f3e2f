"""The device-health table of the inspector report: per polled device, its busiest CPU, fullest
memory, hottest sensor against the device's own threshold, failed fans / power supplies, optics
outside their module's thresholds, PoE budget use and UPS state (the snmp health profiles'
measurements, last reading in the window). Devices without any health reading are left out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from agent.processors.audit.inputs import MEASUREMENTS, AuditInput, to_float
from agent.processors.audit.model import Table

# what the table reads: declared in inputs.MEASUREMENTS, so every source fetches it
_READS = ("snmp_cpu", "snmp_memory", "snmp_sensor", "snmp_optical", "snmp_poe", "snmp_ups")
_FAILED = 3  # snmp_sensor status: 1 ok, 2 warning, 3 failed


def _max(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.0f}%"


def device_health(inp: AuditInput) -> Table:
    per: dict[str, dict[str, list[tuple[dict[str, str], dict[str, float | None]]]]] = (
        defaultdict(lambda: defaultdict(list)))
    for meas in _READS:
        fields = MEASUREMENTS[meas]
        for m in inp.latest(meas, current_only=True):
            dev = m.tags.get("device")
            if dev:
                per[dev][meas].append((dict(m.tags), {f: to_float(m.fields.get(f))
                                                      for f in fields}))
    rows = []
    for dev in sorted(per):
        r = per[dev]
        d = inp.device(dev)
        cpu = _max(f["usage_percent"] for _, f in r["snmp_cpu"])
        mem = _max(f["used_percent"] for _, f in r["snmp_memory"])
        temps = [(t.get("sensor", ""), f["value"], f["high_threshold"])
                 for t, f in r["snmp_sensor"] if t.get("type") == "temperature"
                 and f["value"] is not None]
        hottest = max(temps, key=lambda x: x[1] or 0.0, default=None)
        hot = "—"
        if hottest is not None:
            hot = f"{hottest[1]:g} °C"
            if hottest[2] is not None:
                hot += f" / {hottest[2]:g}" + (" OVER" if (hottest[1] or 0) >= hottest[2]
                                              else "")
        failed = sorted(f"{t.get('type')} {t.get('sensor')}" for t, f in r["snmp_sensor"]
                        if t.get("type") in ("fan", "power_supply")
                        and (f["status"] or 0) >= _FAILED)
        optics = sorted(t.get("port", "") for t, f in r["snmp_optical"]
                        if f["out_of_range"] == 1)
        poe = _max(f["used_percent"] for _, f in r["snmp_poe"])
        ups = "—"
        for _, f in r["snmp_ups"]:
            ups = ("ON BATTERY" if f["on_battery"] == 1 else "mains") + (
                f", {_pct(f['battery_charge_percent'])}")
        rows.append((
            inp.building_name(d.building) if d and d.building else "", dev,
            d.kind.value if d else "",
            _pct(cpu), _pct(mem), hot, "; ".join(failed) or "none",
            ", ".join(optics) or ("ok" if r["snmp_optical"] else "—"), _pct(poe), ups))
    return Table("device_health", "设备健康", "Device health",
                 ("楼宇 Building", "设备 Device", "类型 Kind", "CPU (max)", "内存 Memory (max)",
                  "最高温度 Hottest / threshold", "故障风扇电源 Failed fans / PSUs",
                  "光功率越限 Optics out of range", "PoE 预算 budget used", "UPS"),
                 tuple(rows))
