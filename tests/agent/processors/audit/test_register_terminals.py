"""A school's terminal asset register (inventory CSV with `os` and `cpu` columns) feeds the
国产化 OS and CPU shares: each terminal classified by the d.3 name / d.2 model rules with the
rule named, names no rule knows counted apart as unknown, bad rows refused at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.core.errors import ConfigError
from agent.processors.audit import localization
from agent.processors.audit.inputs import AuditInput
from agent.processors.audit.model import Indicator, Status
from inventory.loader import load_inventory

T0 = 1_796_000_000_000_000_000
INVENTORY = """\
campus: {code: c1, name: Test campus}
buildings:
  - id: b1
    rooms:
      - {id: r1, kind: office}
imports:
  - csv: terminals.csv
"""
# as a school writes its register: Chinese and English names, one OS nobody can classify,
# one terminal whose OS the register does not state (empty cell: no item at all)
REGISTER = """\
id,kind,building,room,mac,vendor,model,os,cpu
pc-1,terminal,b1,r1,02:00:5e:00:00:01,Lenovo,开天 M740J,银河麒麟 V10 SP1,兆芯 KX-6640MA
pc-2,terminal,b1,r1,02:00:5e:00:00:02,Lenovo,ThinkCentre M90t,Windows 10 教育版,Intel Core i5-10500
pc-3,terminal,b1,r1,02:00:5e:00:00:03,Lenovo,开天 M630Z,统信UOS 20 专业版,飞腾 D2000
pc-4,terminal,b1,r1,02:00:5e:00:00:04,HP,ProDesk 400,自装系统,
pc-5,terminal,b1,r1,02:00:5e:00:00:05,Dell,OptiPlex 7090,,Intel Core i7-10700
"""


def _load(tmp_path: Path, register: str) -> AuditInput:
    (tmp_path / "terminals.csv").write_text(register, encoding="utf-8")
    (tmp_path / "inv.yaml").write_text(INVENTORY, encoding="utf-8")
    inv = load_inventory(tmp_path / "inv.yaml")
    return AuditInput.from_inventory(inv, [], T0 - 60 * 10**9, T0 + 60 * 10**9)


def _get(inds: list[Indicator], cat: str) -> Indicator:
    return next(i for i in inds if i.id == f"localization_{cat}")


def test_register_os_and_cpu_feed_the_shares(tmp_path: Path) -> None:
    inp = _load(tmp_path, REGISTER)
    pc1 = next(d for d in inp.devices if d.id == "pc-1")
    assert pc1.labels["os"] == "银河麒麟 V10 SP1" and pc1.labels["cpu"] == "兆芯 KX-6640MA"
    inds = localization.indicators(inp)
    os_ = _get(inds, "os")
    by = {e.subject: e for e in os_.evidence}
    assert set(by) == {"pc-1", "pc-2", "pc-3", "pc-4"}  # pc-5 states no OS: no item
    assert (by["pc-1"].status, by["pc-1"].rule) == (Status.OK, "d.3 name Kylin/麒麟")
    assert (by["pc-2"].status, by["pc-2"].rule) == (Status.FAIL, "d.3 name Windows")
    assert (by["pc-3"].status, by["pc-3"].rule) == (Status.OK, "d.3 name UOS/统信")
    # an OS name no rule knows is unknown: counted apart, out of the denominator
    assert by["pc-4"].status is Status.UNKNOWN and by["pc-4"].rule
    assert (os_.numerator, os_.denominator, os_.unknown) == (2, 3, 1)
    assert os_.value == pytest.approx(200 / 3)
    assert all(e.kind == "terminal" and e.building == "b1" for e in os_.evidence)
    cpu = _get(inds, "cpu")
    cby = {e.subject: e for e in cpu.evidence}
    assert set(cby) == {"pc-1", "pc-2", "pc-3", "pc-5"}
    assert (cby["pc-1"].status, cby["pc-1"].rule) == (Status.OK, "d.2 model Zhaoxin/KaiXian")
    assert (cby["pc-3"].status, cby["pc-3"].rule) == (Status.OK, "d.2 model Phytium/FT")
    assert cby["pc-5"].status is Status.FAIL
    assert (cpu.numerator, cpu.denominator, cpu.unknown) == (2, 4, 0)
    # the terminals category itself is unchanged: the hardware maker per terminal
    assert _get(inds, "terminals").denominator == 5


@pytest.mark.parametrize(("row", "expect"), [
    ("pc-9,terminal,b1,r1,,Lenovo,M1," + "Kylin " * 30 + ",", "os: longer than 128"),
    ('pc-9,terminal,b1,r1,,Lenovo,M1,"Kylin\x07V10",', "os: control character"),
    ("pc-9,terminal,b1,r1,,Lenovo,M1,Kylin," + "x" * 200, "cpu: longer than 128"),
])
def test_bad_register_row_is_refused_at_file_line(tmp_path: Path, row: str,
                                                  expect: str) -> None:
    register = REGISTER + row + "\n"
    with pytest.raises(ConfigError) as ei:
        _load(tmp_path, register)
    msgs = [str(p) for p in ei.value.problems]
    where = f"{(tmp_path / 'terminals.csv').resolve()}:7:"
    assert any(m.startswith(where) and expect in m for m in msgs), msgs
    assert len(msgs) == 1, msgs  # the good rows above it are not blamed


def test_unknown_register_column_is_still_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as ei:
        _load(tmp_path, REGISTER.replace(",os,cpu", ",os,cpu_model", 1))
    assert any("unknown column(s) 'cpu_model'" in str(p) for p in ei.value.problems)
