"""The pipeline keeps running when the local store cannot write; the disk queue still gets it."""

from __future__ import annotations

from pathlib import Path

from agent.core.model import Metric
from agent.core.plugin import BatchKind
from agent.framework.diskqueue import DiskQueue
from agent.framework.localstore import LocalStore
from agent.framework.pipeline import Pipeline, QueueSink
from agent.framework.telemetry import PluginStats


async def test_broken_local_store_does_not_stop_the_flush(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store.db", retention_hours=1, max_bytes=2**20)
    store.close()  # every write now fails with a sqlite3 error
    queue = DiskQueue(tmp_path / "q.db", 2**20)
    sink = QueueSink("influxdb/x", queue, frozenset({BatchKind.METRICS}),
                     PluginStats("influxdb", "influxdb/x"))
    pipeline = Pipeline(base_tags={"campus": "c"}, queues=[sink], local_store=store)
    pipeline.submit([Metric("m", {}, {"v": 1}, 1)])
    await pipeline.flush()
    assert queue.stats().items == 1
    pipeline.submit([Metric("m", {}, {"v": 2}, 2)])
    await pipeline.flush()  # and the next flush works too
    assert queue.stats().items == 2
    queue.close()
