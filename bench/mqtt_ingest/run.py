"""MQTT ingest: CPU-seconds per 100,000 messages, campusmon's collector vs mosquitto_sub (C).

Method (shared/reference/baselines.md): our side pinned to core 0, mosquitto and the publisher
pinned to core 1, CPU counted per side — getrusage of this process (paho's thread, the event
loop, parsing, validation, metrics, and the framework's side as the agent runs it:
`ListenerRunner` → sink → `Pipeline.submit` with inventory tags and the catalogue check,
flushed every second) for campusmon; wait4() of the child for mosquitto_sub — on
the same messages (QoS 0, ~200-byte JSON telemetry of 100 environment sensors, MQTT 3.1.1 on
both sides) in the same run. Rounds alternate between the two; medians are reported. One more,
smaller round over MQTT 5 is printed for information. Bounded: ROUNDS × MESSAGES +
MQTT5_MESSAGES messages per side, every wait has a deadline.

    .venv/bin/python bench/mqtt_ingest/run.py
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from agent.core.model import Item  # noqa: E402
from agent.core.plugin import BuildContext, Target  # noqa: E402
from agent.framework.contract import DeclarationCheck  # noqa: E402
from agent.framework.heap import settle_heap  # noqa: E402
from agent.framework.pipeline import Pipeline  # noqa: E402
from agent.framework.scheduler import ListenerRunner, PollOutcome  # noqa: E402
from agent.framework.telemetry import PluginStats  # noqa: E402
from collectors.mqtt.config import MqttConfig  # noqa: E402
from collectors.mqtt.plugin import SPEC, build  # noqa: E402
from inventory.models import Building, Campus, Device, DeviceKind, Inventory  # noqa: E402

MESSAGES = 100_000
ROUNDS = 3
PROTOCOL = "3.1.1"  # the collector's default; MQTT 5 gets one informational round
MQTT5_MESSAGES = 50_000
DEVICES = 100
FILTER = "campus/+/+/+/+/telemetry"
OUR_CORE, FAR_CORE = 0, 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_tcp(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"mosquitto not listening on {port}")


def cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def inventory() -> Inventory:
    devs = [Device(id=f"env-{d:04d}", kind=DeviceKind.SENSOR, campus="bench",
                   building=f"b{d % 5}", room=None) for d in range(DEVICES)]
    return Inventory.build(Campus("bench", "bench"), [Building(f"b{i}", f"b{i}")
                                                      for i in range(5)], [], devs)


class Publisher:
    def __init__(self, port: int) -> None:
        self.proc = subprocess.Popen(
            ["taskset", "-c", str(FAR_CORE), sys.executable,
             str(Path(__file__).with_name("publisher.py")), "127.0.0.1", str(port),
             str(DEVICES)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        assert line and line[0] == "ready", line
        self.payload_bytes = int(line[1])

    def go(self, n: int) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"go {n}\n")
        self.proc.stdin.flush()

    def wait_done(self) -> None:
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "done"

    def close(self) -> None:
        with contextlib.suppress(Exception):
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            self.proc.wait(10)
        if self.proc.poll() is None:
            self.proc.kill()


def run_mosquitto_sub(port: int, pub: Publisher, protocol: str,
                      n: int) -> tuple[float, float]:
    """CPU-seconds and wall seconds for mosquitto_sub to receive `n` messages."""
    proc = subprocess.Popen(
        ["taskset", "-c", str(OUR_CORE), "mosquitto_sub", "-h", "127.0.0.1", "-p", str(port),
         "-V", "5" if protocol == "5" else "mqttv311",
         "-t", FILTER, "-q", "0", "-C", str(n), "-i", "bench-mosquitto-sub"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # connected and subscribed (mosquitto_sub prints no ready signal)
    t0 = time.monotonic()
    pub.go(n)
    deadline = time.monotonic() + 120
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            raise TimeoutError("mosquitto_sub did not receive every message")
        time.sleep(0.005)
    wall = time.monotonic() - t0
    pub.wait_done()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"mosquitto_sub exited with {status}")
    return ru.ru_utime + ru.ru_stime, wall


async def run_campusmon(port: int, pub: Publisher, protocol: str,
                        n: int) -> tuple[float, float, int, int]:
    """CPU-seconds and wall seconds for the collector to turn `n` messages into metrics."""
    inv = inventory()
    cfg = MqttConfig.model_validate({
        "host": "127.0.0.1", "port": port, "client_id": "bench-campusmon",
        "heartbeat_secs": {"env_sensor": 3600}, "report_interval_secs": 3600,
        "queue_max_messages": n, "protocol": protocol})
    tmp = Path(tempfile.gettempdir())
    lst = build(cfg, BuildContext(instance="mqtt/bench", inventory=inv, credentials={},
                                  data_dir=tmp, config_dir=tmp))
    # as agent/framework/runtime.py wires an input: ListenerRunner → sink → Pipeline.submit
    # (inventory tags, the catalogue check, buffering); flushed as the agent flushes (no
    # output configured: the points stop in the pipeline, as mosquitto_sub's in /dev/null)
    pipeline = Pipeline(base_tags={"campus": "bench"},
                        checks={SPEC.name: DeclarationCheck(SPEC.name, SPEC.measurements)})
    source = (SPEC.name, "mqtt/bench")
    emitted = 0

    def sink(items: Sequence[Item], target: Target | None, outcome: PollOutcome | None) -> None:
        nonlocal emitted
        emitted += len(items)
        pipeline.submit(items, target, outcome, None, source)

    targets = [Target(id=d.id, device=d) for d in inv.devices]
    runner = ListenerRunner("mqtt/bench", lst, targets, sink,
                            PluginStats(SPEC.name, "mqtt/bench"))
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    deadline = time.monotonic() + 10
    while not (lst.subscriber and lst.subscriber.stats.connected):
        if time.monotonic() > deadline:
            raise TimeoutError("collector did not connect")
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.5)  # SUBACK
    settle_heap()  # as Agent.run does once its plugins have started
    assert lst.ingest is not None and lst.handover is not None
    ing, ho = lst.ingest, lst.handover
    c0, t0 = cpu_self(), time.monotonic()
    pub.go(n)
    deadline = time.monotonic() + 120
    flushed = time.monotonic()
    while ing.totals.messages + ho.dropped < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"collector got {ing.totals.messages} of {n}")
        await asyncio.sleep(0.01)
        if time.monotonic() - flushed > 1.0:
            await pipeline.flush()
            flushed = time.monotonic()
    await pipeline.flush()
    c1, t1 = cpu_self(), time.monotonic()
    await asyncio.to_thread(pub.wait_done)
    stop.set()
    await asyncio.wait_for(task, 10)
    await lst.close()
    if ing.totals.bad_payloads:
        raise RuntimeError(f"{ing.totals.bad_payloads} payloads rejected")
    return c1 - c0, t1 - t0, ho.dropped, emitted


def main() -> int:
    mosq = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(mosq).exists() or not shutil.which("mosquitto_sub"):
        print("mqtt_ingest: mosquitto and mosquitto-clients are needed (make system-deps)",
              file=sys.stderr)
        return 1
    os.sched_setaffinity(0, {OUR_CORE})
    work = Path(tempfile.mkdtemp(prefix="campusmon-bench-mqtt-"))
    port = free_port()
    conf = work / "mosquitto.conf"
    # unlimited queues: a slow subscriber must not lose QoS 0 messages in the broker
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n"
                    "max_queued_messages 0\nmax_queued_bytes 0\npersistence false\n")
    broker = subprocess.Popen(["taskset", "-c", str(FAR_CORE), mosq, "-c", str(conf)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pub: Publisher | None = None
    try:
        wait_tcp(port)
        pub = Publisher(port)
        ours: list[tuple[float, float]] = []
        peer: list[tuple[float, float]] = []
        drops = 0
        for r in range(ROUNDS):
            cpu, wall = run_mosquitto_sub(port, pub, PROTOCOL, MESSAGES)
            peer.append((cpu, wall))
            cpu2, wall2, dropped, emitted = asyncio.run(
                run_campusmon(port, pub, PROTOCOL, MESSAGES))
            drops += dropped
            ours.append((cpu2, wall2))
            print(f"round {r + 1} (MQTT {PROTOCOL}): mosquitto_sub {cpu:.3f} CPU-s "
                  f"{MESSAGES / wall:,.0f} msg/s; campusmon {cpu2:.3f} CPU-s "
                  f"{MESSAGES / wall2:,.0f} msg/s ({emitted:,} items emitted, {dropped} dropped)",
                  file=sys.stderr, flush=True)
        p5, _ = run_mosquitto_sub(port, pub, "5", MQTT5_MESSAGES)
        o5, _, d5, _ = asyncio.run(run_campusmon(port, pub, "5", MQTT5_MESSAGES))
        drops += d5
        scale = 100_000 / MESSAGES
        x = statistics.median(c for c, _ in ours) * scale
        y = statistics.median(c for c, _ in peer) * scale
        ours_rate = MESSAGES / statistics.median(w for _, w in ours)
        peer_rate = MESSAGES / statistics.median(w for _, w in peer)
        print(f"payload {pub.payload_bytes} bytes, QoS 0, {DEVICES} devices, MQTT {PROTOCOL}, "
              f"{ROUNDS} rounds of {MESSAGES:,} messages (medians); load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"campusmon:     {ours_rate:10,.0f} messages/s  {x:.3f} CPU-s per 100k "
              f"({x * 10:.1f} µs per message), dropped {drops}")
        print(f"mosquitto_sub: {peer_rate:10,.0f} messages/s  {y:.3f} CPU-s per 100k "
              f"({y * 10:.1f} µs per message)")
        k5 = 100_000 / MQTT5_MESSAGES
        print(f"MQTT 5 (one round of {MQTT5_MESSAGES:,}, information only): campusmon "
              f"{o5 * k5:.3f}, mosquitto_sub {p5 * k5:.3f} CPU-s per 100k "
              f"(ratio {o5 / p5:.1f})")
        print(json.dumps({"bench": "mqtt_ingest", "unit": "cpu_seconds_per_100k_messages",
                          "campusmon": round(x, 4), "peer": "mosquitto_sub",
                          "peer_value": round(y, 4), "ratio": round(x / y, 2)}))
        return 0
    finally:
        if pub is not None:
            pub.close()
        broker.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            broker.wait(10)
        if broker.poll() is None:
            broker.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
