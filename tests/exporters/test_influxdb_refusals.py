"""How the influxdb exporter and the queue treat a centre that refuses, in whole or in part.

A real VictoriaMetrics 1.79 skips unparsable lines and answers 204, so these answers come from
an InfluxDB look-alike speaking the documented InfluxDB 2/3 responses.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import pytest

from agent.core.plugin import BatchKind
from exporters.influxdb.plugin import InfluxConfig, InfluxExporter
from tests.exporters.helpers import FakeInflux, drain_all, make_output, self_signed


def _lines(n: int, bad: set[int] = frozenset()) -> list[str]:  # type: ignore[assignment]
    now = time.time_ns()
    return [f"m,i={i} {'bad' if i in bad else 'v'}={i}i {now + i}" for i in range(n)]


def _rejected(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as c:
        return [(line, r) for p, r in c.execute(
            "SELECT payload, reason FROM rejected ORDER BY id")
            for line in bytes(p).decode().split("\n")]


@pytest.mark.timeout(30)
async def test_bad_lines_are_isolated_and_good_lines_delivered_once(tmp_path: Path) -> None:
    def decide(lines: list[str]) -> tuple[int, str, dict[str, str]]:
        bad = [x for x in lines if " bad=" in x]
        if bad:  # InfluxDB OSS 2: the whole batch refused, first bad line named
            return 400, json.dumps({"code": "invalid",
                                    "message": f"unable to parse '{bad[0]}': bad field"}), {}
        return fake.accept(lines)

    fake = FakeInflux(decide)
    try:
        exp = InfluxExporter(InfluxConfig(url=fake.url))
        out = make_output(tmp_path, exp, batch_max_points=500)
        lines = _lines(200, bad={17, 150})
        out.sink.queue.put(BatchKind.METRICS, lines)
        await drain_all(out)
        await exp.close()
        good = [x for x in lines if " bad=" not in x]
        assert sorted(fake.stored) == sorted(good)  # every good line, exactly once
        rejected = _rejected(tmp_path / "queue.db")
        assert sorted(p for p, _ in rejected) == sorted(x for x in lines if " bad=" in x)
        assert all("HTTP 400" in r and "unable to parse" in r for _, r in rejected)
        st = out.sink.queue.stats()
        assert st.rejected_items == 2 and st.items == 0
        assert out.sink.stats.sent == 198 and out.sink.stats.dropped == 2
        assert all(h.get("Content-Encoding") == "gzip" for h in fake.headers)
    finally:
        fake.close()


@pytest.mark.timeout(30)
async def test_influxdb3_partial_write_sets_aside_named_lines_and_resends_nothing(
        tmp_path: Path) -> None:
    def decide(lines: list[str]) -> tuple[int, str, dict[str, str]]:
        errors = [{"original_line": x, "line_number": i + 1, "error_message": "type conflict"}
                  for i, x in enumerate(lines) if " bad=" in x]
        fake.stored.extend(x for x in lines if " bad=" not in x)
        if errors:
            return 400, json.dumps({"error": "partial write of line protocol occurred",
                                    "data": errors}), {}
        return 204, "", {}

    fake = FakeInflux(decide)
    try:
        exp = InfluxExporter(InfluxConfig(url=fake.url, gzip=False))
        out = make_output(tmp_path, exp)
        lines = _lines(50, bad={0, 49})
        out.sink.queue.put(BatchKind.METRICS, lines)
        await drain_all(out)
        await exp.close()
        assert len(fake.received) == 1  # the stored part is never sent again
        assert sorted(p for p, _ in _rejected(tmp_path / "queue.db")) == sorted(
            [lines[0], lines[49]])
        assert out.sink.stats.sent == 48 and out.sink.queue.stats().rejected_items == 2
    finally:
        fake.close()


@pytest.mark.timeout(30)
async def test_influxdb2_partial_write_counts_dropped(tmp_path: Path) -> None:
    def decide(lines: list[str]) -> tuple[int, str, dict[str, str]]:
        return 400, json.dumps({"code": "invalid", "message": "partial write: field type "
                                "conflict: input field \"v\" on measurement \"m\" is type "
                                "float, already exists as type integer dropped=3"}), {}

    fake = FakeInflux(decide)
    try:
        exp = InfluxExporter(InfluxConfig(url=fake.url))
        out = make_output(tmp_path, exp)
        out.sink.queue.put(BatchKind.METRICS, _lines(10))
        await drain_all(out)
        await exp.close()
        assert len(fake.received) == 1
        assert out.sink.stats.sent == 7 and out.sink.stats.dropped == 3
    finally:
        fake.close()


@pytest.mark.timeout(30)
async def test_overload_is_retried_after_retry_after_and_auth_errors_keep_data(
        tmp_path: Path) -> None:
    answers = [(503, "", {"Retry-After": "1"}), (429, "", {}), (401, '{"message":"unauthorized"}',
                                                                 {})]
    times: list[float] = []

    def decide(lines: list[str]) -> tuple[int, str, dict[str, str]]:
        times.append(time.monotonic())
        if answers:
            return answers.pop(0)
        return fake.accept(lines)

    fake = FakeInflux(decide)
    try:
        exp = InfluxExporter(InfluxConfig(url=fake.url))
        out = make_output(tmp_path, exp)
        lines = _lines(20)
        out.sink.queue.put(BatchKind.METRICS, lines)
        assert await out.deliver_once() == 0
        assert out.sink.queue.stats().items == 20  # kept through a 503
        await drain_all(out)
        await exp.close()
        assert fake.stored == lines and len(fake.received) == 4
        assert times[1] - times[0] >= 0.9  # the server's Retry-After was honoured
        st = out.sink.queue.stats()
        assert st.rejected_items == 0 and st.dropped_items == 0
        # errors by cause, for agent_plugin_errors{error_type}
        assert dict(out.sink.stats.errors) == {"protocol": 2, "auth": 1}
    finally:
        fake.close()


@pytest.mark.timeout(30)
async def test_centre_failing_mid_split_keeps_the_unsent_rest_at_the_head(tmp_path: Path) -> None:
    calls = {"n": 0}

    def decide(lines: list[str]) -> tuple[int, str, dict[str, str]]:
        calls["n"] += 1
        if calls["n"] == 3:  # whole batch refused, first half stored, then the centre fails
            return 503, "", {}
        if any(" bad=" in x for x in lines):
            return 400, '{"message":"unable to parse"}', {}
        return fake.accept(lines)

    fake = FakeInflux(decide)
    try:
        exp = InfluxExporter(InfluxConfig(url=fake.url))
        out = make_output(tmp_path, exp)
        lines = _lines(40, bad={33})
        out.sink.queue.put(BatchKind.METRICS, lines)
        later = _lines(5)
        out.sink.queue.put(BatchKind.METRICS, later)
        await out.deliver_once()
        rows = out.sink.queue.peek(1000)
        # one batch of 45 refused; [0, 22) stored; [22, 45) unsent, kept first, in order
        assert [x for r in rows for x in r.lines] == (lines + later)[22:]
        await drain_all(out)
        await exp.close()
        assert sorted(fake.stored) == sorted([x for x in lines if " bad=" not in x] + later)
        assert len(fake.stored) == len(set(fake.stored))
    finally:
        fake.close()


@pytest.mark.timeout(60)
async def test_tls_with_a_private_ca_and_the_token_header(tmp_path: Path) -> None:
    cert, key = await asyncio.to_thread(self_signed, tmp_path)

    def decide(lines: list[str]) -> tuple[int, str, dict[str, str]]:
        return fake.accept(lines)

    fake = FakeInflux(decide, tls=(cert, key))
    try:
        lines = _lines(5)
        # without the CA the certificate is refused: the batch stays queued
        strict = InfluxExporter(InfluxConfig(url=fake.url, timeout_secs=3))
        out = make_output(tmp_path / "a", strict)
        out.sink.queue.put(BatchKind.METRICS, lines)
        assert await out.deliver_once() == 0 and out.sink.queue.stats().items == 5
        await strict.close()
        exp = InfluxExporter(InfluxConfig.model_validate(
            {"url": fake.url, "ca_file": str(cert), "token": "s3cret", "bucket": "campus",
             "org": "hunan"}))
        out2 = make_output(tmp_path / "b", exp)
        out2.sink.queue.put(BatchKind.METRICS, lines)
        await drain_all(out2)
        await exp.close()
        assert fake.stored == lines
        assert fake.headers[-1]["Authorization"] == "Token s3cret"
        assert "bucket=campus" in fake.paths[-1] and "org=hunan" in fake.paths[-1]
    finally:
        fake.close()


@pytest.mark.timeout(60)
async def test_a_centre_that_hangs_is_a_timeout_and_the_batch_is_kept(tmp_path: Path) -> None:
    def decide(lines: list[str]) -> tuple[int, str, dict[str, str]]:
        if len(fake.received) == 1:
            time.sleep(3)  # longer than the exporter's timeout
        return fake.accept(lines)

    fake = FakeInflux(decide)
    try:
        exp = InfluxExporter(InfluxConfig(url=fake.url, timeout_secs=1))
        out = make_output(tmp_path, exp)
        out.sink.queue.put(BatchKind.METRICS, _lines(3))
        assert await out.deliver_once() == 0
        assert out.sink.queue.stats().items == 3
        assert dict(out.sink.stats.errors) == {"timeout": 1}
        await drain_all(out)
        await exp.close()
        assert len(fake.received) == 2  # retried once the centre answered again
    finally:
        fake.close()
