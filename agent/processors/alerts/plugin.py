"""The `alerts` processor: rules over the items in flight → deduplicated alert events.

Pure and synchronous like every processor: rule files are read at build time, never in
`process`. Time comes from an injectable clock, so for-durations, flapping and re-notify
intervals are tested without sleeping. Input items pass through unchanged; alert events
(`kind` = rule, label `alertname`) and the `alerts` metric are appended.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from agent.core.model import Event, Item, Metric
from agent.core.plugin import BuildContext, PluginKind, PluginSpec
from agent.framework.clock import wall_ns
from agent.framework.corrupt import move_aside
from agent.processors.alerts.cli import register as register_cli
from agent.processors.alerts.conditions import EvalContext, Evaluator, evaluator_for
from agent.processors.alerts.config import AlertsConfig, load_rules
from agent.processors.alerts.measurements import MEASUREMENTS
from agent.processors.alerts.mute import muted_by
from agent.processors.alerts.rules import Rule
from agent.processors.alerts.state import AlertBook, BookSettings
from agent.processors.alerts.topology import Topology

__all__ = ["SPEC", "AlertsConfig", "AlertsProcessor", "build", "load_rules"]
log = logging.getLogger("campusmon.alerts")
_SETTLE_EVERY_NS = 10**9


class AlertsProcessor:
    def __init__(self, rules: Sequence[Rule], cfg: AlertsConfig, ctx: EvalContext,
                 clock: Callable[[], int] = wall_ns, state_path: Path | None = None) -> None:
        self.rules = list(rules)
        self.state_path = state_path
        self._file_events: list[Event] = []  # a damaged state file, reported once
        self.cfg = cfg
        self.clock = clock
        self.campus = ctx.inventory.campus.code
        t = cfg.topology
        self.topology = (Topology(ctx.inventory, use_lldp=t.lldp, use_fdb=t.fdb,
                                  fact_ttl_secs=t.fact_ttl_secs) if t.enabled else None)
        if self.topology is not None:
            ctx = replace(ctx, link_port=self.topology.is_link_port)
        self.evaluators: list[tuple[Rule, Evaluator]] = [
            (r, evaluator_for(r, ctx)) for r in self.rules]
        self._event_evaluators = [ev for _, ev in self.evaluators if ev.interest.events]
        self._routes: dict[str, list[Evaluator]] = {}  # metric name → evaluators wanting it
        settings = BookSettings(
            renotify_secs=cfg.renotify_secs, flap_window_secs=cfg.flap.window_secs,
            flap_start=cfg.flap.start_transitions, flap_stop=cfg.flap.stop_transitions,
            settle_secs=t.settle_secs, release_grace_secs=t.release_grace_secs)
        silences, windows = list(cfg.silences), list(cfg.maintenance)

        def mute(labels: dict[str, str], now_ns: int) -> str | None:
            return muted_by(labels, now_ns, silences, windows)

        inhibited = frozenset(n for r in self.rules if r.inhibits for n in r.inhibits.rules)
        self.book = AlertBook(self.topology, settings,
                              mute if (silences or windows) else None, inhibited)
        self._next_metrics = 0
        self._last_settle = 0
        if state_path is not None:
            self._restore(state_path)

    def _route(self, name: str) -> list[Evaluator]:
        return [ev for _, ev in self.evaluators
                if name in ev.interest.names or name.startswith(ev.interest.prefixes)]

    def _restore(self, path: Path) -> None:
        # build time, not process(): reading a file here is like reading the rule files
        try:
            records = json.loads(path.read_text(encoding="utf-8"))
            n = self.book.restore(records, {r.name: r for r in self.rules}, self.clock(),
                                  self.cfg.restore_grace_secs)
        except FileNotFoundError:
            return
        except OSError as exc:
            log.warning("alert state %s unreadable, starting empty: %s", path, exc)
            return
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # damaged (or another version's): kept aside, never overwritten by the next save
            self._file_events.append(move_aside(path, "alert state", exc).event())
            return
        log.info("reopened %d notified alerts from %s", n, path)

    def process(self, items: Sequence[Item]) -> Sequence[Item]:
        now = self.clock()
        for it in items:
            if isinstance(it, Metric):
                if self.topology is not None:
                    self.topology.observe(it, now)
                targets = self._routes.get(it.name)
                if targets is None:
                    targets = self._routes[it.name] = self._route(it.name)
            elif isinstance(it, Event):
                if "alertname" in it.labels:
                    continue  # our own output coming round again is not input
                targets = self._event_evaluators
            else:
                continue
            for ev in targets:
                ev.observe(it, now)
        if self.topology is not None:
            self.topology.expire(now)
        changed = False
        for rule, ev in self.evaluators:
            changed = self.book.update(rule, ev.changes(now), now) or changed
        out: list[Item] = list(items)
        if self._file_events:
            out.extend(self._file_events)
            self._file_events = []
        # decisions walk every alert: on a change, else at most once a second (the pipeline
        # calls us for every target's poll, hundreds of times a second on a large campus)
        if changed or now - self._last_settle >= _SETTLE_EVERY_NS:
            self._last_settle = now
            out.extend(self.book.settle(now))
        if now >= self._next_metrics:
            out.extend(self.book.metrics(now, {"campus": self.campus}))
            self._next_metrics = now + int(self.cfg.metrics_interval_secs * 1e9)
        return out

    def close(self) -> None:
        """Save the notified alerts (shutdown or reload); idempotent."""
        if self.state_path is None:
            return
        try:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.state_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.book.snapshot(), ensure_ascii=False),
                           encoding="utf-8")
            tmp.replace(self.state_path)
        except OSError as exc:
            log.error("could not save alert state to %s: %s", self.state_path, exc)


def build(cfg: AlertsConfig, ctx: BuildContext) -> AlertsProcessor:
    rules = load_rules(cfg, ctx.config_dir)
    state = ctx.data_dir / "alerts" / f"state-{ctx.instance.replace('/', '_')}.json"
    return AlertsProcessor(rules, cfg, EvalContext(ctx.inventory, ctx.credentials),
                           state_path=state)


SPEC = PluginSpec(
    name="alerts", kind=PluginKind.PROCESSOR, config_model=AlertsConfig, build=build,
    description="alert rules → deduplicated, topology-aware alert events (raised/resolved)",
    example={"type": "alerts", "overrides": {"link_saturation": {"for_secs": 600}}},
    measurements=MEASUREMENTS,
    cli=register_cli,
)
