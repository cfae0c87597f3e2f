"""The `snmp` poller: switches, routers, wireless controllers, cameras… any inventory device.

Instances select devices with `targets:`. The credential is the device's inventory `credential`
or this instance's `credential:` default (the name of a credential set). One session per device
lives across ticks, so the learned GETBULK size and the counter baselines persist.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from agent.core.catalogue import Measurement
from agent.core.errors import CollectError, ConfigError, PartialCollect
from agent.core.model import ErrorType, Item
from agent.core.plugin import (
    BuildContext,
    Capability,
    DefaultTargets,
    PluginKind,
    PluginSpec,
    Target,
)
from collectors.snmp.bounds import BoundedSession
from collectors.snmp.cli import register as register_cli
from collectors.snmp.collect import DevicePoller, ProfileMemory, WalkFailure
from collectors.snmp.measurements import MEASUREMENTS
from collectors.snmp.metrics import Clock, to_metrics
from collectors.snmp.profiles.load import ProfileSet, builtin_profiles, load_profiles
from collectors.snmp.rates import RateTracker
from collectors.snmp.records import Profile
from collectors.snmp.servers import read_server, verdict_metrics
from collectors.snmp.session import SnmpSession
from collectors.snmp.transport import (
    AesKeyExtension,
    SnmpCredential,
    TransportKind,
    TransportOptions,
    open_session,
)
from config.base import StrictModel
from config.credentials import SnmpV2cCredential, SnmpV3Credential
from inventory.models import Inventory

# Devices polled at once when the instance sets no `max_concurrency`. A tick's RSS follows
# the polls alive together (each holds its walks and metrics until handed on; pymalloc keeps
# the arenas afterwards), so all of a campus at once costs ~0.2 MiB per switch for good;
# 48 in flight finish 1,000 switches inside a 60 s tick unless a poll takes > 2.8 s of wall
# time (48 / 2.8 s x 60 s ≈ 1,000), and on one core polling is CPU-bound well before that.
DEFAULT_MAX_CONCURRENCY = 48

DEFAULT_PROFILES = [Profile.SYSTEM, Profile.INTERFACES, Profile.IP, Profile.IPV6,
                    Profile.ENTITY, Profile.LLDP, Profile.WLAN, Profile.HEALTH]


class DeviceOverrides(StrictModel):
    """Per-device transport settings (a weak agent, a device across a slow WAN link)."""

    request_timeout_secs: float | None = Field(default=None, gt=0, le=60)
    retries: int | None = Field(default=None, ge=0, le=5)
    max_repetitions: int | None = Field(default=None, ge=1, le=200)
    max_inflight_per_device: int | None = Field(default=None, ge=1, le=16)
    transport: TransportKind | None = None


class SnmpConfig(StrictModel):
    credential: str | None = None  # default credential set for devices that name none
    port: int = Field(default=161, ge=1, le=65535)
    profiles: list[Profile] = Field(default_factory=lambda: list(DEFAULT_PROFILES))
    # which YAML profiles (health, user ones) the `health` entry of `profiles` reads: "auto" =
    # every profile whose `match` holds for the device; a list = exactly these; [] = none
    device_profiles: Literal["auto"] | list[str] = "auto"
    # a directory of user profiles (relative to the config file), added to the built-in ones
    profiles_dir: str | None = None
    transport: TransportKind = TransportKind.AUTO
    request_timeout_secs: float = Field(default=2.0, gt=0, le=60)
    retries: int = Field(default=1, ge=0, le=5)
    max_repetitions: int = Field(default=25, ge=1, le=200)
    min_repetitions: int = Field(default=1, ge=1, le=200)
    max_inflight_per_device: int = Field(default=1, ge=1, le=16)
    max_inflight_global: int = Field(default=256, ge=1)
    prefer_ipv6: bool = False  # poll a dual-stack device over its IPv6 address
    aes_key_extension: AesKeyExtension = AesKeyExtension.REEDER  # AES-192/256 only
    devices: dict[str, DeviceOverrides] = Field(default_factory=dict)  # by target id

    def transport_options(self, device_id: str | None = None) -> TransportOptions:
        o = self.devices.get(device_id or "", DeviceOverrides())
        max_reps = o.max_repetitions or self.max_repetitions
        return TransportOptions(
            timeout_s=o.request_timeout_secs or self.request_timeout_secs,
            retries=self.retries if o.retries is None else o.retries,
            max_repetitions=max_reps,
            min_repetitions=min(self.min_repetitions, max_reps),
            max_inflight_per_device=o.max_inflight_per_device or self.max_inflight_per_device,
            max_inflight_global=self.max_inflight_global,
            transport=o.transport or self.transport,
            aes_key_extension=self.aes_key_extension)


@dataclass(slots=True)
class _Device:
    key: tuple[str, int, str]
    session: SnmpSession
    rates: RateTracker
    profile_memory: ProfileMemory = field(default_factory=ProfileMemory)


class SnmpPoller:
    def __init__(self, cfg: SnmpConfig, ctx: BuildContext,
                 profile_set: ProfileSet | None = None) -> None:
        self.cfg = cfg
        self.profile_set = profile_set
        self.profile_names = None if cfg.device_profiles == "auto" else list(
            cfg.device_profiles)
        self.credentials = ctx.credentials
        self.inventory: Inventory = ctx.inventory
        self._reject = ctx.reject
        self._budget_s = poll_budget(ctx.timeout_s)
        self._devices: dict[str, _Device] = {}

    async def start(self) -> None:
        return None

    def _credential(self, target: Target) -> SnmpCredential:
        """The target's own set if it is an SNMP one, else this instance's default."""
        names = [n for n in (target.credential,
                             target.device.credential if target.device else None,
                             self.cfg.credential) if n]
        for name in names:
            cred = self.credentials.get(name)
            if isinstance(cred, SnmpV2cCredential | SnmpV3Credential):
                return cred
        tried = ", ".join(f"'{n}'" for n in names) or "none named"
        raise CollectError(ErrorType.AUTH, f"device {target.id}: no snmp_v2c/snmp_v3 "
                           f"credential set ({tried}); set the inventory `credential` or "
                           "the instance's `credential:`")

    def _address(self, target: Target) -> str:
        if self.cfg.prefer_ipv6 and target.ipv6:
            return target.ipv6
        if target.device is not None and target.device.address:
            return target.device.address
        return target.address

    async def _device(self, target: Target) -> _Device:
        cred = self._credential(target)
        key = (self._address(target), target.port or self.cfg.port, cred.name)
        dev = self._devices.get(target.id)
        if dev is not None and dev.key == key:
            return dev
        if dev is not None:
            await dev.session.close()
            del self._devices[target.id]
        inner = await open_session(key[0], key[1], cred, self.cfg.transport_options(target.id))
        device_id = target.id

        def on_reject(reason: str, detail: str) -> None:
            self._reject(reason, device_id, detail)

        # out-of-range varbinds are set aside one by one (counted, logged once), never the poll
        session = BoundedSession(inner, on_reject)
        dev = self._devices[target.id] = _Device(key, session, RateTracker())
        return dev

    async def poll(self, target: Target) -> Sequence[Item]:
        budget = self._budget_s
        deadline = None if budget is None else asyncio.get_running_loop().time() + budget
        dev = await self._device(target)
        clock = Clock(time.time_ns(), time.monotonic())
        result = await DevicePoller(
            dev.session, self.cfg.profiles,
            self.profile_set if Profile.HEALTH in self.cfg.profiles else None,
            self.profile_names, dev.profile_memory).run(deadline)
        items = to_metrics(result.data, dev.rates, clock, self.inventory, target.id)
        if not result.out_of_time and _is_server(result.data.identity.kind, target):
            # the 国产化 audit of servers: CPU, OS, databases and middleware (servers.py)
            try:
                async with asyncio.timeout_at(deadline):
                    verdicts, _problems = await read_server(dev.session,
                                                            result.data.system.descr)
                items.extend(verdict_metrics(verdicts, clock.ts_ns))
            except TimeoutError:
                result.failures.append(WalkFailure("server platform", ErrorType.TIMEOUT,
                                                   "the poll's time ran out"))
        if result.failures:
            first = result.failures[0]
            detail = "; ".join(f"{f.what}: {f.error_type.value}" for f in result.failures[:5])
            raise PartialCollect(items, first.error_type, detail)
        return items

    def measurements(self) -> list[Measurement]:
        """What this instance writes beyond SPEC.measurements: its user profiles' own
        measurements (declared in their YAML)."""
        if self.profile_set is None:
            return []
        builtin = {m.name for m in MEASUREMENTS}
        return [m for m in self.profile_set.measurements.values() if m.name not in builtin]

    async def close(self) -> None:
        devices, self._devices = list(self._devices.values()), {}
        for dev in devices:
            await dev.session.close()


def poll_budget(timeout_s: float | None) -> float | None:
    """The time a poll may read for: the framework's per-target timeout less a margin to turn
    what was read into metrics. A poll cancelled by the framework would lose everything it
    read; one that stops at its budget hands on what its finished steps read."""
    if timeout_s is None:
        return None
    return timeout_s - max(0.1 * timeout_s, min(0.5, 0.2 * timeout_s))


def _is_server(kind: object, target: Target) -> bool:
    declared = target.device.kind.value if target.device is not None else ""
    return str(kind) == "server" or declared == "server"


def build(cfg: SnmpConfig, ctx: BuildContext) -> SnmpPoller:
    if cfg.credential is not None:
        cred = ctx.credentials.get(cfg.credential)
        if not isinstance(cred, SnmpV2cCredential | SnmpV3Credential):
            raise ConfigError.one(f"inputs {ctx.instance}", f"credential '{cfg.credential}' "
                                  "is not a defined snmp_v2c/snmp_v3 credential set")
    profile_set = _profiles(cfg, ctx)
    return SnmpPoller(cfg, ctx, profile_set)


def _profiles(cfg: SnmpConfig, ctx: BuildContext) -> ProfileSet | None:
    """Built-in plus user profiles, checked now: a bad profile fails the build (and so
    `check-config`) with its file:line."""
    if cfg.device_profiles == []:
        return None
    if cfg.profiles_dir is None:
        profile_set = builtin_profiles()
    else:
        profile_set = load_profiles([(ctx.config_dir / cfg.profiles_dir).resolve()])
    if cfg.device_profiles != "auto":
        unknown = [n for n in cfg.device_profiles if n not in profile_set.profiles]
        if unknown:
            raise ConfigError.one(f"inputs {ctx.instance}", (
                f"device_profiles: unknown profile(s) {', '.join(unknown)} "
                f"(known: {', '.join(sorted(profile_set.profiles))})"))
    return profile_set


SPEC = PluginSpec(
    name="snmp", kind=PluginKind.POLLER, config_model=SnmpConfig, build=build,
    description="SNMP v2c/v3 over IPv4/IPv6: identity and domestic-vendor classification, "
                "interfaces and rates, IP-MIB per-version traffic and IPv6 addresses, LLDP, "
                "FDB, wireless controllers (APs and radios)",
    example={"type": "snmp", "interval_secs": 60,
             "profiles": ["system", "interfaces", "ip", "ipv6", "entity", "lldp", "wlan",
                          "health"],
             "targets": {"kinds": ["core_switch", "aggregation_switch", "wlan_controller"]}},
    default_targets=DefaultTargets.NONE,
    measurements=MEASUREMENTS,
    cli=register_cli,
    capabilities=Capability.CREDENTIAL | Capability.INSTANCE_MEASUREMENTS,
    default_max_concurrency=DEFAULT_MAX_CONCURRENCY,
)
