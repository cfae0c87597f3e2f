"""SNMP profiles as data: loading, name resolution against the compiled MIBs, validation with
file:line, evaluation of rows (joins, maps, sentinels, scaling), and `check-config` on a user
profile directory."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest

from agent.core.errors import ConfigError
from collectors.snmp.mibs import mib_db
from collectors.snmp.profiles.engine import Readings, evaluate
from collectors.snmp.profiles.load import builtin_profiles, load_profiles
from collectors.snmp.profiles.measurements import HEALTH_MEASUREMENTS
from collectors.snmp.session import Oid, SnmpType, VarBind, oid_from_str

REPO = Path(__file__).resolve().parents[3]
PRINTER = REPO / "config/examples/snmp-profiles/printer-supplies.yaml"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    d = tmp_path / "profiles"
    d.mkdir(exist_ok=True)
    p = d / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return d


def _problems(directory: Path) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_profiles([directory], builtin=False)
    return [str(p) for p in err.value.problems]


def test_builtin_profiles_load_and_write_only_declared_measurements() -> None:
    profiles = builtin_profiles()
    assert {"host-resources", "entity-sensor", "huawei-entity", "h3c-entity", "cisco",
            "ruijie", "power-ethernet", "ups", "bridge-stp", "zte",
            "entity-inventory", "cisco-entity-sensor"} <= set(profiles.profiles)
    declared = {m.name: m for m in HEALTH_MEASUREMENTS}
    for p in profiles.profiles.values():
        for m in p.metrics:
            assert m.measurement in declared, (p.name, m.measurement)
            names = declared[m.measurement].field_names()
            assert {n for n, _ in m.fields} <= names


def test_names_resolve_to_the_oids_in_the_mib_text() -> None:
    db = mib_db()
    # Numbers as printed in ../shared/reference/mibs (OID comments / standards.md).
    assert db.resolve("hwEntityCpuUsage").oid == oid_from_str(
        "1.3.6.1.4.1.2011.5.25.31.1.1.1.1.5")
    assert db.resolve("UPS-MIB::upsEstimatedChargeRemaining").oid == oid_from_str(
        "1.3.6.1.2.1.33.1.2.4")
    assert db.resolve("cpmCPUTotal5minRev").oid == oid_from_str("1.3.6.1.4.1.9.9.109.1.1.1.1.8")
    assert db.resolve("ciscoEnvMonFanState").enum[5] == "notPresent"
    assert [o.name for o in db.index_of(db.resolve("ifName"))] == ["ifIndex"]  # AUGMENTS


def test_user_printer_profile_adds_its_measurement() -> None:
    s = load_profiles([PRINTER.parent])
    assert "printer-supplies" in s.profiles
    m = s.measurements["printer_supply"]
    assert m.field("level_percent") is not None and m.tag_names() == {"supply", "supply_type"}


def test_unknown_mib_object_is_refused_with_file_and_line(tmp_path: Path) -> None:
    d = _write(tmp_path, "pdu.yaml", """\
        name: pdu
        metrics:
          - measurement: snmp_cpu
            fields:
              usage_percent: {object: hwEntityCpuUsagee}
        """)
    assert _problems(d) == [f"{d / 'pdu.yaml'}:5: unknown MIB object 'hwEntityCpuUsagee' "
                            "(not in the compiled MIBs)"]


def test_bad_index_undeclared_measurement_field_and_tag(tmp_path: Path) -> None:
    d = _write(tmp_path, "bad.yaml", """\
        metrics:
          - measurement: snmp_storage
            tags:
              component: {index: [3]}
              colour: {value: red}
            fields:
              used_percent: {object: hrStorageUsed}
              free_bytes: {object: hrStorageSize}
          - measurement: pdu_outlet
            fields:
              current_a: {object: ifInErrors}
          - measurement: snmp_memory
            tags:
              component: {object: entPhysicalName}
            fields:
              used_percent: {object: hrStorageUsed}
        """)
    problems = _problems(d)
    f = d / "bad.yaml"
    assert any(p.startswith(f"{f}:4: bad index: position 3") for p in problems), problems
    assert any(p.startswith(f"{f}:5: tag 'colour' is not declared") for p in problems)
    assert any(p.startswith(f"{f}:8: field 'free_bytes' is not declared") for p in problems)
    assert any(p.startswith(f"{f}:9: measurement 'pdu_outlet' is not declared")
               for p in problems)
    # entPhysicalName is indexed by entPhysicalIndex, hrStorage by hrStorageIndex: both single
    # integers, so the join is accepted (a wrong one gives empty lookups, not wrong data).
    assert not any(":14:" in p for p in problems)


def test_a_join_whose_keys_cannot_line_up_is_refused(tmp_path: Path) -> None:
    d = _write(tmp_path, "join.yaml", """\
        metrics:
          - measurement: snmp_poe_port
            tags:
              pse: {object: ifName}
              port: {index: [1]}
            fields:
              detection: {object: pethPsePortDetectionStatus}
        """)
    problems = _problems(d)
    assert len(problems) == 1 and problems[0].startswith(f"{d / 'join.yaml'}:4: bad index: ")
    assert "give `index:` positions" in problems[0]


def test_yaml_typos_name_their_line(tmp_path: Path) -> None:
    d = _write(tmp_path, "typo.yaml", """\
        metrics:
          - measurement: snmp_cpu
            fields:
              usage_percent: {object: hrProcessorLoad, scael: 2}
        """)
    assert _problems(d) == [f"{d / 'typo.yaml'}:4: profile: unknown key 'scael'"]


def _vb(oid: str, value: int | bytes, t: SnmpType = SnmpType.INTEGER) -> VarBind:
    return VarBind(oid_from_str(oid), t, value)


def test_evaluate_joins_maps_skips_sentinels_and_scales() -> None:
    db = mib_db()
    prof = builtin_profiles().profiles["huawei-entity"]
    r = Readings()
    name, temp, memsize = (db.resolve(n) for n in ("entPhysicalName", "hwEntityTemperature",
                                                   "hwEntityMemSize"))
    r.add_column(name, [_vb(f"1.3.6.1.2.1.47.1.1.1.1.7.{i}", f"Board {i}".encode(),
                            SnmpType.OCTET_STRING) for i in (1, 2, 3)])
    r.add_column(temp, [_vb(f"1.3.6.1.4.1.2011.5.25.31.1.1.1.1.11.{i}", v)
                        for i, v in ((1, 41), (2, 0), (3, 2147483647))])
    r.add_column(memsize, [_vb(f"1.3.6.1.4.1.2011.5.25.31.1.1.1.1.9.{i}", 1) for i in (1, 2)])
    sensors = [m for m in prof.metrics if m.measurement == "snmp_sensor"]
    rows = evaluate(sensors[0], r)
    assert [(x.tags, x.fields) for x in rows] == [
        ({"type": "temperature", "sensor": "Board 1"}, {"value": 41.0})]
    rx = db.resolve("hwEntityOpticalRxPower")
    r.add_column(rx, [_vb("1.3.6.1.4.1.2011.5.25.31.1.1.3.1.8.2", 1000),
                      _vb("1.3.6.1.4.1.2011.5.25.31.1.1.3.1.8.3", -1)])
    optical = next(m for m in prof.metrics if m.measurement == "snmp_optical")
    rows = evaluate(optical, r)
    assert [(x.tags, x.fields) for x in rows] == [({"port": "Board 2"}, {"rx_power_dbm": 0.0})]
    assert math.isclose(float(rows[0].fields["rx_power_dbm"]), 0.0)  # 1000 µW = 0 dBm


def test_check_config_validates_a_user_profile_directory(tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.mkdir()
    (good / "printer.yaml").write_text(PRINTER.read_text(encoding="utf-8"), encoding="utf-8")
    bad = _write(tmp_path, "pdu.yaml", """\
        name: pdu
        metrics:
          - measurement: snmp_cpu
            fields:
              usage_percent: {object: PowerNet-MIB::rPDULoadStatusLoad}
        """)
    for profiles_dir, want_rc in ((good, 0), (bad, 2)):
        cfg = tmp_path / f"agent-{want_rc}.yaml"
        cfg.write_text(textwrap.dedent(f"""\
            credentials:
              - {{name: v2c, type: snmp_v2c, community: public}}
            inputs:
              - type: snmp
                credential: v2c
                profiles_dir: {profiles_dir}
            """), encoding="utf-8")
        proc = subprocess.run([sys.executable, "-m", "agent.app.cli", "check-config", str(cfg)],
                              capture_output=True, text=True, cwd=REPO, timeout=120,
                              check=False)
        assert proc.returncode == want_rc, proc.stderr
        if want_rc:
            assert (f"{bad / 'pdu.yaml'}:5: unknown MIB object "
                    "'PowerNet-MIB::rPDULoadStatusLoad'") in proc.stderr


@pytest.mark.timeout(300)
def test_shipped_mib_table_is_compiled_from_the_current_mib_sources() -> None:
    """objects.json is what collectors/snmp/mibs/build.py makes of ../shared/reference/mibs."""
    import json

    from collectors.snmp.mibs import OBJECTS_FILE
    from collectors.snmp.mibs.build import compile_mibs
    from tests.servers import shared_dir

    sources = shared_dir() / "reference" / "mibs"
    fresh = compile_mibs([sources])
    shipped = json.loads(OBJECTS_FILE.read_text(encoding="utf-8"))
    assert fresh["sources_sha256"] == shipped["sources_sha256"], (
        "MIB sources changed: run .venv/bin/python -m collectors.snmp.mibs.build")
    assert fresh == shipped


class _CountingDevice:
    """A device with a system group and nothing else; counts the walks it is asked for (unit
    level: what is counted is the poller's own request pattern)."""

    def __init__(self) -> None:
        self.walks: list[Oid] = []

    async def get(self, oids: Sequence[Oid]) -> list[VarBind]:
        sys_oid = oid_from_str("1.3.6.1.2.1.1.2.0")
        return [VarBind(o, SnmpType.OBJECT_IDENTIFIER, oid_from_str("1.3.6.1.4.1.2011.2.23.1"))
                if o == sys_oid else VarBind(o, SnmpType.NO_SUCH_OBJECT, None) for o in oids]

    async def walk(self, root: Oid) -> list[VarBind]:
        self.walks.append(root)
        return []

    async def close(self) -> None:
        return None


async def test_absent_tables_are_not_asked_for_again_until_the_recheck() -> None:
    from collectors.snmp.collect import DevicePoller, ProfileMemory
    from collectors.snmp.records import Profile

    dev, mem = _CountingDevice(), ProfileMemory()
    counts = []
    for _ in range(22):
        dev.walks.clear()
        await DevicePoller(dev, [Profile.SYSTEM], builtin_profiles(), None, mem).run()
        counts.append(len(dev.walks))
    first = counts[0]
    assert first > 5  # the first poll looks for every profile's table
    assert counts[1:20] == [0] * 19  # then none is asked for again …
    assert counts[20] == first  # … until the recheck, 20 polls later (answers too)
    # without memory (campusmon poll): every table is looked for every time
    dev.walks.clear()
    await DevicePoller(dev, [Profile.SYSTEM], builtin_profiles()).run()
    assert len(dev.walks) == first
