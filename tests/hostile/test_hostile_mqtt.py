"""A hostile MQTT publisher beside a good device, through a real `campusmon run` and the
session's real mosquitto: numbers past every range, 1e999, garbage bytes, invalid UTF-8,
deep nesting, a 256 kB payload, unknown devices and odd topics. The good camera's telemetry
reaches the local store message after message; the bad ones are counted per topic and logged
once per topic."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from agent.core.lineprotocol import parse
from collectors.mqtt.client import BrokerOptions, Publisher
from tests.agent.agentproc import campusmon, start_agent, stop_agent, wait_running
from tests.servers import Mosquitto

INVENTORY = """\
campus: {code: hn-mq, name: MQTT College}
buildings:
  - id: b1
    name: Main
    rooms:
      - id: r1
        name: R1
        kind: classroom
        devices:
          - {id: cam-good, kind: camera}
          - {id: cam-evil, kind: camera}
"""

HOSTILE: list[tuple[str, bytes]] = [
    ("cam-evil", b'{"fps": 25, "x": 1' + b"0" * 400 + b"}"),  # past float range
    ("cam-evil", b'{"fps": 25, "x": 18446744073709551616}'),  # 2^64: past uint64
    ("cam-evil", b'{"fps": 1e999}'),
    ("cam-evil", b"\xff\xfe\x00garbage"),
    ("cam-evil", b'{"fps": "\xc3\x28"}'),  # invalid UTF-8
    ("cam-evil", b"[" * 20_000 + b"]" * 20_000),  # deep nesting
    ("cam-evil", b'{"fps": 25, "blob": "' + b"a" * 256_000 + b'"}'),
    ("cam-evil", b'{"fps": -5}'),  # out of the model's range
    ("cam-ghost", b'{"fps": 25}'),  # not in the inventory
]


@pytest.mark.timeout(120)
def test_hostile_publisher_beside_a_good_device(mosquitto: Mosquitto, tmp_path: Path) -> None:
    (tmp_path / "inventory.yaml").write_text(INVENTORY)
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(f"""\
agent:
  inventory: inventory.yaml
  data_dir: data
  flush_interval_secs: 0.2
  self_metrics_interval_secs: 1
inputs:
  - type: mqtt
    host: {mosquitto.host}
    port: {mosquitto.port}
    topic_templates: ["campus/{{campus}}/{{building}}/{{kind}}/{{device}}/{{stream}}"]
    report_interval_secs: 1
    targets: {{kinds: [camera]}}
""")
    log = tmp_path / "agent.log"
    proc = start_agent(cfg, log)
    pub = Publisher(BrokerOptions(host=mosquitto.host, port=mosquitto.port,
                                  client_id=f"hostile-{time.monotonic_ns()}"), None)
    try:
        wait_running(log)
        assert pub.start(10.0)
        time.sleep(1.5)  # the agent's subscription is in place
        good = 0
        for n in range(12):  # bounded: 12 rounds of every hostile message and one good one
            for dev, payload in HOSTILE:
                pub.publish(f"campus/hn-mq/b1/camera/{dev}/telemetry", payload, qos=1)
            pub.publish("campus/hn-mq/b1/camera/cam-good/telemetry",
                        f'{{"fps": 25, "temperature_c": {30 + n}}}'.encode(), qos=1)
            good += 1
            time.sleep(0.25)
        time.sleep(2)
        assert proc.poll() is None, log.read_text()[-3000:]
    finally:
        pub.stop()
        rc, _ = stop_agent(proc, timeout=30)
    text = log.read_text()
    assert rc == 0, text[-3000:]

    def query(*args: str) -> list[str]:
        r = campusmon("query", "--config", str(cfg), "--format", "lp", *args)
        assert r.returncode == 0, r.stderr
        return [x for x in r.stdout.splitlines() if x and not x.startswith("(")]

    readings = [parse(x) for x in query("-m", "iot_telemetry", "-t", "device=cam-good")]
    temps = sorted(m.fields["temperature_c"] for m in readings if "temperature_c" in m.fields)
    assert temps == [30 + n for n in range(good)], temps  # every good message, in full
    evil = [parse(x) for x in query("-m", "iot_telemetry", "-t", "device=cam-evil")]
    assert all(abs(float(v)) < 2**64 for m in evil for v in m.fields.values()
               if isinstance(v, int | float))
    bad = [parse(x) for x in query("-m", "iot_bad_payload", "-t", "device=cam-evil")]
    assert bad, text[-3000:]
    # logged once per topic, not once per message
    assert text.count("bad payload on campus/hn-mq/b1/camera/cam-evil/telemetry") <= 2
    assert max(len(line) for line in text.splitlines()) < 2000
    assert "Traceback" not in text, text[-3000:]
