import argparse
import asyncio
from pathlib import Path

import pytest

from agent.audit.demo import demo_finish, demo_part
from agent.builtins import builtin_registry
from agent.demo import DemoRun
from agent.runtime import Agent
from config.loader import load_config


@pytest.mark.timeout(60)
def test_demo_part_and_finish_write_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                             ) -> None:
    """The hooks for `campusmon demo`: audit processor in the run, report from its store."""
    run = DemoRun(tmp_path)
    args = argparse.Namespace(interval_secs=0.5)
    run.inputs.append({"type": "host", "interval_secs": 0.5})
    demo_part(run, args)
    config = run.write_config(0.5)

    async def go() -> None:
        agent = Agent(load_config(config, builtin_registry()), builtin_registry())
        task = asyncio.create_task(agent.run())
        await asyncio.sleep(2.5)
        agent.request_stop()
        await task

    asyncio.run(go())
    demo_finish(run, args, config)
    page = tmp_path / "report" / "report.html"
    assert str(page.resolve()) in capsys.readouterr().out
    text = page.read_text(encoding="utf-8")
    # the host's own CPU/OS identity reached the 国产化 figures through the local store
    assert 'data-indicator="localization_cpu"' in text
    assert (tmp_path / "report" / "report.json").exists()
