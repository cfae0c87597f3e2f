"""The last-value snapshot keeps only what someone reads: everything under a pull exporter,
else the agent's own measurements plus what a plugin asked for. Without this a 1,000-switch
campus with only a push output held ~60k series nobody read (docs/performance.md, memory)."""

from __future__ import annotations

from pathlib import Path

from agent.app.builtins import builtin_registry
from agent.core.model import Metric
from agent.framework.measurements import MEASUREMENTS as FRAMEWORK_MEASUREMENTS
from agent.framework.runtime import Agent
from agent.framework.snapshot import Snapshot
from config.loader import load_config

OWN = frozenset(m.name for m in FRAMEWORK_MEASUREMENTS)


def _m(name: str, device: str = "sw1") -> Metric:
    return Metric(name, {"device": device}, {"value": 1.0}, 1)


def test_a_bare_snapshot_keeps_every_measurement() -> None:
    snap = Snapshot(300)
    snap.update([_m("snmp_interface"), _m("agent_poll")])
    assert len(snap) == 2


def test_only_wanted_measurements_are_kept_and_the_rest_forgotten() -> None:
    snap = Snapshot(300)
    snap.update([_m("snmp_interface"), _m("snmp_system"), _m("agent_poll")])
    snap.begin_wants(["agent_poll"])
    snap.want(["snmp_interface"])
    assert len(snap) == 3  # nothing changes until the build is done
    snap.end_wants()
    assert {m.name for m in snap.current()} == {"agent_poll", "snmp_interface"}
    snap.update([_m("snmp_system", "sw2"), _m("snmp_interface", "sw2")])
    assert sorted(m.name for m in snap.current()) == [
        "agent_poll", "snmp_interface", "snmp_interface"]
    snap.begin_wants([])
    snap.end_wants()
    snap.update([_m("agent_poll", "sw3")])
    assert len(snap) == 0
    snap.begin_wants([])
    snap.want(None)  # a pull exporter: all of it
    snap.end_wants()
    snap.update([_m("snmp_system", "sw4")])
    assert [m.name for m in snap.current()] == ["snmp_system"]


def _config(tmp_path: Path, outputs: str, inputs: str = "  - type: host\n") -> Path:
    cfg = tmp_path / "agent.yaml"
    cfg.write_text("agent:\n  data_dir: data\n  local_store: {enabled: false}\n"
                   f"inputs:\n{inputs}outputs:\n{outputs}")
    return cfg


async def _keep(path: Path) -> frozenset[str] | None:
    agent = Agent(load_config(path, builtin_registry()), builtin_registry())
    built = await agent.build(agent.cfg, for_once=True)
    await agent._close(built)
    return agent.snapshot.keep


async def test_the_agent_keeps_what_its_plugins_read(tmp_path: Path) -> None:
    push = "  - type: influxdb\n    url: http://127.0.0.1:8428\n"
    assert await _keep(_config(tmp_path, push)) == OWN
    pull = "  - type: prometheus\n    listen_address: 127.0.0.1\n    port: 0\n"
    assert await _keep(_config(tmp_path, push + pull)) is None
    traps = "  - type: snmp_trap\n    listen: ['127.0.0.1:0']\n"
    assert await _keep(_config(tmp_path, push, traps)) == OWN | {"snmp_interface"}
