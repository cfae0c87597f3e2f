"""`snmp_trap` and `syslog` inside the real agent (`campusmon run`, a subprocess): a real
`snmptrap` and real `logger` lines become `event` rows in the local store naming the inventory
device, the trap or mnemonic, the severity and the message (`campusmon query -m event`), and
the listeners' own counters are written (the runtime checks every measurement against the
plugins' declarations), and `syslog_forward` relays both lines to a real rsyslogd."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.agent.agentproc import campusmon, start_agent, stop_agent, wait_running
from tests.exporters.syslog_forward.rsyslogd import start_rsyslog
from tests.servers import free_port, require_binary


@pytest.mark.timeout(120)
def test_agent_records_traps_and_syslog_as_events(tmp_path: Path) -> None:
    require_binary("snmptrap")
    require_binary("logger")
    inv = tmp_path / "inventory.yaml"
    inv.write_text(yaml.safe_dump({
        "campus": {"code": "it-traps", "name": "traps"},
        "devices": [{"id": "core-sw", "kind": "core_switch", "building": "dc",
                     "ipv4": "127.0.0.1", "vendor": "Huawei"}],
        "buildings": [{"id": "dc", "name": "dc"}]}))
    trap_port = free_port(kind=socket.SOCK_DGRAM)
    udp_port = free_port(kind=socket.SOCK_DGRAM)
    tcp_port = free_port()
    centre = start_rsyslog(tmp_path / "centre")
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(yaml.safe_dump({
        "agent": {"inventory": str(inv), "data_dir": str(tmp_path / "data"),
                  "flush_interval_secs": 0.2, "local_store": {"enabled": True}},
        "credentials": [{"name": "traps", "type": "snmp_v2c", "community": "it-s3cret"}],
        "inputs": [
            {"type": "snmp_trap", "listen": [f"127.0.0.1:{trap_port}"],
             "communities": ["traps"], "report_interval_secs": 0.5},
            {"type": "syslog", "listen_udp": [f"127.0.0.1:{udp_port}"],
             "listen_tcp": [f"127.0.0.1:{tcp_port}"], "report_interval_secs": 0.5},
        ],
        "outputs": [{"type": "syslog_forward", "host": centre.host, "port": centre.port,
                     "tls": False}],
    }))
    log = tmp_path / "agent.log"
    proc = start_agent(cfg, log)
    try:
        wait_running(log)
        subprocess.run(["snmptrap", "-v", "2c", "-c", "it-s3cret", f"127.0.0.1:{trap_port}",
                        "", "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.2.1.2.2.1.1.7", "i", "7",
                        "1.3.6.1.2.1.2.2.1.2.7", "s", "GigabitEthernet0/0/7"], check=True)
        subprocess.run(["logger", "--rfc3164", "-d", "-n", "127.0.0.1", "-P", str(udp_port),
                        "-t", "core-sw", "%%01IFNET/4/LINK_STATE(l)[3]:The line protocol IP on "
                        "the interface GigabitEthernet0/0/7 has entered the DOWN state."],
                       check=True)
        subprocess.run(["logger", "--rfc5424", "-T", "--octet-count", "-n", "127.0.0.1", "-P",
                        str(tcp_port), "-t", "sshd", "-p", "auth.warning",
                        "Failed password for invalid user admin from 192.0.2.7 port 22 ssh2"],
                       check=True)
        time.sleep(2.0)  # flushes every 0.2 s; the receivers report every 0.5 s
        # the centre got both syslog lines (not the trap: forwarded kinds default to syslog)
        for _ in range(100):
            if len(centre.lines()) >= 2:
                break
            time.sleep(0.1)
    finally:
        rc, _ = stop_agent(proc)
        centre.stop()
    assert rc == 0, log.read_text()[-3000:]
    relayed = centre.lines()
    assert len(relayed) == 2, relayed
    assert any("%%01IFNET/4/LINK_STATE(l)[3]" in x and 'device="core-sw"' in x for x in relayed)
    assert "undeclared" not in log.read_text()
    out = campusmon("query", "--config", str(cfg), "-m", "event", "--format", "lp")
    assert out.returncode == 0, out.stderr
    rows = [ln for ln in out.stdout.splitlines() if ln.startswith("event,")]
    trap = [r for r in rows if "event_kind=snmp_trap" in r]
    syslog = [r for r in rows if "event_kind=syslog" in r]
    assert len(trap) == 1 and len(syslog) == 2, out.stdout
    assert "device=core-sw" in trap[0] and r"trap=IF-MIB::linkDown" in trap[0]
    assert r"ifname=GigabitEthernet0/0/7" in trap[0] and "severity=warning" in trap[0]
    assert any(r"mnemonic=IFNET/4/LINK_STATE(l)" in r and "category=link_down" in r
               for r in syslog)
    assert any("category=auth_failure" in r and "user=admin" in r for r in syslog)
    assert all("device=core-sw" in r and "campus=it-traps" in r for r in rows)
    counts = campusmon("query", "--config", str(cfg), "-m", "events", "--format", "lp")
    assert "event_kind=snmp_trap" in counts.stdout and "event_kind=syslog" in counts.stdout
    recv = campusmon("query", "--config", str(cfg), "-m", "syslog_receiver", "--format", "lp")
    assert "received_total=2i" in recv.stdout.splitlines()[-1], recv.stdout
