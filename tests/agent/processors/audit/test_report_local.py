import asyncio
from pathlib import Path

import pytest
import yaml

from agent.app.builtins import builtin_registry
from agent.app.cli import main
from agent.framework.runtime import Agent
from config.loader import load_config


@pytest.mark.timeout(60)
def test_report_from_an_agents_local_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    """A real agent (host collector + audit processor) writes its local store; `campusmon
    report --config` reads it back with the config's inventory."""
    config = tmp_path / "agent.yaml"
    config.write_text(yaml.safe_dump({
        "agent": {"data_dir": str(tmp_path / "data"), "interval_secs": 0.5,
                  "flush_interval_secs": 0.2, "local_store": {"enabled": True}},
        "inputs": [{"type": "host", "interval_secs": 0.5}],
        "processors": [{"type": "audit", "emit_every_secs": 0.5}],
    }))

    async def go() -> None:
        agent = Agent(load_config(config, builtin_registry()), builtin_registry())
        task = asyncio.create_task(agent.run())
        await asyncio.sleep(2.5)
        agent.request_stop()
        await task

    asyncio.run(go())
    out = tmp_path / "report"
    assert main(["report", "--config", str(config), "--out", str(out), "--window", "1h"]) == 0
    page = out / "report.html"
    assert str(page.resolve()) in capsys.readouterr().out
    text = page.read_text(encoding="utf-8")
    # this host's own CPU/OS identity reached the 国产化 figures through the local store
    assert 'data-indicator="localization_cpu"' in text
    assert "local store of" in text
    assert (out / "report.json").exists() and (out / "report.csv").exists()
