"""The influxdb exporter against a real VictoriaMetrics: what goes in comes back exactly."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest

from agent.core.lineprotocol import render_many
from agent.core.model import Metric, MetricKind
from agent.core.plugin import BatchKind
from exporters.influxdb.plugin import InfluxConfig, InfluxExporter
from tests.exporters.helpers import drain_all, make_output, vm_samples
from tests.servers import VictoriaMetrics

PLACE = {"campus": "hnvc", "building": "教学楼A", "room": "A-101", "device": "sw 1,core=x"}


def _metrics(meas: str, now_ns: int, n: int) -> list[Metric]:
    out = []
    for i in range(n):
        ts = now_ns - (n - i) * 1_000_000_000
        out.append(Metric(meas, {**PLACE, "ifname": f"GE0/0/{i % 3}"},
                          {"in_octets": 2**52 + i, "util_percent": i / 8, "up": i % 2 == 0},
                          ts, MetricKind.COUNTER))
    return out


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("gzip", "precision"), [(True, "ns"), (False, "ms"), (True, "s")])
async def test_points_read_back_exactly(victoria_metrics: VictoriaMetrics, tmp_path: Path,
                                        gzip: bool, precision: str) -> None:
    meas = f"t_{uuid.uuid4().hex[:8]}"
    now = time.time_ns() // 1_000_000_000 * 1_000_000_000  # whole seconds: every precision
    metrics = _metrics(meas, now, 30)
    exp = InfluxExporter(InfluxConfig(url=victoria_metrics.url, gzip=gzip,
                                      precision=precision))
    out = make_output(tmp_path, exp, batch_max_points=7)
    out.sink.queue.put(BatchKind.METRICS, render_many(metrics))
    await drain_all(out)
    await exp.close()
    assert out.sink.stats.sent == 30 and out.sink.stats.dropped == 0

    want: dict[tuple[tuple[str, str], ...], list[tuple[int, float]]] = {}
    for m in metrics:
        for f, v in m.fields.items():
            labels = {**m.tags, "__name__": f"{meas}_{f}"}
            key = tuple(sorted(labels.items()))
            want.setdefault(key, []).append((m.ts_ns // 1_000_000, float(v)))
    want = {k: sorted(v) for k, v in want.items()}
    got = {}
    for _ in range(20):  # new series can take a moment to become searchable
        got = {k: sorted(v) for k, v in vm_samples(
            victoria_metrics.url, f'{{__name__=~"{meas}_.*"}}').items()}
        if got == want:
            break
        await asyncio.sleep(0.5)
    assert got == want
    # the place tags a province-wide store rolls up by arrive intact (unicode, space, comma, =)
    any_key = next(iter(got))
    assert dict(any_key)["building"] == "教学楼A" and dict(any_key)["device"] == "sw 1,core=x"


@pytest.mark.timeout(60)
async def test_text_fields_left_out_for_victoriametrics(victoria_metrics: VictoriaMetrics,
                                                        tmp_path: Path) -> None:
    meas = f"t_{uuid.uuid4().hex[:8]}"
    now = time.time_ns()
    metrics = [Metric(meas, PLACE, {"up": 1, "descr": "Huawei VRP, \"core\""}, now),
               Metric(meas, {**PLACE, "device": "sw-2"}, {"descr": "text only"}, now)]
    exp = InfluxExporter(InfluxConfig(url=victoria_metrics.url, text_fields=False))
    out = make_output(tmp_path, exp)
    out.sink.queue.put(BatchKind.METRICS, render_many(metrics))
    await drain_all(out)
    await exp.close()
    names: set[str] = set()
    for _ in range(20):  # new series can take a moment to become searchable
        got = vm_samples(victoria_metrics.url, f'{{__name__=~"{meas}_.*"}}')
        names = {dict(k)["__name__"] for k in got}
        if names:
            break
        await asyncio.sleep(0.5)
    assert names == {f"{meas}_up"}  # no bogus `descr` series valued 0
