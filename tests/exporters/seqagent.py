"""An agent with the counting source (seqsource) in a process of its own, for tests that measure
the agent itself (its RSS) and not the pytest process, which carries whatever the tests before
it left behind (threads, servers, imported libraries).

    python -m tests.exporters.seqagent CONFIG [TURNOVERS]

Talks JSON lines on stdout: `ready` once the agent is built, `quota` when its first output's
disk queue first drops an item, `turned_over` once drops have replaced the queue's content
TURNOVERS times; on the stdin line `report` it answers with what the running
agent's queue and self-metrics say; on `stop` (or end of input) it stops the agent and answers
`stopped` with the output's counters. Every wait is bounded."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path

from agent.framework.runtime import Agent
from tests.exporters import seqsource

START_SECS = 60  # bounded: the agent builds in well under a second
RUN_SECS = 180  # bounded: the test talking to us has its own, shorter timeout


def _say(**doc: object) -> None:
    sys.stdout.write(json.dumps(doc) + "\n")
    sys.stdout.flush()


def _report(agent: Agent, runner: asyncio.Task[None]) -> dict[str, object]:
    assert agent.built is not None
    queue = agent.built.outputs[0].sink.queue
    st = queue.stats()
    head = queue.peek(1)
    first = head[0].lines if head else []
    src = seqsource.SeqSource.last
    produced = src.produced if src is not None else []
    metric = [m for m in agent.snapshot.current() if m.name == "agent_queue"]
    return {
        "running": not runner.done(), "dropped_items": st.dropped_items, "bytes": st.bytes,
        "items": st.items, "head": first[0] if first else "", "produced": len(produced),
        # the very first point collected: still in the oldest queued row?
        "first_point_queued": bool(produced) and f"value={produced[0]}i" in "".join(first),
        "dropped_total_metric": int(metric[0].fields["dropped_total"]) if metric else None,
    }


async def _watch_quota(agent: Agent, turnovers: int) -> None:
    """`quota` at the first drop; `turned_over` once the queue has been replaced `turnovers`
    times over by drops (dropped items >= turnovers x the items it holds)."""
    assert agent.built is not None
    queue = agent.built.outputs[0].sink.queue
    said_quota = False
    for _ in range(RUN_SECS * 20):
        st = queue.stats()
        if st.dropped_items and not said_quota:
            _say(event="quota")
            said_quota = True
        if said_quota and st.dropped_items >= turnovers * max(st.items, 1):
            _say(event="turned_over", dropped_items=st.dropped_items, items=st.items)
            return
        await asyncio.sleep(0.05)


async def main(cfg: Path, turnovers: int) -> None:
    agent = Agent(seqsource.load(cfg), seqsource.registry())
    runner = asyncio.create_task(agent.run())
    watcher: asyncio.Task[None] | None = None
    try:
        for _ in range(START_SECS * 20):
            if agent.built is not None or runner.done():
                break
            await asyncio.sleep(0.05)
        if agent.built is None:
            _say(event="failed", why="the agent did not build")
            return
        _say(event="ready")
        watcher = asyncio.create_task(_watch_quota(agent, turnovers))
        for _ in range(10):  # bounded: `report` any number of times, then `stop`
            line = await asyncio.wait_for(asyncio.to_thread(sys.stdin.readline), RUN_SECS)
            if line.strip() != "report":
                break
            _say(event="report", **_report(agent, runner))
    finally:
        if watcher is not None:
            watcher.cancel()
        agent.request_stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(runner, 20)
    stats = agent.telemetry.get("influxdb/central")
    _say(event="stopped", received=stats.received if stats else None,
         dropped=stats.dropped if stats else None)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1))
