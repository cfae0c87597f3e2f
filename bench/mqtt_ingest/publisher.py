"""The far side's publisher (run pinned beside the broker): paho directly, QoS 0.

Reads commands on stdin: `go N` publishes N messages round-robin over the bench devices and
prints `done` once paho has written them all. Payloads are built before `go`, so the publisher
spends its time publishing.
"""

from __future__ import annotations

import json
import sys
import time

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion


def payloads(devices: int) -> list[tuple[str, bytes]]:
    out = []
    for d in range(devices):
        topic = f"campus/bench/b{d % 5}/sensor/env-{d:04d}/telemetry"
        body = {"temperature_c": 23.41 + d % 7, "humidity_percent": 55.2, "co2_ppm": 781,
                "pm25_ugm3": 18, "noise_db": 41.2, "illuminance_lux": 320,
                "ts": 1795375243.123, "seq": 123456, "fw": "V2.1.7-build.20240101"}
        out.append((topic, json.dumps(body).encode()))
    return out


def main() -> int:
    host, port, devices = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    msgs = payloads(devices)
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-publisher")
    c.max_queued_messages_set(0)
    c.connect(host, port, keepalive=60)
    c.loop_start()
    time.sleep(0.3)
    print(f"ready {len(msgs[0][1])}", flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] != "go":
            break
        n = int(cmd[1])
        info = None
        for i in range(n):
            topic, body = msgs[i % len(msgs)]
            info = c.publish(topic, body, 0)
        if info is not None:
            info.wait_for_publish(60)
        print("done", flush=True)
    c.disconnect()
    c.loop_stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
