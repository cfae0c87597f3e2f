"""The measurements the framework itself writes (catalogue owner `framework`): poll outcomes,
per-instance telemetry, disk queues, events in the local store (`agent_rejected` is declared
beside its counter, agent/framework/rejects.py). A prober's `probe_*` rows are declared by the
plugin with `agent.core.catalogue.probe_measurement` (the framework's `success`,
`duration_seconds` and `error_type` included); `catalogue_of` joins them all."""

from __future__ import annotations

from collections.abc import Iterable

from agent.core.catalogue import (
    Catalogue,
    FieldKind,
    FieldSpec,
    Measurement,
    counter,
    gauge,
    state,
    tag,
)
from agent.core.plugin import PluginSpec
from agent.framework.rejects import REJECTED
from agent.framework.supervise import LOOPS

FRAMEWORK = "framework"
_INSTANCE = (tag("plugin", "plugin type"), tag("instance", "plugin instance, type/name"))

MEASUREMENTS: tuple[Measurement, ...] = (
    Measurement(
        "agent_poll", "one per target per tick of a poller (like Prometheus' up and "
        "scrape_duration_seconds); the target's place tags",
        tags=(tag("error_type", "bounded failure cause, only when the poll failed"),),
        fields=(state("up", "1 the poll succeeded, 0 it failed"),
                gauge("duration_seconds", "seconds", "the poll of this target"))),
    Measurement(
        "agent_plugin", "per plugin instance, every self_metrics_interval_secs",
        tags=_INSTANCE,
        fields=(counter("received_total", "", "items received (outputs: queued)"),
                counter("sent_total", "", "items sent (outputs)"),
                counter("dropped_total", "", "items dropped"),
                counter("polls_total", "", "polls of a target"),
                counter("overruns_total", "", "ticks skipped: the previous poll still ran"),
                counter("errors_total", "", "errors of every type"),
                counter("poll_seconds_total", "seconds", "time spent polling"),
                gauge("last_poll_seconds", "seconds", "the last poll's duration"))),
    Measurement(
        "agent_plugin_errors", "errors per plugin instance and bounded error type",
        tags=(*_INSTANCE, tag("error_type", "timeout, unreachable, refused, auth, dns, tls, "
                              "protocol, parse, permission, overrun, internal")),
        fields=(counter("count_total", "", "errors of this type"),)),
    Measurement(
        "agent_queue", "the disk queue of a push output",
        tags=(tag("instance", "output instance, type/name"),),
        fields=(gauge("depth_items", "", "items waiting"),
                gauge("depth_bytes", "bytes", "bytes waiting"),
                gauge("oldest_age_seconds", "seconds", "age of the oldest item waiting"),
                counter("dropped_total", "", "oldest dropped at the disk quota, or refused by "
                        "a full disk"),
                counter("rejected_total", "", "refused by the server for good, set aside"),
                gauge("catch_up_seconds", "seconds", "estimated time until the backlog is "
                      "delivered, at the net drain rate of the last minute; absent while the "
                      "queue grows (centre down, or data arriving faster than it leaves)"))),
    Measurement(
        "event", "events as rows of the local store only (campusmon query -m event); the "
        "event's labels are tags",
        tags=(tag("key", "same key = same condition"), tag("event_kind", "the event's kind"),
              tag("state", "raised / resolved / observed"),
              tag("severity", "info / warning / critical")),
        fields=(FieldSpec("summary", FieldKind.EVENT, "", "one line for people"),),
        open_tags=True),
    REJECTED,  # items set aside as unusable (agent/framework/rejects.py)
    LOOPS,  # restarts and watchdog stalls of the agent's loops (agent/framework/supervise.py)
)


def catalogue_of(specs: Iterable[PluginSpec],
                 framework: Iterable[Measurement] = ()) -> Catalogue:
    """The framework's measurements and every plugin's: raises `CatalogueError` when two
    owners declare one field with different kinds or units."""
    return Catalogue.of([(FRAMEWORK, (*MEASUREMENTS, *framework)),
                         *((s.name, s.measurements) for s in specs)])
