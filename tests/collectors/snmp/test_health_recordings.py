"""Device health from the real recordings: every expected value is read from the .snmprec file
by this test (numeric OIDs written here, from the MIB text), never from the collector's code.

Served by snmpsim; skipped with a reason when ../shared is absent.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from collectors.snmp.collect import DevicePoller
from collectors.snmp.profiles.engine import Row
from collectors.snmp.profiles.load import builtin_profiles
from collectors.snmp.records import Profile
from collectors.snmp.transport import TransportKind, TransportOptions, open_session
from config.credentials import SnmpV2cCredential
from tests.collectors.snmp.conftest import SnmpAgent, fixtures_dir

# Column OIDs, from the MIB files in ../shared/reference/mibs.
ENT_NAME = "1.3.6.1.2.1.47.1.1.1.1.7"  # ENTITY-MIB entPhysicalName
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"  # IF-MIB ifName
ENT_CONTAINED = "1.3.6.1.2.1.47.1.1.1.1.4"  # ENTITY-MIB entPhysicalContainedIn
ENT_SENSOR = "1.3.6.1.4.1.9.9.91.1.1.1.1"  # CISCO-ENTITY-SENSOR-MIB entSensorValueEntry
CPE_PORT = "1.3.6.1.4.1.9.9.402.1.2.1"  # CISCO-POWER-ETHERNET-EXT-MIB cpeExtPsePortEntry
HW_STATE = "1.3.6.1.4.1.2011.5.25.31.1.1.1.1"  # HUAWEI-ENTITY-EXTENT-MIB hwEntityStateEntry
HW_CPU, HW_MEM, HW_TEMP, HW_TEMP_HI = (f"{HW_STATE}.{c}" for c in (5, 7, 11, 12))
HW_OPT = "1.3.6.1.4.1.2011.5.25.31.1.1.3.1"  # hwOpticalModuleInfoEntry
HW_RX, HW_TX, HW_RX_HI, HW_RX_LO = (f"{HW_OPT}.{c}" for c in (8, 9, 14, 13))
H3C_STATE = "1.3.6.1.4.1.25506.2.6.1.1.1.1"  # hh3cEntityExtStateEntry
H3C_CPU, H3C_MEM, H3C_TEMP = (f"{H3C_STATE}.{c}" for c in (6, 8, 12))
H3C_XCVR = "1.3.6.1.4.1.25506.2.70.1.1.1"  # hh3cTransceiverInfoEntry
H3C_TX, H3C_TEMP_X = f"{H3C_XCVR}.9", f"{H3C_XCVR}.15"
CPM_5MIN = "1.3.6.1.4.1.9.9.109.1.1.1.1.8"  # CISCO-PROCESS-MIB cpmCPUTotal5minRev
POOL = "1.3.6.1.4.1.9.9.48.1.1.1"  # CISCO-MEMORY-POOL-MIB ciscoMemoryPoolEntry
POOL_NAME, POOL_USED, POOL_FREE = f"{POOL}.2", f"{POOL}.5", f"{POOL}.6"
ENVMON_T = "1.3.6.1.4.1.9.9.13.1.3.1"  # ciscoEnvMonTemperatureStatusEntry
ENVMON_T_DESCR, ENVMON_T_VALUE, ENVMON_T_THR = (f"{ENVMON_T}.{c}" for c in (2, 3, 4))
PSE = "1.3.6.1.2.1.105.1.3.1.1"  # POWER-ETHERNET-MIB pethMainPseEntry
PSE_POWER, PSE_USED = f"{PSE}.2", f"{PSE}.4"
RJ_CPU = "1.3.6.1.4.1.4881.1.1.10.2.36.1.2.1"  # RUIJIE-PROCESS-MIB ruijieNodeCPUTotalEntry
RJ_CPU_NAME, RJ_CPU_5MIN = f"{RJ_CPU}.2", f"{RJ_CPU}.5"
HR_LOAD = "1.3.6.1.2.1.25.3.3.1.2"  # HOST-RESOURCES-MIB hrProcessorLoad
HR_STORAGE = "1.3.6.1.2.1.25.2.3.1"  # hrStorageEntry
HR_TYPE, HR_DESCR, HR_SIZE, HR_USED = (f"{HR_STORAGE}.{c}" for c in (2, 3, 5, 6))
HR_RAM = "1.3.6.1.2.1.25.2.1.2"

# A recording "carries health MIBs" when it has any object under these subtrees.
HEALTH_SUBTREES = (HR_LOAD, HR_STORAGE, "1.3.6.1.2.1.99.1.1", HW_STATE, HW_OPT,
                   "1.3.6.1.4.1.2011.5.25.31.1.1.10", "1.3.6.1.4.1.2011.5.25.31.1.1.18",
                   H3C_STATE, H3C_XCVR, "1.3.6.1.4.1.9.9.109", POOL, "1.3.6.1.4.1.9.9.13",
                   "1.3.6.1.4.1.4881.1.1.10.2.35", "1.3.6.1.4.1.4881.1.1.10.2.36",
                   "1.3.6.1.2.1.105", "1.3.6.1.2.1.33", ENT_SENSOR, CPE_PORT,
                   "1.3.6.1.4.1.2011.5.25.195.3.1")
HEALTH = ("snmp_cpu", "snmp_memory", "snmp_storage", "snmp_sensor", "snmp_optical", "snmp_poe",
          "snmp_poe_port", "snmp_ups")


class Recording:
    """The .snmprec file as {oid: value} (integers as int, strings decoded)."""

    def __init__(self, path: Path) -> None:
        self.values: dict[str, int | str] = {}
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            oid, _, rest = line.partition("|")
            tag, _, value = rest.partition("|")
            if tag in ("2", "65", "66", "67", "70"):
                self.values[oid] = int(value)
            elif tag == "4x":
                self.values[oid] = bytes.fromhex(value).decode("utf-8", "replace")
            else:
                self.values[oid] = value.strip()

    def num(self, column: str, index: int | str) -> int:
        v = self.values[f"{column}.{index}"]
        assert isinstance(v, int)
        return v

    def text(self, column: str, index: int | str) -> str:
        return str(self.values[f"{column}.{index}"]).strip()

    def column(self, column: str) -> Iterator[tuple[str, int | str]]:
        prefix = column + "."
        for oid, v in self.values.items():
            if oid.startswith(prefix):
                yield oid[len(prefix):], v

    def carries(self, subtrees: tuple[str, ...]) -> bool:
        return any(oid.startswith(s + ".") for oid in self.values for s in subtrees)


@dataclass(frozen=True)
class Want:
    measurement: str
    tags: dict[str, str]
    field: str
    value: float


def _expected(community: str, r: Recording) -> list[Want]:
    """The table of expected readings: recording → values read from that recording."""
    w: list[Want] = []
    if community in ("vrp_5720", "vrp_ac6605-26"):
        board = 67108873 if community == "vrp_5720" else 9  # the MPU / SRU board row
        name = {"component": r.text(ENT_NAME, board)}
        w += [Want("snmp_cpu", name, "usage_percent", r.num(HW_CPU, board)),
              Want("snmp_memory", name, "used_percent", r.num(HW_MEM, board)),
              Want("snmp_sensor", {"type": "temperature", "sensor": name["component"]}, "value",
                   r.num(HW_TEMP, board)),
              Want("snmp_sensor", {"type": "temperature", "sensor": name["component"]},
                   "high_threshold", r.num(HW_TEMP_HI, board))]
    if community == "vrp_5720":
        port = 67469390  # XGigabitEthernet0/0/1: its module answers in µW (see the profile)
        tags = {"port": r.text(ENT_NAME, port)}
        w += [Want("snmp_optical", tags, "rx_power_dbm",
                   10 * math.log10(r.num(HW_RX, port) / 1000)),
              Want("snmp_optical", tags, "tx_power_dbm",
                   10 * math.log10(r.num(HW_TX, port) / 1000)),
              Want("snmp_optical", tags, "rx_power_high_dbm", r.num(HW_RX_HI, port) / 100),
              Want("snmp_optical", tags, "rx_power_low_dbm", r.num(HW_RX_LO, port) / 100)]
    if community == "comware":
        board = 46  # "Master Board 4"
        name = {"component": r.text(ENT_NAME, board)}
        w += [Want("snmp_cpu", name, "usage_percent", r.num(H3C_CPU, board)),
              Want("snmp_memory", name, "used_percent", r.num(H3C_MEM, board))]
        temps = [(i, v) for i, v in r.column(H3C_TEMP) if v != 65535]
        i, v = temps[0]
        w.append(Want("snmp_sensor", {"type": "temperature", "sensor": r.text(ENT_NAME, i)},
                      "value", float(v)))
        port = 13
        tags = {"port": r.text(IF_NAME, port)}
        w += [Want("snmp_optical", tags, "tx_power_dbm", r.num(H3C_TX, port) / 100),
              Want("snmp_optical", tags, "temperature_c", r.num(H3C_TEMP_X, port))]
    if community in ("ios_2960x", "iosxe_c3850"):
        for i, v in r.column(CPM_5MIN):
            if community == "iosxe_c3850":  # cpmCPUTotalPhysicalIndex names the switch
                phys = r.num("1.3.6.1.4.1.9.9.109.1.1.1.1.2", i)
                comp = r.text(ENT_NAME, phys)
            else:
                comp = "cpu"  # cpmCPUTotalPhysicalIndex 0: no entity
            w.append(Want("snmp_cpu", {"component": comp}, "usage_percent", float(v)))
        pool = 1  # "Processor"
        used, free = r.num(POOL_USED, pool), r.num(POOL_FREE, pool)
        w.append(Want("snmp_memory", {"component": r.text(POOL_NAME, pool)}, "used_percent",
                      used / (used + free) * 100))
        for i, v in r.column(ENVMON_T_VALUE):
            sensor = {"type": "temperature", "sensor": r.text(ENVMON_T_DESCR, i)}
            w += [Want("snmp_sensor", sensor, "value", float(v)),
                  Want("snmp_sensor", sensor, "high_threshold", r.num(ENVMON_T_THR, i))]
    if community == "ios_2960x":
        w += [Want("snmp_poe", {"pse": "1"}, "budget_watts", r.num(PSE_POWER, 1)),
              Want("snmp_poe", {"pse": "1"}, "consumption_watts", r.num(PSE_USED, 1))]
        # CISCO-ENTITY-SENSOR-MIB: the transceiver's receive-power sensor (entSensorType
        # dBm(14)) inside its port entity (entPhysicalContainedIn)
        rx = next(i for i, v in r.column(ENT_NAME) if str(v).endswith("Receive Power Sensor"))
        dom_port = r.text(ENT_NAME, r.num(ENT_CONTAINED, rx))
        value = (r.num(f"{ENT_SENSOR}.4", rx) * 10.0 ** (3 * (r.num(f"{ENT_SENSOR}.2", rx) - 9))
                 / 10 ** r.num(f"{ENT_SENSOR}.3", rx))
        assert r.num(f"{ENT_SENSOR}.1", rx) == 14  # dBm
        w.append(Want("snmp_optical", {"port": dom_port}, "rx_power_dbm", value))
        # CISCO-POWER-ETHERNET-EXT-MIB: PoE drawn on PSE 1 port 3, named by its entity
        poe_port = r.text(ENT_NAME, r.num(f"{CPE_PORT}.11", "1.3"))
        w.append(Want("snmp_poe_port", {"pse": "1", "port": poe_port}, "power_watts",
                      r.num(f"{CPE_PORT}.9", "1.3") / 1000))
    if community == "ruijie_s6150":
        w.append(Want("snmp_cpu", {"component": r.text(RJ_CPU_NAME, 1)}, "usage_percent",
                      r.num(RJ_CPU_5MIN, 1)))
    if community == "bison":
        loads = sorted(float(v) for _, v in r.column(HR_LOAD))
        w.append(Want("snmp_cpu", {}, "usage_percent", loads[0]))  # checked as a multiset
        ram = next(i for i, v in r.column(HR_TYPE) if v == HR_RAM)
        w.append(Want("snmp_memory", {"component": r.text(HR_DESCR, ram)}, "used_percent",
                      r.num(HR_USED, ram) / r.num(HR_SIZE, ram) * 100))
    return w


def _communities() -> list[str]:
    try:
        d = fixtures_dir()
    except pytest.skip.Exception:
        return []
    return sorted(p.stem for p in d.glob("*.snmprec") if "@" not in p.stem)


async def _health(agent: SnmpAgent, community: str) -> tuple[list[Row], list[str]]:
    session = await open_session(
        agent.host, agent.port,
        SnmpV2cCredential(name=community, type="snmp_v2c", community=community),
        TransportOptions(timeout_s=1.0, retries=1, transport=TransportKind.FAST))
    try:
        result = await DevicePoller(session, [Profile.SYSTEM], builtin_profiles()).run()
    finally:
        await session.close()
    return result.data.health, [f"{f.what}: {f.detail}" for f in result.failures]


def _find(rows: list[Row], want: Want) -> list[float]:
    return [float(r.fields[want.field]) for r in rows
            if r.measurement == want.measurement and want.field in r.fields
            and all(r.tags.get(k) == v for k, v in want.tags.items())]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("community", _communities())
async def test_recording_health_readings_as_recorded(snmpsim_fixtures: SnmpAgent,
                                                     community: str) -> None:
    rec = Recording(fixtures_dir() / f"{community}.snmprec")
    rows, problems = await _health(snmpsim_fixtures, community)
    assert problems == []
    health = [r for r in rows if r.measurement in HEALTH]
    if not rec.carries(HEALTH_SUBTREES):
        assert health == [], f"{community} has no health MIB yet yielded {health[:3]}"
        return
    for want in _expected(community, rec):
        got = _find(health, want)
        assert got, f"{community}: no {want.measurement} {want.tags} {want.field}"
        assert any(math.isclose(g, want.value, rel_tol=1e-9, abs_tol=1e-9) for g in got), (
            f"{community}: {want.measurement} {want.tags} {want.field}: {got} != {want.value}")
    if community == "bison":  # one snmp_cpu per hrProcessorLoad row, each load as recorded
        loads = sorted(float(v) for _, v in rec.column(HR_LOAD))
        assert sorted(float(r.fields["usage_percent"]) for r in health
                      if r.measurement == "snmp_cpu") == loads


@pytest.mark.timeout(60)
async def test_sentinels_are_not_readings(snmpsim_fixtures: SnmpAgent) -> None:
    """comware: 295 entities report temperature 65535 (no sensor); vrp_5720 ports without a
    module report -1 / -255: none of them becomes a reading."""
    rec = Recording(fixtures_dir() / "comware.snmprec")
    rows, _ = await _health(snmpsim_fixtures, "comware")
    temps = [r for r in rows if r.measurement == "snmp_sensor" and r.tags["type"] ==
             "temperature"]
    real = [v for _, v in rec.column(H3C_TEMP) if v != 65535]
    assert len(temps) == len(real) and all(r.fields["value"] != 65535 for r in temps)
    rows, _ = await _health(snmpsim_fixtures, "vrp_5720")
    optical = [r for r in rows if r.measurement == "snmp_optical"]
    rec = Recording(fixtures_dir() / "vrp_5720.snmprec")
    modules = [i for i, v in rec.column(HW_RX) if v not in (-1, 2147483647)]
    assert sorted(r.tags["port"] for r in optical) == sorted(rec.text(ENT_NAME, i)
                                                             for i in modules)
