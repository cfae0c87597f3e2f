"""kill -9 with a backlog in the disk queue: nothing acknowledged is sent again, nothing
unacknowledged is lost. The centre is a real HTTP server speaking /api/v2/write."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.agent.agentproc import start_agent, stop_agent, wait_running
from tests.agent.lp_receiver import LineReceiver
from tests.agent.test_lifecycle import host_config, queue_lines


@pytest.mark.timeout(120)
def test_kill9_during_backlog_flush(tmp_path: Path) -> None:
    rx = LineReceiver()
    try:
        rx.set_mode("refuse")
        extra = f"""outputs:
  - type: influxdb
    name: central
    url: {rx.url}
    gzip: false
    timeout_secs: 20
    queue: {{batch_max_points: 20, retry_initial_secs: 0.2, retry_max_secs: 0.5}}
"""
        cfg = host_config(tmp_path, extra=extra)
        db = tmp_path / "data" / "queue" / "influxdb_central.db"
        proc = start_agent(cfg, tmp_path / "agent.log")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # a backlog builds while the centre refuses
            if db.exists() and len(queue_lines(db)) > 60:
                break
            time.sleep(0.3)
        assert len(queue_lines(db)) > 60
        rx.set_mode("hang_after:2")  # acknowledge two batches, hold the third
        assert rx.state.held_event.wait(20), (tmp_path / "agent.log").read_text()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        acked_before = rx.state.acked_lines()
        held = rx.state.held[0]
        in_queue = queue_lines(db)  # what the killed agent still owes
        assert len(rx.state.acked) == 2 and acked_before
        assert set(held) <= set(in_queue), "an unacknowledged batch left the queue"
        assert not set(acked_before) & set(in_queue), "an acknowledged batch is still queued"

        rx.state.acked.clear()
        rx.set_mode("ack")
        proc = start_agent(cfg, tmp_path / "agent2.log")
        wait_running(tmp_path / "agent2.log")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and queue_lines(db):
            time.sleep(0.3)
        rc, _ = stop_agent(proc)
        assert rc == 0
        after = rx.state.acked_lines()
        assert not set(acked_before) & set(after), "acknowledged points were sent again"
        missing = set(in_queue) - set(after)
        assert not missing, f"{len(missing)} unacknowledged points lost"
        assert len(after) == len(set(after)), "duplicates after the restart"
    finally:
        rx.close()
