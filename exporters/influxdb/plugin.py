"""Influx line protocol to VictoriaMetrics (/api/v2/write) or InfluxDB 2.x/3.x.

Batching, retries and backoff belong to the disk queue (agent/framework/outputs.py); this
exporter sends one batch and says precisely what happened to it:
- the whole batch stored → return;
- the centre unreachable, overloaded or misconfigured (timeouts, 5xx, 429, 401/403/404) →
  `RetryableExportError` (the queue keeps the batch);
- InfluxDB's partial write (400 "partial write": the good lines are stored) → the lines it
  names are set aside, nothing is sent again;
- any other 400/413/422 (nothing stored) → the batch is split in halves, recursively, until the
  refused lines are isolated: good lines are delivered, only refused lines are set aside.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Literal, NoReturn

from pydantic import Field, SecretStr

from agent.core.errors import RetryableExportError
from agent.core.lineprotocol import parse, render
from agent.core.model import Metric
from agent.core.plugin import Batch, BatchKind, BuildContext, Capability, PluginKind, PluginSpec
from agent.framework.outputs import LinesExportError
from config.base import SecretsFromFiles
from exporters.influxdb.client import LineWriter, RefusedWrite, WriterOptions

_DIVISOR = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}


class InfluxConfig(SecretsFromFiles):
    url: str = Field(pattern=r"^https?://")
    bucket: str = "campusmon"  # VictoriaMetrics ignores bucket and org
    org: str = "campusmon"
    token: SecretStr | None = None  # InfluxDB 2/3 API token (token_file: also accepted)
    timeout_secs: float = Field(default=10.0, gt=0)
    gzip: bool = True
    gzip_level: int = Field(default=1, ge=1, le=9)  # 1: a quarter of level 9's CPU
    precision: Literal["ns", "us", "ms", "s"] = "ns"  # VictoriaMetrics keeps milliseconds
    # VictoriaMetrics stores a text field as a bogus 0 series: `false` leaves text fields out
    # (text facts belong in tags of *_info measurements anyway); InfluxDB keeps them.
    text_fields: bool = True
    verify_tls: bool = True
    ca_file: str | None = None
    # Wait at least this long between sends of a batch that is not full, so batches grow on
    # a slow uplink (0: send on every agent flush).
    flush_interval_secs: float = Field(default=0.0, ge=0)


def without_text_fields(lines: list[str]) -> list[str]:
    """Drop string fields (a line left with no field is dropped). Only lines with a quote
    are parsed, so numeric-only batches cost one scan."""
    out = []
    for line in lines:
        if '"' not in line:
            out.append(line)
            continue
        m = parse(line)
        numeric = {k: v for k, v in m.fields.items() if not isinstance(v, str)}
        if numeric:
            out.append(render(Metric(m.name, m.tags, numeric, m.ts_ns)))
    return out


def to_precision(lines: list[str], precision: str) -> list[str]:
    """Our queue holds nanoseconds; coarser precision makes bodies smaller."""
    div = _DIVISOR[precision]
    if div == 1:
        return lines
    out = []
    for line in lines:
        head, _, ts = line.rpartition(" ")
        out.append(f"{head} {int(ts) // div}" if ts.isdigit() else line)
    return out


class InfluxExporter:
    accepts = frozenset({BatchKind.METRICS})

    def __init__(self, cfg: InfluxConfig) -> None:
        self.cfg = cfg
        self.flush_interval_secs = cfg.flush_interval_secs
        self._writer: LineWriter | None = None

    async def start(self) -> None:
        if self._writer is not None:
            return
        c = self.cfg
        self._writer = LineWriter(WriterOptions(
            url=c.url, token=c.token.get_secret_value() if c.token else "", org=c.org,
            bucket=c.bucket, timeout_s=c.timeout_secs, gzip_level=c.gzip_level if c.gzip else 0,
            verify_ssl=c.verify_tls, ca_file=c.ca_file, precision=c.precision))

    async def write(self, batch: Batch) -> None:
        if self._writer is None:
            await self.start()
        originals = list(batch.lines)
        if not self.cfg.text_fields:
            originals = without_text_fields(originals)
            if not originals:
                return
        lines = to_precision(originals, self.cfg.precision)
        await asyncio.to_thread(self._deliver, lines, originals)

    def _post(self, lines: list[str]) -> None:
        assert self._writer is not None
        self._writer.write("\n".join(lines).encode())

    def _deliver(self, lines: list[str], originals: list[str]) -> None:
        """Send `lines`; on refusal isolate the refused ones. Raises typed export errors.

        `originals` are the queued (nanosecond) lines: what is set aside or kept must be what
        the queue holds, whatever precision goes on the wire.
        """
        try:
            self._post(lines)
            return
        except RefusedWrite as exc:
            if exc.partial or len(lines) == 1:
                self._raise_partial(exc, originals)
            first = exc
        accepted = 0
        rejected: list[str] = []
        reasons: list[str] = [str(first)]
        # chunks as (start, end) ranges over the batch, in order; the first failed whole
        pending = deque(_halves(0, len(lines)))
        while pending:
            lo, hi = pending.popleft()
            try:
                self._post(lines[lo:hi])
                accepted += hi - lo
            except RefusedWrite as exc:
                if exc.partial:
                    named = [lo + n - 1 for n in exc.line_numbers if 0 < n <= hi - lo]
                    rejected.extend(originals[i] for i in named)
                    accepted += hi - lo - (len(named) or exc.dropped or 0)
                    reasons.append(str(exc))
                elif hi - lo == 1:
                    rejected.append(originals[lo])
                    reasons.append(str(exc))
                else:
                    pending.extendleft(reversed(_halves(lo, hi)))
            except RetryableExportError as exc:
                unsent = [originals[i] for a, b in [(lo, hi), *pending] for i in range(a, b)]
                raise LinesExportError(
                    f"{len(rejected)} lines refused ({reasons[-1]}); then {exc}",
                    accepted=accepted, rejected_lines=rejected, unsent_lines=unsent,
                    retry_after_s=exc.retry_after_s) from None
        raise LinesExportError(f"{len(rejected)} of {len(lines)} lines refused: {reasons[-1]}",
                               accepted=accepted, rejected_lines=rejected)

    @staticmethod
    def _raise_partial(exc: RefusedWrite, originals: list[str]) -> NoReturn:
        n = len(originals)
        if not exc.partial:  # a single line, refused
            raise LinesExportError(str(exc), accepted=0, rejected_lines=originals) from None
        named = [originals[i - 1] for i in exc.line_numbers if 0 < i <= n]
        unnamed = 0 if named else (exc.dropped or 0)
        err = LinesExportError(str(exc), accepted=n - len(named) - unnamed,
                               rejected_lines=named)
        err.rejected += unnamed  # refused but not identified: counted, nothing to set aside
        raise err from None

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _halves(lo: int, hi: int) -> list[tuple[int, int]]:
    mid = (lo + hi) // 2
    return [(lo, mid), (mid, hi)]


def build(cfg: InfluxConfig, ctx: BuildContext) -> InfluxExporter:
    return InfluxExporter(cfg)


SPEC = PluginSpec(
    name="influxdb", kind=PluginKind.PUSH_EXPORTER, config_model=InfluxConfig, build=build,
    description="Influx line protocol to VictoriaMetrics or InfluxDB, behind a disk queue",
    example={"type": "influxdb", "url": "http://127.0.0.1:8428"},
    capabilities=Capability.OWN_FLUSH,
)
