"""Plugin protocols, the spec each plugin folder exports, and the registry.

A plugin does only its job; the framework owns timing, tags, retries and buffering.
- `Poller`: the scheduler calls `poll(target)` once per tick per target, under a timeout.
  A `BatchPoller` (spec capability BATCH_POLLS) gets one `poll_many(targets, report)` per tick
  instead, with every due target, under one timeout.
- `Listener`: `run(ctx)` runs for the agent's life and hands items to `ctx.emit`.
- `Processor`: pure and synchronous, `process(items) -> items`; may keep state, never does I/O.
- `PushExporter`: `write(batch)` from its own disk queue; raises typed export errors.
- `PullExporter`: serves the last-value snapshot (Prometheus).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeAlias, runtime_checkable

from pydantic import BaseModel
from typing_extensions import TypeVar

from agent.core.catalogue import Catalogue, Measurement
from agent.core.model import Event, Item, Metric

if TYPE_CHECKING:
    import argparse

    from agent.framework.snapshot import Snapshot
    from config.credentials import Credential
    from inventory.models import Device, Inventory


class PluginKind(enum.StrEnum):
    POLLER = "poller"
    LISTENER = "listener"
    PROCESSOR = "processor"
    PUSH_EXPORTER = "push_exporter"
    PULL_EXPORTER = "pull_exporter"

    @property
    def section(self) -> str:
        """The config section instances of this kind are declared in."""
        if self in (PluginKind.POLLER, PluginKind.LISTENER):
            return "inputs"
        if self is PluginKind.PROCESSOR:
            return "processors"
        return "outputs"



class DefaultTargets(enum.StrEnum):
    """What an input instance polls (or listens for) when its config has no `targets:`."""

    NONE = "none"  # only the static targets its config names
    INVENTORY = "inventory"  # every inventory device (a `targets:` selector narrows it)
    SELF = "self"  # the agent's own machine


class Capability(enum.Flag):
    """Optional behaviour a plugin declares on its spec; the framework reads the spec, never
    probes the plugin object for attributes."""

    NONE = 0
    # push output: its Batch carries decoded `metrics`/`events` besides the rendered lines
    DECODED_BATCHES = enum.auto()
    # push output: it batches on a clock of its own (`BatchingExporter.flush_interval_secs`)
    OWN_FLUSH = enum.auto()
    # its config's `credential` (`HasCredential`) names a credential set the loader checks
    CREDENTIAL = enum.auto()
    # push output: its receiver needs each source's order, so its queue goes oldest first,
    # never the live tail before the backlog (a log relay)
    IN_ORDER = enum.auto()
    # poller: some events make it poll one target soon (`TriggeredPoller`)
    TRIGGERED_POLLS = enum.auto()
    # poller: one `poll_many` call per tick with all its due targets (`BatchPoller`)
    BATCH_POLLS = enum.auto()
    # input: an instance writes measurements beyond the spec's, declared by the user (SNMP
    # profiles in YAML); `InstanceMeasurements.measurements()` lists them once built
    INSTANCE_MEASUREMENTS = enum.auto()


@dataclass(frozen=True, slots=True)
class Target:
    """One thing a poller polls: an inventory device, or a static target from config."""

    id: str
    device: Device | None = None
    ipv4: str | None = None
    ipv6: str | None = None
    hostname: str | None = None
    port: int | None = None
    credential: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return self.ipv4 or self.ipv6 or self.hostname or self.id

    def tags(self) -> dict[str, str]:
        tags = self.device.tags() if self.device is not None else {"target": self.id}
        tags.update(self.labels)
        return tags


class Poller(Protocol):
    async def start(self) -> None: ...
    async def poll(self, target: Target) -> Sequence[Item]: ...
    async def close(self) -> None: ...


class TriggeredPoller(Poller, Protocol):
    """A poller (spec capability TRIGGERED_POLLS) that some events make poll one of its
    targets soon: a device's "configuration saved" syslog → back that configuration up now, not
    at the next tick. The framework calls `triggered_by` on the event loop for every event a
    plugin emits; it answers the target id to poll, or None, cheaply. The poll runs
    `trigger_debounce_s` after the last such event (a burst of saves gives one poll)."""

    trigger_debounce_s: float

    def triggered_by(self, event: Event) -> str | None: ...


# what a batch poller hands back for targets[index]: its items, or the exception a `poll` of
# that target would have raised (CollectError, PartialCollect, anything else = a plugin bug)
BatchReport: TypeAlias = Callable[[int, "Sequence[Item] | BaseException"], None]


class BatchPoller(Poller, Protocol):
    """A poller (spec capability BATCH_POLLS) whose targets share work, e.g. one ICMP burst
    for all of them: the scheduler calls `poll_many` once per tick with every due target
    instead of one `poll` per target (and its task, timeout and semaphores). The plugin calls
    `report(index, items_or_exception)` once per target as soon as that target is done; the
    framework still owns the timeout (a target not reported by then is a timeout), tags,
    backoff and counting. `poll(target)` still serves single polls (`poll_soon`, tools)."""

    async def poll_many(self, targets: Sequence[Target], report: BatchReport) -> None: ...


class InstanceMeasurements(Protocol):
    """A plugin (spec capability INSTANCE_MEASUREMENTS) whose instance declares more
    measurements than its spec: what its user-supplied definitions write."""

    def measurements(self) -> Sequence[Measurement]: ...


class Emit(Protocol):
    def __call__(self, items: Sequence[Item], target: Target | None = None) -> None: ...


@dataclass(slots=True)
class ListenerContext:
    emit: Emit
    targets: Sequence[Target]
    count_error: Callable[[str], None]  # count an error type for this instance


class Listener(Protocol):
    async def run(self, ctx: ListenerContext) -> None: ...
    async def close(self) -> None: ...


class Processor(Protocol):
    def process(self, items: Sequence[Item]) -> Sequence[Item]: ...


class BatchKind(enum.StrEnum):
    METRICS = "metrics"  # payload: Influx line protocol, one point per line
    EVENTS = "events"  # payload: JSON lines of Event.to_json_dict()


@dataclass(frozen=True, slots=True)
class Batch:
    """What a push exporter receives from its disk queue."""

    kind: BatchKind
    lines: Sequence[str]
    metrics: Sequence[Metric] = ()
    events: Sequence[Event] = ()


@runtime_checkable
class PushExporter(Protocol):
    accepts: frozenset[BatchKind]

    async def start(self) -> None: ...
    async def write(self, batch: Batch) -> None: ...
    async def close(self) -> None: ...


class PullExporter(Protocol):
    async def start(self) -> None: ...
    async def close(self) -> None: ...


@runtime_checkable
class BatchingExporter(PushExporter, Protocol):
    """A push output declaring `Capability.OWN_FLUSH`: it sends at most every this often."""

    flush_interval_secs: float


class HasCredential(Protocol):
    """The config model of a plugin declaring `Capability.CREDENTIAL`."""

    @property
    def credential(self) -> str | None: ...


class Closable(Protocol):
    """Every built plugin: `close()` is idempotent and safe without `start()`."""

    def close(self) -> Any: ...  # a coroutine for most plugins, None for processors


# Build functions by kind: what `PluginSpec.build` returns for each `PluginKind`.
BuildPoller: TypeAlias = Callable[[Any, "BuildContext"], Poller]
BuildListener: TypeAlias = Callable[[Any, "BuildContext"], Listener]
BuildProcessor: TypeAlias = Callable[[Any, "BuildContext"], Processor]
BuildPushExporter: TypeAlias = Callable[[Any, "BuildContext"], PushExporter]
BuildPullExporter: TypeAlias = Callable[[Any, "BuildContext"], PullExporter]


def ignore_reject(reason: str, device: str | None, detail: str) -> None:
    """Outside the agent (tests, `once` tools) nobody counts what a plugin sets aside."""


@dataclass(frozen=True, slots=True)
class BuildContext:
    """Everything a plugin's build function may use; no hidden globals."""

    instance: str  # "type/name"
    inventory: Inventory
    credentials: Mapping[str, Credential]
    data_dir: Path
    config_dir: Path
    snapshot: Snapshot | None = None
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("campusmon"))
    # the instance's per-target poll timeout (pollers whose library keeps its own timeouts,
    # e.g. netmiko, derive them from it); None outside the agent
    timeout_s: float | None = None
    # every declared measurement (types and units for exporters); None outside the agent
    catalogue: Catalogue | None = None
    # set aside one unusable item found at the edge (reason, device, detail): counted in
    # agent_rejected{plugin,instance,reason} and logged once per cause and device
    reject: Callable[[str, str | None, str], None] = ignore_reject


