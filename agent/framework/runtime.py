"""The agent: builds plugins from a loaded config and runs them until told to stop.

SIGTERM/SIGINT: stop polling, flush the pipeline, drain outputs within the deadline, exit 0.
SIGHUP: reload config and inventory; on a bad config keep running the old one. Queued data
survives a reload: disk queues are files keyed by output instance, reopened by the new build.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

from agent.core.errors import ConfigError, StartupError
from agent.core.model import Event, Item, Metric
from agent.core.plugin import (
    BatchingExporter,
    BuildContext,
    Capability,
    Closable,
    DefaultTargets,
    InstanceMeasurements,
    PluginKind,
    PushExporter,
    Registry,
    Target,
)
from agent.framework.clock import default_clock, wall_ns
from agent.framework.contract import DeclarationCheck
from agent.framework.corrupt import DataFiles, secure_dir
from agent.framework.diskqueue import DiskQueue
from agent.framework.heap import settle_heap
from agent.framework.localstore import LocalStore
from agent.framework.measurements import FRAMEWORK, catalogue_of
from agent.framework.measurements import MEASUREMENTS as FRAMEWORK_MEASUREMENTS
from agent.framework.outputs import PushOutput
from agent.framework.pipeline import NamedProcessor, Pipeline, QueueSink, event_as_metric
from agent.framework.rejects import Rejections
from agent.framework.scheduler import ListenerRunner, PollerRunner, PollerTiming, PollOutcome
from agent.framework.snapshot import Snapshot
from agent.framework.supervise import Supervisor
from agent.framework.targets import select_targets
from agent.framework.telemetry import Telemetry
from agent.framework.triggers import Triggers
from config.loader import LoadedConfig, PluginInstance, load_config

log = logging.getLogger("campusmon.agent")


def self_target() -> Target:
    return Target(id=socket.gethostname(), hostname="localhost")


def targets_for(inst: PluginInstance, cfg: LoadedConfig) -> list[Target]:
    if inst.options.targets is None and inst.spec.default_targets == DefaultTargets.SELF:
        return [self_target()]
    return select_targets(inst.options.targets, cfg.inventory, inst.spec)


@dataclass
class Built:
    """Everything one config builds; replaced whole on reload."""

    cfg: LoadedConfig
    pipeline: Pipeline
    pollers: list[PollerRunner] = field(default_factory=list)
    listeners: list[ListenerRunner] = field(default_factory=list)
    outputs: list[PushOutput] = field(default_factory=list)
    closables: list[Closable] = field(default_factory=list)  # plugins, queues, the store
    local_store: LocalStore | None = None
    exporters: list[Closable] = field(default_factory=list)  # outputs (also in closables)


class Agent:
    def __init__(self, cfg: LoadedConfig, registry: Registry,
                 *, print_lines: Callable[[list[Metric]], None] | None = None,
                 settle_heap: bool = False) -> None:
        self.cfg = cfg
        # the agent's own process (`campusmon run`): freeze what start-up left alive (heap.py);
        # not in a host process such as a test run, whose heap is not the agent's
        self._settle_heap = settle_heap
        self.registry = registry
        self.telemetry = Telemetry()
        self.files = DataFiles()  # data files set aside as damaged, reported as events
        self._loop_causes: set[str] = set()
        self.rejections = Rejections()
        self.supervisor: Supervisor | None = None
        # every declared measurement: refuses two plugins declaring one field differently
        self.catalogue = catalogue_of(registry.all())
        self.snapshot = Snapshot(ttl_secs=max(3 * cfg.agent.interval_secs, 300.0),
                                 on_drop=self.rejections.for_instance("agent", "snapshot"))
        # after a backward clock step every new point looks older than the last: not stale
        default_clock().on_step(self._clock_stepped)
        self.print_lines = print_lines
        self._stop = asyncio.Event()
        self._reload = asyncio.Event()
        self.built: Built | None = None

    # ---------------------------------------------------------------- building
    def _context(self, inst: PluginInstance, cfg: LoadedConfig) -> BuildContext:
        return BuildContext(
            instance=inst.instance_id, inventory=cfg.inventory, credentials=cfg.credentials,
            data_dir=cfg.data_dir, config_dir=cfg.config_dir, snapshot=self.snapshot,
            logger=logging.getLogger(f"campusmon.{inst.instance_id}"),
            timeout_s=inst.options.timeout_secs or cfg.agent.timeout_secs,
            reject=self.rejections.for_instance(inst.spec.name, inst.instance_id),
            catalogue=self.catalogue)

    async def build(self, cfg: LoadedConfig, *, for_once: bool = False) -> Built:
        a = cfg.agent
        secure_dir(cfg.data_dir)  # 0700: queues and store hold student device MACs and IPs
        # the snapshot keeps only what is read: the agent's own measurements (tools read the
        # agent's state there), all of them under a pull exporter, and what plugins `want`
        self.snapshot.begin_wants([m.name for m in FRAMEWORK_MEASUREMENTS])
        if any(o.options.enabled and o.spec.kind is PluginKind.PULL_EXPORTER
               for o in cfg.outputs):
            self.snapshot.want(None)
        queues: list[QueueSink] = []
        outputs: list[PushOutput] = []
        closables: list[Closable] = []
        exporters: list[Closable] = []
        push_insts = [o for o in cfg.outputs
                      if o.options.enabled and o.spec.kind is PluginKind.PUSH_EXPORTER]
        for inst in cfg.outputs:
            if not inst.options.enabled:
                continue
            plugin = inst.spec.build(inst.config, self._context(inst, cfg))
            closables.append(plugin)
            exporters.append(plugin)
            if inst.spec.kind is PluginKind.PUSH_EXPORTER and not for_once:
                assert isinstance(plugin, PushExporter)
                qpath = cfg.data_dir / "queue" / f"{inst.spec.name}_{inst.name}.db"
                dq = await asyncio.to_thread(
                    self.files.open, qpath,
                    lambda p, mb=inst.options.queue.max_megabytes: DiskQueue(p, int(mb * 2**20)),
                    f"disk queue {inst.instance_id}")
                st = self.telemetry.for_instance(inst.spec.name, inst.instance_id)
                sink = QueueSink(inst.instance_id, dq, plugin.accepts, st)
                queues.append(sink)
                decode, in_order, flush_s = self._output_capabilities(inst, plugin)
                outputs.append(PushOutput(sink, plugin, inst.options.queue, decode,
                                          in_order=in_order, flush_interval_s=flush_s))
                closables.append(dq)
        store: LocalStore | None = None
        use_store = a.local_store.enabled if a.local_store.enabled is not None else not push_insts
        if use_store and not for_once:
            store = await asyncio.to_thread(
                self.files.open, cfg.data_dir / "store.db", lambda p: LocalStore(
                p, a.local_store.retention_hours, int(a.local_store.max_megabytes * 2**20),
                history_days=a.local_store.history_days,
                rollup_secs=a.local_store.rollup_minutes * 60,
                rollup_days=a.local_store.rollup_days,
                hourly_after_days=a.local_store.hourly_after_days), "local store")
            closables.append(store)
        processors = []
        for inst in cfg.processors:
            if inst.options.enabled:
                proc = inst.spec.build(inst.config, self._context(inst, cfg))
                closables.append(proc)
                processors.append(NamedProcessor(
                    inst.instance_id, proc,
                    self.telemetry.for_instance(inst.spec.name, inst.instance_id),
                    DeclarationCheck(inst.spec.name, inst.spec.measurements)))
        checks = self._checks(cfg)
        pipeline = Pipeline(
            base_tags={"campus": cfg.inventory.campus.code}, processors=processors,
            queues=queues, local_store=store, snapshot=self.snapshot,
            on_flush=self._print_flush if self.print_lines else None,
            rejections=self.rejections, checks=checks)
        built = Built(cfg, pipeline, outputs=outputs, closables=closables, local_store=store,
                      exporters=exporters)
        global_limit = asyncio.Semaphore(a.max_concurrency)
        jitter = a.jitter_secs if a.jitter_secs is not None else min(a.interval_secs / 10, 5.0)
        triggers = Triggers()  # events that make a poller poll one target soon
        for inst in cfg.inputs:
            if not inst.options.enabled:
                continue
            plugin = inst.spec.build(inst.config, self._context(inst, cfg))
            closables.append(plugin)
            if Capability.INSTANCE_MEASUREMENTS in inst.spec.capabilities:
                own = cast(InstanceMeasurements, plugin).measurements()
                checks[inst.spec.name].declared.update({m.name: m for m in own})
            st = self.telemetry.for_instance(inst.spec.name, inst.instance_id)
            targets = targets_for(inst, cfg)
            poll_sink = self._sink_for(pipeline, inst, triggers)
            if inst.spec.kind is PluginKind.POLLER:
                timing = PollerTiming(
                    interval_s=inst.options.interval_secs or a.interval_secs,
                    timeout_s=inst.options.timeout_secs or a.timeout_secs,
                    jitter_s=jitter, backoff_after=a.backoff_after_failures,
                    max_backoff_ticks=a.max_backoff_ticks)
                concurrency = (inst.options.max_concurrency
                               or inst.spec.default_max_concurrency or a.max_concurrency)
                limit = asyncio.Semaphore(concurrency)
                built.pollers.append(PollerRunner(
                    inst.instance_id, plugin, targets, timing, limit, global_limit, poll_sink,
                    st, batched=Capability.BATCH_POLLS in inst.spec.capabilities,
                    batch_size=concurrency))
                triggers.add(inst.spec, plugin, built.pollers[-1])
            else:
                built.listeners.append(
                    ListenerRunner(inst.instance_id, plugin, targets, poll_sink, st))
        self.snapshot.end_wants()
        return built

    @staticmethod
    def _output_capabilities(inst: PluginInstance,
                             plugin: PushExporter) -> tuple[bool, bool, float]:
        """(decode, in_order, flush_interval_s) as the output's spec declares them."""
        caps = inst.spec.capabilities
        flush = 0.0
        if Capability.OWN_FLUSH in caps:
            if not isinstance(plugin, BatchingExporter):
                raise StartupError(f"{inst.instance_id}: declares OWN_FLUSH without "
                                   "flush_interval_secs", retry=False)
            flush = float(plugin.flush_interval_secs)
        return (Capability.DECODED_BATCHES in caps, Capability.IN_ORDER in caps, flush)

    @staticmethod
    def _checks(cfg: LoadedConfig) -> dict[str, DeclarationCheck]:
        """What each input may write (its spec's declarations); "agent": the framework's."""
        checks = {"agent": DeclarationCheck(FRAMEWORK, FRAMEWORK_MEASUREMENTS)}
        for inst in cfg.inputs:
            checks[inst.spec.name] = DeclarationCheck(inst.spec.name, inst.spec.measurements)
        return checks

    def _print_flush(self, metrics: list[Metric], events: list[Event]) -> None:
        if self.print_lines is not None:
            self.print_lines([*metrics, *(event_as_metric(e) for e in events)])

    @staticmethod
    def _sink_for(pipeline: Pipeline, inst: PluginInstance,
                  triggers: Triggers | None = None) -> Callable[
            [Sequence[Item], Target | None, PollOutcome | None], None]:
        tags = inst.options.tags
        source = (inst.spec.name, inst.instance_id)

        def sink(items: Sequence[Item], target: Target | None,
                 outcome: PollOutcome | None) -> None:
            if triggers is not None:
                triggers.observe(items)
            pipeline.submit(items, target, outcome, tags, source)
        return sink

    async def _start_plugins(self, built: Built, *, exporters: bool = True) -> None:
        for p in built.closables:
            if not exporters and any(p is e for e in built.exporters):
                continue
            start = getattr(p, "start", None)
            if start is None:
                continue
            try:
                await start()
            except StartupError as exc:
                log.error("a plugin failed to start: %s", exc)
                if not exc.retry:
                    raise

    async def _close(self, built: Built) -> None:
        for p in reversed(built.closables):
            try:
                res = p.close()
                if asyncio.iscoroutine(res):
                    await asyncio.wait_for(res, timeout=2.0)
            except Exception:
                log.exception("closing %r failed", p)

    # ---------------------------------------------------------------- running
    def _loop_exception(self, loop: asyncio.AbstractEventLoop,
                        context: dict[str, object]) -> None:
        """An exception no task awaited (a library's datagram callback choking on a hostile
        reply): counted, logged once per cause with its traceback, never once per packet."""
        got = context.get("exception")
        exc = got if isinstance(got, BaseException) else None
        cause = type(exc).__name__ if exc is not None else str(context.get("message"))[:80]
        self.rejections.reject("agent", "event-loop", "callback_error", None,
                               f"{cause} in an event-loop callback")
        if cause in self._loop_causes:
            return
        if len(self._loop_causes) < 100:
            self._loop_causes.add(cause)
        log.error("event loop: %s (%s); logged once per cause, counted in agent_rejected",
                  str(context.get("message"))[:200], cause, exc_info=exc)

    def _clock_stepped(self, step_ns: int) -> None:
        self.snapshot.clock_epoch += 1

    def request_stop(self) -> None:
        self._stop.set()

    def request_reload(self) -> None:
        self._reload.set()

    def _self_metrics(self, built: Built) -> list[Metric]:
        now = time.time_ns()
        out = self.telemetry.metrics(now)
        out += self.rejections.metrics(now)
        if self.supervisor is not None:
            out += self.supervisor.metrics(now)
        for o in built.outputs:
            s = o.sink.queue.stats()
            # on the clock the rows were stamped by (never back), and never negative
            age = max(0.0, (wall_ns() - s.oldest_ns) / 1e9) if s.oldest_ns else 0.0
            out.append(Metric("agent_queue", {"instance": o.sink.instance_id}, {
                "depth_items": s.items, "depth_bytes": s.bytes, "oldest_age_seconds": age,
                "dropped_total": s.dropped_items, "rejected_total": s.rejected_items,
                **o.catch_up.fields(s.items)}, now))
        return out

    async def _run_built(self, built: Built, stop: asyncio.Event) -> None:
        """Every loop supervised: one that fails or hangs is restarted, the others go on."""
        a = built.cfg.agent
        sup = self.supervisor = Supervisor(stop)
        for p in built.pollers:
            sup.add(p.instance_id, p.run, progress=lambda p=p: p.progress,  # type: ignore[misc]
                    period_s=p.timing.interval_s)
        for lr in built.listeners:
            sup.add(lr.instance_id, lr.run)  # blocks by design: restarts, no watchdog
        for o in built.outputs:
            # a step may wait out a retry backoff: its limit covers the longest one
            sup.add(o.sink.instance_id, o.run, progress=lambda o=o: o.progress,  # type: ignore[misc]
                    period_s=o.options.retry_max_secs + 60.0)
        # the snapshot is pruned on its own timer: without a Prometheus output nobody scrapes
        prune_every = min(max(self.snapshot.ttl_ns / 4e9, 1.0), 60.0)
        pruner = _Every(prune_every, lambda: asyncio.to_thread(self.snapshot.prune))
        sup.add("snapshot", pruner.run, progress=lambda: pruner.progress, period_s=prune_every)
        flush = _FlushLoop(self, built)
        sup.add("flush", flush.run, progress=lambda: flush.progress,
                period_s=max(a.flush_interval_secs, 10.0))
        try:
            await sup.run()
        finally:
            for p in built.pollers:
                await p.cancel_inflight()

    async def _shutdown(self, built: Built) -> None:
        deadline = time.monotonic() + built.cfg.agent.shutdown_deadline_secs
        try:
            built.pipeline.submit(self._self_metrics(built))
            await built.pipeline.flush()
        except Exception:
            log.exception("final flush failed; queued data stays on disk")
        if built.outputs:
            await asyncio.gather(*(o.drain(deadline) for o in built.outputs),
                                 return_exceptions=True)
        await self._close(built)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(self._loop_exception)
        for sig, handler in ((signal.SIGTERM, self.request_stop),
                             (signal.SIGINT, self.request_stop),
                             (signal.SIGHUP, self.request_reload)):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, handler)
        built = await self.build(self.cfg)
        self.built = built
        built.pipeline.submit(self.files.events())  # damaged files found while building
        await self._start_plugins(built)
        if self._settle_heap:
            settle_heap()
        log.info("campusmon running: %d pollers, %d listeners, %d push outputs, local store %s",
                 len(built.pollers), len(built.listeners), len(built.outputs),
                 "on" if built.local_store else "off")
        while True:
            cycle_stop = asyncio.Event()
            runner = asyncio.create_task(self._run_built(built, cycle_stop))
            stop_w = asyncio.create_task(self._stop.wait())
            reload_w = asyncio.create_task(self._reload.wait())
            try:
                await asyncio.wait({runner, stop_w, reload_w},
                                   return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                # cancelled from outside (an embedding program, a test): the cycle goes too,
                # or its loops and their connections outlive the agent
                for t in (runner, stop_w, reload_w):
                    t.cancel()
                await asyncio.gather(runner, stop_w, reload_w, return_exceptions=True)
                await self._close(built)
                raise
            cycle_stop.set()
            await runner
            stop_w.cancel()
            reload_w.cancel()
            if self._stop.is_set():
                await self._shutdown(built)
                return
            self._reload.clear()
            self.supervisor = None  # the old cycle's loops (and through them its plugins)
            built = await self._reload_built(built)
            if self._settle_heap:  # the old plugins are unreachable now: collected, not frozen
                settle_heap()

    async def _reload_built(self, old: Built) -> Built:
        try:
            cfg = await asyncio.to_thread(load_config, old.cfg.path, self.registry)
        except ConfigError as exc:
            log.error("reload refused, keeping the running config: %s", exc)
            return old
        await old.pipeline.flush()
        await self._close(old)
        if self._settle_heap:  # the old plugins may die in cycles: let collections see them
            gc.unfreeze()
        self.cfg = cfg
        new = await self.build(cfg)
        new.pipeline.submit(self.files.events())
        await self._start_plugins(new)
        self.built = new
        log.info("reloaded %s: %d devices", cfg.path, len(cfg.inventory.devices))
        return new

    async def once(self, listen_secs: float = 0.0) -> Built:
        """One cycle of every plugin; items go to `print_lines` (nothing is sent)."""
        built = await self.build(self.cfg, for_once=True)
        # nothing is sent: exporters are built (validated) but never started, so `once` never
        # binds a /metrics port or connects to a broker beside a running agent
        await self._start_plugins(built, exporters=False)
        try:
            await asyncio.gather(*(p.run_once() for p in built.pollers))
            if built.listeners and listen_secs > 0:
                stop = asyncio.Event()
                tasks = [asyncio.create_task(lr.run(stop)) for lr in built.listeners]
                await asyncio.sleep(listen_secs)
                stop.set()
                await asyncio.gather(*tasks, return_exceptions=True)
            await built.pipeline.flush()
        finally:
            await self._close(built)
        return built



class _FlushLoop:
    """Buffer → disk queues and local store every flush interval; self-metrics on their own."""

    def __init__(self, agent: Agent, built: Built) -> None:
        self.agent = agent
        self.built = built
        self.progress = time.monotonic()
        self._next_self = time.monotonic() + built.cfg.agent.self_metrics_interval_secs
        self._failed: set[str] = set()

    async def run(self, stop: asyncio.Event) -> None:
        a = self.built.cfg.agent
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=a.flush_interval_secs)
            if time.monotonic() >= self._next_self:
                self._next_self = time.monotonic() + a.self_metrics_interval_secs
                try:
                    self.built.pipeline.submit(self.agent._self_metrics(self.built))
                except Exception as exc:
                    self._log_once("self-metrics", exc)
            wall_ns()  # a backward clock step is noticed here at the latest, once a flush
            try:
                await self.built.pipeline.flush()
            except Exception as exc:  # the pipeline contains its sinks; this is the last net
                self._log_once("flush", exc)
            self.progress = time.monotonic()

    def _log_once(self, what: str, exc: Exception) -> None:
        cause = f"{what} {type(exc).__name__}"
        if cause in self._failed:
            log.debug("%s failed again", what, exc_info=exc)
            return
        self._failed.add(cause)
        log.error("%s failed; the loop goes on (logged once per cause)", what, exc_info=exc)


class _Every:
    """Run `job` every `every_s` seconds (monotonic) until stopped."""

    def __init__(self, every_s: float, job: Callable[[], Awaitable[object]]) -> None:
        self.every_s = every_s
        self.job = job
        self.progress = time.monotonic()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.every_s)
            await self.job()
            self.progress = time.monotonic()
