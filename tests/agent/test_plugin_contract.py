"""Every registered plugin: its example validates, it builds, close() without start() works,
and unknown keys are refused (the lifecycle contract, generated over the registry); it declares
what it writes, and writing anything else fails (the catalogue contract)."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.app.builtins import BUILTIN_SPECS, builtin_registry
from agent.core.catalogue import (
    PLACE_TAG_NAMES,
    CatalogueError,
    FieldKind,
    Measurement,
    gauge,
    tag,
)
from agent.core.model import Item, Metric, ProbeResult
from agent.core.plugin import (
    BuildContext,
    Capability,
    PluginKind,
    PluginSpec,
    Registry,
    Target,
)
from agent.framework.contract import DeclarationCheck
from agent.framework.measurements import catalogue_of
from agent.framework.pipeline import NamedProcessor, Pipeline
from agent.framework.telemetry import PluginStats
from config.base import StrictModel
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
    if Capability.BATCH_POLLS in spec.capabilities:  # the scheduler calls poll_many per tick
        assert spec.kind is PluginKind.POLLER and callable(getattr(plugin, "poll_many", None))

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


# ------------------------------------------------------------------ what a plugin writes
WRITERS = (PluginKind.POLLER, PluginKind.LISTENER, PluginKind.PROCESSOR)


@pytest.mark.parametrize("spec", BUILTIN_SPECS, ids=lambda s: f"{s.kind.section}/{s.name}")
def test_declarations_are_well_formed(spec: PluginSpec) -> None:
    if spec.kind in WRITERS:
        assert spec.measurements, "an input or processor declares what it writes"
    else:
        assert not spec.measurements, "outputs write nothing of their own"
    for m in spec.measurements:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", m.name), m.name
        names = [f.name for f in m.fields]
        assert names or m.open_fields is not None, f"{m.name}: no fields"
        assert len(names) == len(set(names)), m.name
        assert not m.tag_names() & PLACE_TAG_NAMES, f"{m.name}: place tags are the framework's"
        assert not m.tag_names() & m.field_names(), m.name
        assert m.description and all(f.description for f in m.fields), m.name
        assert all(f.name == "info" for f in m.fields if f.kind is FieldKind.INFO), m.name
    catalogue_of((spec,))  # agrees with the framework's declarations


def contract_check(spec: PluginSpec, items: Sequence[Item]) -> None:
    """What the framework does with a plugin's items in strict mode (tests)."""
    check = DeclarationCheck(spec.name, spec.measurements, strict=True)
    for it in items:
        m = it.to_metric() if isinstance(it, ProbeResult) else it
        if isinstance(m, Metric):
            check.problem(m)


class _Fake:
    """A poller writing one field it declared and one it did not."""

    async def start(self) -> None:
        return None

    async def poll(self, target: Target) -> Sequence[Item]:
        return [Metric("fake_reading", {"sensor": "s1"},
                       {"value_seconds": 1.0, "oops_bytes": 2})]

    async def close(self) -> None:
        return None


class _FakeConfig(StrictModel):
    pass


FAKE = PluginSpec(
    name="fake", kind=PluginKind.POLLER, config_model=_FakeConfig,
    build=lambda cfg, ctx: _Fake(), description="writes an undeclared field",
    example={"type": "fake"},
    measurements=(Measurement("fake_reading", "a reading", tags=(tag("sensor", "which"),),
                              fields=(gauge("value_seconds", "seconds", "the value"),)),))


def test_a_plugin_writing_an_undeclared_field_fails_its_contract() -> None:
    items = asyncio.run(_Fake().poll(Target("t")))
    with pytest.raises(CatalogueError, match=r"fake: fake_reading: undeclared field\(s\) "
                                             r"oops_bytes"):
        contract_check(FAKE, items)
    # in a running agent the same item fails the test run (strict) …
    strict = Pipeline(base_tags={}, checks={"fake": DeclarationCheck(
        "fake", FAKE.measurements, strict=True)})
    with pytest.raises(CatalogueError):
        strict.submit(items, source=("fake", "fake/x"))
    # … and in production is set aside and counted, the rest flowing
    prod = Pipeline(base_tags={}, checks={"fake": DeclarationCheck(
        "fake", FAKE.measurements, strict=False)})
    good = Metric("fake_reading", {"sensor": "s2"}, {"value_seconds": 2.0})
    prod.submit([*items, good, Metric("fake_other", {}, {"x": 1})], source=("fake", "fake/x"))
    assert prod.pending() == 1
    assert prod.rejections.count("fake/x", "undeclared_field") == 1
    assert prod.rejections.count("fake/x", "undeclared_measurement") == 1
    prod.submit([Metric("fake_reading", {"colour": "red"}, {"value_seconds": 2.0})],
                source=("fake", "fake/x"))
    assert prod.rejections.count("fake/x", "undeclared_tag") == 1


def test_a_processor_adding_an_undeclared_measurement_is_caught() -> None:
    class Adds:
        def process(self, items: Sequence[Item]) -> Sequence[Item]:
            return [*items, Metric("not_declared", {}, {"x": 1}),
                    Metric("fake_reading", {}, {"value_seconds": 1.0})]

    stats = PluginStats("adder", "adder/x")
    proc = NamedProcessor("adder/x", Adds(), stats,
                          DeclarationCheck("adder", FAKE.measurements, strict=False))
    pipe = Pipeline(base_tags={}, processors=[proc])
    passing = Metric("anything", {}, {"y": 1})  # not the processor's: passes through
    pipe.submit([passing])
    assert pipe.pending() == 2
    assert pipe.rejections.count("adder/x", "undeclared_measurement") == 1


def test_the_host_poller_writes_only_what_it_declares(tmp_path: Path) -> None:
    """A real poll of this machine, checked as the agent checks it."""
    from collectors.host import SPEC as HOST

    ctx = BuildContext(instance="host/test", inventory=Inventory.empty(), credentials={},
                       data_dir=tmp_path, config_dir=tmp_path)
    poller = HOST.build(HOST.config_model.model_validate({}), ctx)

    async def once() -> Sequence[Item]:
        await poller.start()
        try:
            return await poller.poll(Target("self"))
        finally:
            await poller.close()

    items = asyncio.run(once())
    assert {i.name for i in items if isinstance(i, Metric)} >= {"host_cpu", "host_memory"}
    contract_check(HOST, items)
    narrowed = dataclasses.replace(HOST, measurements=tuple(
        dataclasses.replace(m, fields=m.fields[:-1]) if m.name == "host_cpu" else m
        for m in HOST.measurements))
    with pytest.raises(CatalogueError, match="host_cpu: undeclared field"):
        contract_check(narrowed, items)
