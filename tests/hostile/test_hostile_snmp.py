"""A hostile SNMP device polled beside a good one, through a real `campusmon run`.

The good device is snmpsim serving a real switch recording (`bison`, 5 interfaces); the
hostile one is the asyncio agent of tests/hostile/snmpagent.py (oversized INTEGERs, Counter32
and Counter64 past their range, 60 kB strings, wrong types, a walk going backwards, duplicate
varbinds, garbage and truncated datagrams). The good device's interface data must reach the
local store every tick; the hostile varbinds are counted (agent_rejected) and logged once with
the device.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from agent.core.lineprotocol import parse
from tests.agent.agentproc import campusmon, start_agent, stop_agent, wait_running
from tests.collectors.snmp.conftest import SnmpAgent
from tests.hostile.snmpagent import HostileAgent

INVENTORY = """\
campus: {code: hn-hostile, name: Hostile World College}
buildings:
  - id: b1
    name: Main
    rooms:
      - id: mdf
        name: MDF
        kind: machine_room
        devices:
          - {id: sw-good, kind: access_switch, ipv4: 127.0.0.1, credential: good}
          - {id: sw-evil, kind: access_switch, ipv4: 127.0.0.2, credential: evil}
"""


def write_config(tmp_path: Path, port: int, transport: str = "auto",
                 interval: float = 2.0) -> Path:
    (tmp_path / "inventory.yaml").write_text(INVENTORY)
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(f"""\
agent:
  inventory: inventory.yaml
  data_dir: data
  interval_secs: {interval}
  timeout_secs: {interval - 0.1}
  flush_interval_secs: 0.2
  self_metrics_interval_secs: 1
  jitter_secs: 0
credentials:
  - {{name: good, type: snmp_v2c, community: bison}}
  - {{name: evil, type: snmp_v2c, community: hostile-community}}
inputs:
  - type: snmp
    name: net
    port: {port}
    transport: {transport}
    profiles: [system, interfaces]
    device_profiles: []
    request_timeout_secs: 0.5
    retries: 0
    targets: {{kinds: [access_switch]}}
""")
    return cfg


def query(cfg: Path, *args: str) -> list[str]:
    r = campusmon("query", "--config", str(cfg), "--format", "lp", *args)
    assert r.returncode == 0, r.stderr
    return [x for x in r.stdout.splitlines() if x and not x.startswith("(")]


@pytest.mark.timeout(180)
# pysnmp decodes a reply with pyasn1 on the event loop: a 62 kB hostile reply costs it far more
# than the fast path, so its ticks are wider (v2c uses the fast path unless told otherwise; a
# v3 reply must be authenticated before pysnmp decodes its varbinds)
@pytest.mark.parametrize(("transport", "interval"), [("fast", 2.0), ("pysnmp", 4.0)])
def test_hostile_device_beside_a_good_one(good_snmp: SnmpAgent, hostile_snmp: HostileAgent,
                                          tmp_path: Path, transport: str,
                                          interval: float) -> None:
    cfg = write_config(tmp_path, good_snmp.port, transport, interval)
    log = tmp_path / "agent.log"
    proc = start_agent(cfg, log)
    try:
        wait_running(log)
        seen_before = hostile_snmp.requests
        time.sleep(5.5 * interval)  # five ticks
        assert proc.poll() is None, log.read_text()[-3000:]  # still running
    finally:
        rc, _ = stop_agent(proc, timeout=30)
    text = log.read_text()
    assert rc == 0, text[-3000:]
    assert hostile_snmp.requests > seen_before  # the hostile device was really polled

    # the good device: interface data in the store, tick after tick
    good = [parse(x) for x in query(cfg, "-m", "snmp_interface", "-t", "device=sw-good")]
    ticks = sorted({m.ts_ns for m in good})
    assert len(ticks) >= 4, (len(ticks), text[-3000:])
    per_tick = {t: sum(1 for m in good if m.ts_ns == t) for t in ticks}
    assert len(set(per_tick.values())) == 1 and min(per_tick.values()) >= 5, per_tick

    # the hostile device: what was in range arrived, what was not was set aside and counted
    rejected = [parse(x) for x in query(cfg, "-m", "agent_rejected")]
    reasons = {m.tags["reason"]: m.fields["items_total"] for m in rejected
               if m.tags.get("instance") == "snmp/net"}
    # the fast path sets aside each bad varbind; pysnmp (pyasn1) refuses a whole reply with an
    # out-of-range number inside its own datagram callback, so that request times out instead
    expected = {"int_out_of_range", "string_too_long"} if transport == "fast" \
        else {"string_too_long"}
    assert expected <= set(reasons), (reasons, text[-3000:])
    assert all(isinstance(n, int) and n > 0 for n in reasons.values())
    if transport == "pysnmp":  # the library's callback errors: counted, logged once each
        assert text.count("logged once per cause, counted in agent_rejected") <= 3, text[-3000:]
    # logged once per cause with the device, not once per tick
    for reason in sorted(expected):
        lines = [ln for ln in text.splitlines() if f"set aside {reason} from device sw-evil" in ln]
        assert len(lines) == 1, (reason, lines)
    # no 4,300-digit number, no 60 kB string ever reached the log
    assert max(len(ln) for ln in text.splitlines()) < 2000
    # the poll outcome of the hostile device is recorded; the agent never crashed a loop
    assert transport == "pysnmp" or "Traceback" not in text, text[-3000:]
    polls = [parse(x) for x in query(cfg, "-m", "agent_poll", "-t", "device=sw-evil")]
    assert polls
    loops = [parse(x) for x in query(cfg, "-m", "agent_loop")]
    assert loops and all(m.fields["restarts_total"] == 0 and m.fields["stalls_total"] == 0
                         for m in loops)
