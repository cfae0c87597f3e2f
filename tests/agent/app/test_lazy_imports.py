"""Start-up cost: importing the built-in plugins (what every `campusmon` command and the agent
do first) must not load the heavy client libraries of plugins nobody configured; each loads
where its plugin is built. A subprocess, so this test's own imports do not count."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

# (library, the plugin that loads it when built)
LAZY = (("bacpypes3", "bacnet"), ("influxdb_client", "influxdb (its LineWriter)"),
        ("pysnmp", "snmp v3 / snmp_trap v3"),
        ("cryptography", "the first HTTPS fetch (dualstack / web_ipv6 / systems)"),
        ("urllib3", "influxdb (its LineWriter)"), ("pymodbus", "modbus (its first connection)"),
        ("aiocoap", "coap (first request)"), ("cbor2", "coap (first CBOR payload)"),
        ("google.protobuf", "iot_gateways (its Sparkplug codec)"),
        ("paho", "mqtt listener / iot_gateways / mqtt events exporter when run"),
        ("prometheus_client", "prometheus (when it starts listening)"),
        ("wsgiref", "prometheus"), ("xml.etree.ElementTree", "camera (ONVIF polled)"),
        ("reactivex", "influxdb-client's, with its LineWriter"),
        ("urllib.request", "alertmanager / webhook (agent/shared/httpjson) when built"))


def test_builtin_specs_load_no_client_library() -> None:
    code = ("import sys, agent.app.builtins as b; assert b.BUILTIN_SPECS; "
            f"print(' '.join(m for m, _ in {LAZY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, timeout=120, check=True).stdout.strip()
    assert out == "", f"imported at start: {out}"


# pysnmp: the snmp plugin and its v2c fast path never load it; only a pysnmp-transport (or
# v3) session does. Opening a session sends nothing (no request is made), so no server runs.
SNMP_CODE = """
import asyncio, sys
import collectors.snmp
from collectors.snmp.transport import TransportKind, TransportOptions, open_session
from config.credentials import SnmpV2cCredential

async def main() -> None:
    cred = SnmpV2cCredential(name="c", type="snmp_v2c", community="public")
    seen = ["pysnmp" in sys.modules]
    s = await open_session("127.0.0.1", 9, cred, TransportOptions())
    seen.append("pysnmp" in sys.modules)
    await s.close()
    s = await open_session("127.0.0.1", 9, cred,
                           TransportOptions(transport=TransportKind.PYSNMP))
    seen.append("pysnmp" in sys.modules)
    await s.close()
    print(" ".join(str(x) for x in seen), type(s).__module__)

asyncio.run(main())
"""


def test_snmp_plugin_and_fast_session_load_no_pysnmp() -> None:
    out = subprocess.run([sys.executable, "-c", SNMP_CODE], cwd=REPO, capture_output=True,
                         text=True, timeout=120, check=True).stdout.strip()
    # imported plugin: no; fast v2c session: no; pysnmp-transport session: yes
    assert out == "False False True collectors.snmp.client", out


def test_probe_engines_load_no_cryptography() -> None:
    """The dualstack ICMP path (and every module importing probes.http) runs without
    cryptography: only reading a peer certificate after a TLS handshake loads it
    (tests/probes/test_info_systems.py covers that read)."""
    code = ("import sys, probes.dualstack.engine, probes.web_ipv6.check, probes.systems.plugin; "
            "print('cryptography' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, timeout=120, check=True).stdout.strip()
    assert out == "False", out


# Each library made lazy still loads where its plugin does the work (the plugins' own tests,
# tests/collectors/{modbus,coap,iot_gateways,mqtt} and tests/exporters, run them end to end
# against real servers). Building these objects opens no connection and sends nothing.
USE_CODE = """
import asyncio, sys
import agent.app.builtins
from collectors.modbus.client import ModbusTcp
from collectors.coap.client import cbor_dumps, cbor_loads
from exporters.influxdb.client import LineWriter, WriterOptions

seen = []
async def modbus() -> None:  # pymodbus wants the running loop, as in the poller
    ModbusTcp("127.0.0.1", 9, 1.0).close()
asyncio.run(modbus())
seen.append("pymodbus" in sys.modules)
assert cbor_loads(cbor_dumps({"t": 1})) == {"t": 1}
seen.append("cbor2" in sys.modules)
LineWriter(WriterOptions(url="http://127.0.0.1:9", token="", org="o", bucket="b",
                         timeout_s=1, gzip_level=1)).close()
seen.append("urllib3" in sys.modules and "influxdb_client" in sys.modules)
assert "paho" not in sys.modules  # so the next step is what loads it
from collectors.mqtt.sim import FleetOptions
seen.append("paho" in sys.modules and "collectors.mqtt.sim.fleet" in sys.modules)
from collectors.iot_gateways.sparkplug import Sparkplug
seen.append("google.protobuf" in sys.modules)
print(" ".join(str(x) for x in seen))
"""


def test_lazy_libraries_load_where_their_plugin_works() -> None:
    out = subprocess.run([sys.executable, "-c", USE_CODE], cwd=REPO, capture_output=True,
                         text=True, timeout=120, check=True).stdout.strip()
    assert out == "True True True True True", out
