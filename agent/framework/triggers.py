"""Events that make a poller poll one of its targets soon.

A plugin whose spec declares `Capability.TRIGGERED_POLLS` is a `TriggeredPoller`: every event
any plugin emits is shown to it (`triggered_by`, on the event loop, before the pipeline), and a
target id it answers is polled by its own `PollerRunner` outside the ticks, debounced
(`PollerRunner.poll_soon`). The first user: a "configuration saved" syslog or trap
(`device_config_saved`) makes `config_backup` fetch that device's configuration now.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, cast

from agent.core.model import Event, Item
from agent.core.plugin import Capability, PluginSpec, TriggeredPoller
from agent.framework.scheduler import PollerRunner

log = logging.getLogger("campusmon.triggers")


class Triggers:
    def __init__(self) -> None:
        self._routes: list[tuple[TriggeredPoller, PollerRunner]] = []

    def add(self, spec: PluginSpec[Any, Any], plugin: object, runner: PollerRunner) -> None:
        """Route events to `plugin` when its spec says it takes triggers."""
        if Capability.TRIGGERED_POLLS in spec.capabilities:
            self._routes.append((cast(TriggeredPoller, plugin), runner))

    def observe(self, items: Sequence[Item]) -> None:
        if not self._routes:
            return
        for it in items:
            if not isinstance(it, Event):
                continue
            for poller, runner in self._routes:
                try:
                    target_id = poller.triggered_by(it)
                except Exception:  # a plugin bug must not stop the events flowing
                    log.exception("%s: triggered_by failed", runner.instance_id)
                    continue
                if target_id is not None and not runner.poll_soon(
                        target_id, poller.trigger_debounce_s):
                    log.debug("%s: %s is not one of its targets", runner.instance_id,
                              target_id)
