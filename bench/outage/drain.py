"""Drain one disk queue into an InfluxDB-compatible URL the way the agent's output loop does
(`PushOutput.run` with the `influxdb` exporter: peek → decode → gzip → HTTP → ack), in a
process of its own so the bench can read its CPU and RSS from /proc. Exits when the queue is
empty, or on SIGTERM after the batch in flight is acknowledged (the agent's own stop: a
resumed drain sends nothing twice), and prints one JSON line: CPU seconds and points sent
from the first send to the end (imports and start-up left out), and whether it is empty.
Usage: drain.py QUEUE_DB URL BATCH_POINTS LIMIT_SECONDS"""

from __future__ import annotations

import asyncio
import json
import resource
import signal
import sys
from pathlib import Path

# SIGTERM asks for a clean stop, also while the imports below still run
STOP_ASKED = False


def _ask_stop(*_: object) -> None:
    global STOP_ASKED
    STOP_ASKED = True


signal.signal(signal.SIGTERM, _ask_stop)

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from agent.framework.diskqueue import DiskQueue  # noqa: E402
from agent.framework.outputs import PushOutput  # noqa: E402
from agent.framework.pipeline import QueueSink  # noqa: E402
from agent.framework.telemetry import PluginStats  # noqa: E402
from config.models import QueueOptions  # noqa: E402
from exporters.influxdb.plugin import InfluxConfig, InfluxExporter  # noqa: E402


async def drain(db: Path, url: str, batch: int, limit_s: int) -> None:
    exporter = InfluxExporter(InfluxConfig(url=url, timeout_secs=120))
    queue = DiskQueue(db, 2**40, block_items=batch)
    out = PushOutput(QueueSink("influxdb/central", queue, exporter.accepts,
                               PluginStats("influxdb", "influxdb/central")), exporter,
                     QueueOptions(batch_max_points=batch))
    await exporter.start()
    items = queue.stats().items
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    stop = asyncio.Event()
    runner = asyncio.create_task(out.run(stop))
    for _ in range(limit_s * 5):  # bounded by the caller's limit
        if not queue.stats().rows or STOP_ASKED:
            break
        await asyncio.sleep(0.2)
    stop.set()
    await runner
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    await exporter.close()
    left = queue.stats().items
    queue.close()
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    print(json.dumps({"cpu_seconds": cpu, "points": items - left, "empty": left == 0}),
          flush=True)


if __name__ == "__main__":
    asyncio.run(drain(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