# A plugin's own subcommands (`campusmon identify`, `campusmon report` …): called with the
# command line's subparsers and what the application lends its plugins (`CliContext`), so a
# plugin never imports agent/app.
CliHook = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]", "CliContext"], None]


# defaults: a bare `PluginSpec` is any plugin's spec
C = TypeVar("C", bound=BaseModel, default=Any)
P = TypeVar("P", covariant=True, default=Any)


@dataclass(frozen=True, slots=True)
class PluginSpec(Generic[C, P]):
    """What a plugin folder exports as `SPEC`: `build` takes the plugin's own config model
    (`C`) and returns the plugin (`P`: a `Poller`, `Listener`, `Processor`, `PushExporter` or
    `PullExporter` as `kind` says; `PollerSpec` … name the pairs)."""

    name: str
    kind: PluginKind
    config_model: type[C]
    build: Callable[[C, BuildContext], P]
    description: str
    example: Mapping[str, Any] = field(default_factory=dict)  # a valid instance config
    default_targets: DefaultTargets = DefaultTargets.NONE
    capabilities: Capability = Capability.NONE
    # every measurement this plugin writes (agent/core/catalogue.py); the framework checks it
    measurements: tuple[Measurement, ...] = ()
    cli: CliHook | None = None  # subcommands this plugin adds to `campusmon`
    # a poller's polls in flight when its instance sets no `max_concurrency` (None: the agent's
    # global `max_concurrency`). A tick's peak memory follows the polls alive together, so a
    # poller with big answers (SNMP walks) bounds them here; the global limit still applies
    # (for a BATCH_POLLS poller each limit counts chunks, not targets: see scheduler.py).
    default_max_concurrency: int | None = None



