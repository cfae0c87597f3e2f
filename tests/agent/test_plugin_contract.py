"""Every registered plugin: its example validates, it builds, close() without start() works,
and unknown keys are refused (the lifecycle contract, generated over the registry)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.app.builtins import BUILTIN_SPECS, builtin_registry
from agent.core.plugin import BuildContext, PluginSpec, Registry
from config.models import FRAMEWORK_KEYS
from inventory.models import Inventory


def _own(example: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in example.items() if k not in FRAMEWORK_KEYS}


@pytest.mark.parametrize("spec", BUILTIN_SPECS, ids=lambda s: f"{s.kind.section}/{s.name}")
def test_plugin_contract(spec: PluginSpec, tmp_path: Path) -> None:
    assert spec.example.get("type") == spec.name, "example must carry its own type"
    cfg = spec.config_model.model_validate(_own(dict(spec.example)))
    with pytest.raises(ValidationError):
        spec.config_model.model_validate({**_own(dict(spec.example)), "no_such_key_x": 1})
    ctx = BuildContext(instance=f"{spec.name}/test", inventory=Inventory.empty(),
                       credentials={}, data_dir=tmp_path, config_dir=tmp_path)
    plugin = spec.build(cfg, ctx)

    async def close_twice() -> None:
        for _ in range(2):
            res = plugin.close()
            if asyncio.iscoroutine(res):
                await res

    asyncio.run(close_twice())


def test_registry_refuses_duplicates_and_is_not_shared() -> None:
    a = builtin_registry()
    b = Registry()
    assert b.all() == []
    with pytest.raises(ValueError):
        a.register(BUILTIN_SPECS[0])
    assert len(builtin_registry().all()) == len(BUILTIN_SPECS)
