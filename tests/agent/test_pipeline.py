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


def test_target_tags_follow_the_target_object() -> None:
    """Merged tags are cached per target object: the same object reuses them, a new object
    (an inventory reload) with the same id gets its own, and instance tags apply."""
    from agent.core.plugin import Target

    pipeline = Pipeline(base_tags={"campus": "c"})
    inst = {"team": "noc"}
    old = Target(id="sw1", labels={"rack": "a"})
    new = Target(id="sw1", labels={"rack": "b"})
    for target in (old, old, new):
        pipeline.submit([Metric("m", {"rack": "mine"} if target is new else {}, {"v": 1}, 1)],
                        target, None, inst)
    pipeline.submit([Metric("m", {}, {"v": 1}, 1)], old)
    pipeline.submit([Metric("m", {}, {"v": 1}, 1)])
    got = [dict(m.tags) for m in pipeline._metrics]
    assert got == [{"campus": "c", "team": "noc", "target": "sw1", "rack": "a"}] * 2 + [
        {"campus": "c", "team": "noc", "target": "sw1", "rack": "mine"},
        {"campus": "c", "target": "sw1", "rack": "a"}, {"campus": "c"}]


def test_make_metric_is_the_dataclass_constructor() -> None:
    """`make_metric` (the hot-path constructor `with_tags` uses) builds exactly what
    `Metric(...)` builds: equal, same hash, frozen, and `with_tags` keeps the plugin's tags."""
    import dataclasses
    import pickle

    import pytest

    from agent.core.model import MetricKind, make_metric

    for kind in MetricKind:
        a = make_metric("m", {"t": "1"}, {"v": 1, "f": 0.5}, 7, kind)
        b = Metric("m", {"t": "1"}, {"v": 1, "f": 0.5}, 7, kind)
        assert a == b and type(a) is Metric and repr(a) == repr(b)
        assert pickle.loads(pickle.dumps(a)) == b
        with pytest.raises(dataclasses.FrozenInstanceError):
            a.name = "x"  # type: ignore[misc]
    m = Metric("m", {"campus": "mine", "t": "1"}, {"v": 1}, 3, MetricKind.COUNTER)
    assert m.with_tags({"campus": "c", "device": "d"}) == Metric(
        "m", {"campus": "mine", "device": "d", "t": "1"}, {"v": 1}, 3, MetricKind.COUNTER)
    assert m.with_tags({}) is m


def test_a_batch_gets_the_tags_with_tags_would_give_each_point() -> None:
    """Points of one batch with equal tags share one merged dict; any difference — a value,
    the order, the plugin's own tag overriding a place tag — gets its own, as `with_tags`."""
    from agent.core.plugin import Target

    target = Target(id="d1", labels={"room": "r1"})
    own = {"a": "1", "b": "2"}
    batch = [Metric("m", own, {"v": 1}, 1), Metric("m", own, {"v": 2}, 2),
             Metric("m", {"a": "1", "b": "2"}, {"v": 3}, 3),
             Metric("m", {"b": "2", "a": "1"}, {"v": 4}, 4),
             Metric("m", {"a": "1", "b": "3"}, {"v": 5}, 5),
             Metric("m", {"a": "1", "room": "mine"}, {"v": 6}, 6),
             Metric("m", own, {"v": 7}, 7)]
    pipeline = Pipeline(base_tags={"campus": "c"})
    pipeline.submit(batch, target, source=("p", "p/1"))  # shapes not known yet
    pipeline.submit(batch, target, source=("p", "p/1"))  # known: the values-only path
    want = [m.with_tags(pipeline._tags_for(target, None)) for m in batch] * 2
    assert pipeline._metrics == want
    assert [list(m.tags) for m in pipeline._metrics] == [list(m.tags) for m in want]
    known = pipeline._metrics[len(batch):]  # the values-only path: equal tags, one dict
    assert known[0].tags is known[1].tags is known[2].tags
    assert known[3].tags is not known[2].tags  # the same tags in another order
    assert known[4].tags is not known[3].tags and known[5].tags is not known[4].tags
    bare = Pipeline(base_tags={})
    bare.submit(batch, None, source=("p", "p/1"))
    bare.submit(batch, None, source=("p", "p/1"))
    assert all(a is b for a, b in zip(bare._metrics, batch * 2, strict=True))
