"""Framework options: the agent section and the keys every plugin instance shares."""

from __future__ import annotations

import enum
from pathlib import Path

from pydantic import Field, field_validator

from agent.core.plugin import PluginKind
from config.base import StrictModel
from inventory.models import DeviceKind


class LogFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


class LocalStoreOptions(StrictModel):
    """Recent points on local disk; the embedded default store when no push output exists.

    Sizing (measured, docs/performance.md "Local store"): raw points take ~2.9 bytes a value,
    ~3.8 MB per 48-port switch per day, so 24 h of a 1,000-switch campus need ~3.8 GB; the
    180 days of roll-ups the reports read (egress counters, device health, inventory facts)
    and the events/audit results add ~0.1-0.3 GB. `max_megabytes` is a bound, not a
    reservation (a 50-switch campus uses ~0.2 GB); over it the oldest raw points go first, so
    the report's half-year survives and the raw window shrinks (a warning says to what)."""

    enabled: bool | None = None  # None: on when no push exporter is configured
    retention_hours: float = Field(default=24.0, gt=0, le=24 * 90)  # raw points
    max_megabytes: float = Field(default=4096.0, gt=0)  # holds 24 h raw of 1,000 switches
    history_days: float = Field(default=180.0, gt=0, le=3660)  # events, audit results (raw)
    rollup_minutes: float = Field(default=5.0, gt=0, le=1440)  # bucket of the roll-ups
    rollup_days: float = Field(default=180.0, ge=0, le=3660)  # 0: no roll-ups
    # 5-minute roll-ups of report series (not egress counters) become hourly after this
    hourly_after_days: float = Field(default=7.0, ge=0, le=3660)


class AgentSection(StrictModel):
    inventory: Path | None = None  # relative to the config file
    data_dir: Path = Path("data")  # relative to the config file
    interval_secs: float = Field(default=60.0, gt=0)
    timeout_secs: float = Field(default=10.0, gt=0)
    jitter_secs: float | None = Field(default=None, ge=0)  # None: min(interval/10, 5)
    max_concurrency: int = Field(default=256, ge=1)  # polls in flight across all plugins
    flush_interval_secs: float = Field(default=1.0, gt=0)
    shutdown_deadline_secs: float = Field(default=4.0, gt=0)
    self_metrics_interval_secs: float = Field(default=30.0, gt=0)
    backoff_after_failures: int = Field(default=3, ge=1)
    max_backoff_ticks: int = Field(default=16, ge=1)
    log_level: str = "info"
    local_store: LocalStoreOptions = LocalStoreOptions()

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        if v.lower() not in ("debug", "info", "warning", "error"):
            raise ValueError("log_level must be debug, info, warning or error")
        return v.lower()


class AddressFamily(enum.StrEnum):
    IPV4 = "ipv4"
    IPV6 = "ipv6"
    BOTH = "both"


class StaticTarget(StrictModel):
    """A target that is not an inventory device (an upstream DNS server, a website)."""

    id: str
    ipv4: str | None = None
    ipv6: str | None = None
    hostname: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    credential: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)


class TargetSelector(StrictModel):
    """Which inventory devices (and static targets) an instance polls. Empty = all devices."""

    kinds: list[DeviceKind] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)
    devices: list[str] = Field(default_factory=list)
    buildings: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    inventory: bool = True  # False: only the static targets below
    static: list[StaticTarget] = Field(default_factory=list)


class QueueOptions(StrictModel):
    max_megabytes: float = Field(default=512.0, gt=0)
    batch_max_points: int = Field(default=5000, ge=1)
    backfill_points_per_sec: float | None = Field(default=None, gt=0)  # None: unpaced
    retry_initial_secs: float = Field(default=1.0, gt=0)
    retry_max_secs: float = Field(default=60.0, gt=0)


FRAMEWORK_KEYS = frozenset(
    {"type", "name", "enabled", "interval_secs", "timeout_secs", "max_concurrency", "targets",
     "tags", "queue"}
)
_EVERY = frozenset({"type", "name", "enabled"})

# The framework keys each plugin kind gives a meaning to: the scheduler ticks pollers
# (interval, per-target timeout, concurrency); inputs read targets and get the instance's tags;
# push outputs have a disk queue. Elsewhere a framework key is refused with its file:line (or,
# when the plugin's own model has a field of that name, e.g. an output's `timeout_secs`, it is
# the plugin's), never silently ignored.
KIND_KEYS: dict[PluginKind, frozenset[str]] = {
    PluginKind.POLLER: _EVERY | {"interval_secs", "timeout_secs", "max_concurrency", "targets",
                                 "tags"},
    PluginKind.LISTENER: _EVERY | {"targets", "tags"},
    PluginKind.PROCESSOR: _EVERY,
    PluginKind.PUSH_EXPORTER: _EVERY | {"queue"},
    PluginKind.PULL_EXPORTER: _EVERY,
}
# why a key means nothing on a kind (the refusal says so)
WHY_NOT: dict[tuple[str, PluginKind], str] = {
    ("interval_secs", PluginKind.LISTENER): "a listener runs continuously and has no ticks "
                                           "(its own *_interval_secs key, if any, sets how "
                                           "often it reports)",
    ("interval_secs", PluginKind.PROCESSOR): "a processor runs on every item; its own "
                                            "*_interval_secs key sets how often it emits",
    ("interval_secs", PluginKind.PUSH_EXPORTER): "an output sends what it is given, as it "
                                                "arrives (agent.flush_interval_secs paces it)",
    ("interval_secs", PluginKind.PULL_EXPORTER): "a pull output is scraped; the scraper sets "
                                                "the interval",
}


def why_not(key: str, kind: PluginKind) -> str:
    takers = sorted(k.value for k, keys in KIND_KEYS.items() if key in keys)
    return WHY_NOT.get((key, kind), f"only {', '.join(takers)} instances take it")


class PluginOptions(StrictModel):
    """Keys every plugin instance may carry; the rest goes to the plugin's own model."""

    type: str
    name: str | None = None
    enabled: bool = True
    interval_secs: float | None = Field(default=None, gt=0)
    timeout_secs: float | None = Field(default=None, gt=0)
    max_concurrency: int | None = Field(default=None, ge=1)
    targets: TargetSelector | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    queue: QueueOptions = QueueOptions()