# a spec by kind, for code that holds one of a known kind
PollerSpec: TypeAlias = PluginSpec[Any, Poller]
ListenerSpec: TypeAlias = PluginSpec[Any, Listener]
ProcessorSpec: TypeAlias = PluginSpec[Any, Processor]
PushExporterSpec: TypeAlias = PluginSpec[Any, PushExporter]
PullExporterSpec: TypeAlias = PluginSpec[Any, PullExporter]
AnySpec: TypeAlias = PluginSpec[Any, Any]


class Registry:
    """Plugin specs by (section, name). Instance state only: registries never share specs."""

    def __init__(self, specs: Sequence[PluginSpec] = ()) -> None:
        self._specs: dict[tuple[str, str], PluginSpec] = {}
        for spec in specs:
            self.register(spec)

    def register(self, spec: PluginSpec) -> None:
        key = (spec.kind.section, spec.name)
        if Capability.CREDENTIAL in spec.capabilities \
                and "credential" not in spec.config_model.model_fields:
            raise ValueError(f"plugin '{spec.name}' declares CREDENTIAL without a "
                             "'credential' config key")
        if key in self._specs:
            raise ValueError(f"plugin '{spec.name}' is already registered in {key[0]}")
        self._specs[key] = spec

    def get(self, section: str, name: str) -> PluginSpec | None:
        return self._specs.get((section, name))

    def names(self, section: str) -> list[str]:
        return sorted(n for s, n in self._specs if s == section)

    def all(self) -> list[PluginSpec]:
        return sorted(self._specs.values(), key=lambda s: (s.kind.section, s.name))


@dataclass(frozen=True, slots=True)
class CliContext:
    """What a plugin's subcommands get from the application."""

    registry: Registry  # the built-in plugins: what a command loads an agent config with
