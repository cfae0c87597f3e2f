"""The alerts processor wired to real sinks the way the agent wires them: pipeline → disk queue
per sink → PushOutput → exporter. Tests drive it item by item and deliver step by step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from agent.core.plugin import Processor, PushExporter, Target
from agent.framework.diskqueue import DiskQueue
from agent.framework.outputs import PushOutput
from agent.framework.pipeline import NamedProcessor, Pipeline, QueueSink
from agent.framework.telemetry import PluginStats
from config.models import QueueOptions


class Rig:
    def __init__(self, tmp_path: Path, processor: Processor,
                 exporters: Mapping[str, PushExporter]) -> None:
        self.sinks: dict[str, QueueSink] = {}
        self.outputs: dict[str, PushOutput] = {}
        opts = QueueOptions(retry_initial_secs=0.05, retry_max_secs=0.2)
        for name, exp in exporters.items():
            q = DiskQueue(tmp_path / f"{name}.db", 16 * 2**20)
            sink = QueueSink(f"{name}/test", q, exp.accepts, PluginStats(name, f"{name}/test"))
            self.sinks[name] = sink
            self.outputs[name] = PushOutput(sink, exp, opts,
                                            decode=getattr(exp, "wants_objects", False))
        self.pipeline = Pipeline(
            base_tags={"campus": "hn-demo"},
            processors=[NamedProcessor("alerts/test", processor,
                                       PluginStats("alerts", "alerts/test"))],
            queues=list(self.sinks.values()))

    def submit(self, items: Sequence[object], target: Target | None = None) -> None:
        self.pipeline.submit(items, target)  # type: ignore[arg-type]

    async def flush(self) -> None:
        await self.pipeline.flush()

    async def deliver(self, name: str, max_steps: int = 20) -> int:
        """Deliver until the queue is empty or a step fails; returns items acknowledged."""
        total = 0
        for _ in range(max_steps):
            sent = await self.outputs[name].deliver_once()
            if sent <= 0:
                break
            total += sent
        return total

    def depth(self, name: str) -> int:
        return self.sinks[name].queue.stats().items

    def close(self) -> None:
        for s in self.sinks.values():
            s.queue.close()
