"""Self-telemetry per plugin instance: received / sent / dropped, errors by type, durations."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from agent.core.model import ErrorType, Metric, MetricKind


@dataclass(slots=True)
class PluginStats:
    plugin: str
    instance: str
    received: int = 0  # items a plugin produced (inputs) or was handed (outputs)
    sent: int = 0  # items delivered and acknowledged (outputs)
    dropped: int = 0
    polls: int = 0
    overruns: int = 0
    poll_seconds_total: float = 0.0
    last_poll_seconds: float = 0.0
    errors: Counter[str] = field(default_factory=Counter)

    def count_error(self, error_type: ErrorType | str) -> None:
        self.errors[ErrorType(error_type).value] += 1


class Telemetry:
    def __init__(self) -> None:
        self._stats: dict[str, PluginStats] = {}

    def for_instance(self, plugin: str, instance: str) -> PluginStats:
        st = self._stats.get(instance)
        if st is None:
            st = self._stats[instance] = PluginStats(plugin, instance)
        return st

    def get(self, instance: str) -> PluginStats | None:
        return self._stats.get(instance)

    def all(self) -> list[PluginStats]:
        return list(self._stats.values())

    def metrics(self, ts_ns: int) -> list[Metric]:
        out = []
        for st in self._stats.values():
            tags = {"plugin": st.plugin, "instance": st.instance}
            out.append(Metric("agent_plugin", tags, {
                "received_total": st.received, "sent_total": st.sent,
                "dropped_total": st.dropped, "polls_total": st.polls,
                "overruns_total": st.overruns, "errors_total": sum(st.errors.values()),
                "poll_seconds_total": st.poll_seconds_total,
                "last_poll_seconds": st.last_poll_seconds,
            }, ts_ns, MetricKind.COUNTER))
            for etype, n in sorted(st.errors.items()):
                out.append(Metric("agent_plugin_errors", {**tags, "error_type": etype},
                                  {"count_total": n}, ts_ns, MetricKind.COUNTER))
        return out
