"""The `ssh` poller: CLI facts over SSH (netmiko), parsed with TextFSM.

Per poll of one device: pick the platform (per-target override, else inventory vendor), open one
session, run the platform's commands in it, close it. netmiko blocks, so the session runs on our
own bounded thread pool; a per-device lock keeps one session per device at a time, and it is
released when the thread really ends, not when the framework stops waiting for it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from agent.core.errors import CollectError, ConfigError, PartialCollect
from agent.core.model import ErrorType, Event, EventState, Item, Metric, Severity
from agent.core.plugin import (
    BuildContext,
    Capability,
    DefaultTargets,
    PluginKind,
    PluginSpec,
    Target,
)
from collectors.ssh.cli import register as register_cli
from collectors.ssh.client import CliSession, HostKeyChanged, HostKeyCheck, SessionParams
from collectors.ssh.config import (
    DEFAULT_SESSION_SECS,
    SESSION_SHARE,
    SshConfig,
    SshDeviceOptions,
)
from collectors.ssh.measurements import MEASUREMENTS
from collectors.ssh.metrics import (
    ap_metrics,
    ipv6_metrics,
    lldp_metrics,
    vendor_mismatch,
    version_metrics,
)
from collectors.ssh.normalize import NORMALIZERS, NormalizeError, Row
from collectors.ssh.parsing import ParseFailure, parse
from collectors.ssh.platforms import (
    ENABLE_PLATFORMS,
    Command,
    CommandKind,
    Platform,
    commands_for,
    platform_for_vendor,
)
from collectors.ssh.rejection import refusal
from collectors.ssh.rows import AccessPoint, Ipv6Interface, LldpNeighbor, VersionInfo
from collectors.ssh.servers import LINUX_COMMANDS, server_items
from collectors.ssh.sessions import device_lock
from config.base import check_secret_file
from config.credentials import SshCredential
from inventory.models import DeviceKind

T = TypeVar("T")
log = logging.getLogger("campusmon.ssh")


@dataclass(frozen=True, slots=True)
class Plan:
    platform: Platform
    params: SessionParams
    commands: tuple[Command, ...]


@dataclass(frozen=True, slots=True)
class CommandOutput:
    command: Command
    text: str | None
    error: CollectError | None


@dataclass(frozen=True, slots=True)
class SessionResult:
    privileged: bool
    hostname: str  # from the prompt
    outputs: tuple[CommandOutput, ...]


def run_session(session: CliSession, commands: Sequence[Command]) -> SessionResult:
    """Blocking: log in once, run every command, log out. Runs in a worker thread."""
    session.open()
    outputs: list[CommandOutput] = []
    try:
        for cmd in commands:
            try:
                outputs.append(CommandOutput(cmd, session.run(cmd.cli), None))
            except CollectError as exc:
                outputs.append(CommandOutput(cmd, None, exc))
                break  # a timeout or a dropped session leaves nothing to reuse
    finally:
        session.close()
    return SessionResult(session.privileged, session.hostname, tuple(outputs))


class SshCollector:
    def __init__(self, cfg: SshConfig, ctx: BuildContext) -> None:
        self.cfg = cfg
        self.ctx = ctx
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._live: set[CliSession] = set()
        self._extra_vendors = {k.strip().lower(): v for k, v in cfg.vendors.items()}
        self._mismatch: dict[str, bool] = {}  # target id → inventory vendor ≠ CLI vendor
        self.host_key_check = cfg.host_key_check or (
            HostKeyCheck.STRICT if cfg.known_hosts_file else HostKeyCheck.TOFU)
        # TOFU keys persist under the data dir; without one (tools, tests) they are kept for
        # the life of the process
        self.known_hosts_file = self._path(cfg.known_hosts_file) or (
            str(ctx.data_dir / "ssh" / "known_hosts")
            if self.host_key_check is HostKeyCheck.TOFU and ctx.data_dir.is_dir() else None)
        if self.host_key_check is HostKeyCheck.INSECURE:
            log.warning("%s: SSH host keys are NOT checked (host_key_check: insecure): a device "
                        "impostor receives the login password and enable secret", ctx.instance)

    @property
    def session_timeout_s(self) -> float:
        if self.cfg.session_timeout_secs is not None:
            return self.cfg.session_timeout_secs
        if self.ctx.timeout_s is not None:
            return self.ctx.timeout_s * SESSION_SHARE
        return DEFAULT_SESSION_SECS

    async def start(self) -> None:
        self._pool()

    def _pool(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=self.cfg.workers, thread_name_prefix="campusmon-ssh")
        return self._executor

    # ------------------------------------------------------------ planning
    def plan(self, target: Target) -> Plan:
        opts = self.cfg.devices.get(target.id, SshDeviceOptions())
        device = target.device
        vendor = device.vendor if device is not None else None
        is_server = (opts.kind or (device.kind if device is not None else None)) \
            is DeviceKind.SERVER
        platform = (opts.platform or (Platform.LINUX if is_server else None)
                    or self._vendor_platform(vendor))
        if platform is None:
            raise CollectError(ErrorType.PROTOCOL, (
                f"{target.id}: no SSH platform for vendor {vendor!r}; set "
                f"devices.{target.id}.platform"))
        cred = self._credential(target, opts)
        kind = opts.kind or (device.kind if device is not None else None)
        wanted = frozenset(opts.commands if opts.commands is not None else self.cfg.commands)
        params = SessionParams(
            name=target.id, device_type=platform.value, host=target.address,
            port=opts.port or target.port or self.cfg.port, username=cred.username,
            password=_secret(cred.password), key_file=self._path(cred.key_file),
            passphrase=_secret(cred.passphrase), secret=_secret(cred.enable_secret),
            uses_enable=platform in ENABLE_PLATFORMS,
            timeout_s=self.session_timeout_s,
            known_hosts_file=self.known_hosts_file, host_key_check=self.host_key_check)
        if platform is Platform.LINUX:  # files and ps, not a network CLI (servers.py)
            cmds = LINUX_COMMANDS if CommandKind.SERVER in wanted else ()
            return Plan(platform, params, cmds)
        return Plan(platform, params, commands_for(platform, kind, wanted))

    def _path(self, path: str | None) -> str | None:
        """Relative paths are relative to the config file, as everywhere in the config."""
        if not path:
            return None
        p = Path(path).expanduser()
        return str(p if p.is_absolute() else self.ctx.config_dir / p)

    def _credential(self, target: Target, opts: SshDeviceOptions) -> SshCredential:
        """Per-target override, else the device's own set when it is an SSH one (a device
        usually names its SNMP set), else the instance default."""
        if opts.credential is not None:
            names = [opts.credential]
        else:
            names = [n for n in (target.credential, self.cfg.credential) if n]
        for name in names:
            cred = self.ctx.credentials.get(name)
            if isinstance(cred, SshCredential):
                return cred
        raise CollectError(ErrorType.AUTH, (
            f"{target.id}: no ssh credential set among {names} (give 'credential' or "
            f"devices.{target.id}.credential)"))

    def _vendor_platform(self, vendor: str | None) -> Platform | None:
        key = (vendor or "").strip().lower()
        return self._extra_vendors.get(key) or platform_for_vendor(vendor)

    # ------------------------------------------------------------ polling
    async def poll(self, target: Target) -> Sequence[Item]:
        plan = self.plan(target)
        session = CliSession(plan.params)
        # keyed by device (target id), not address: two inventory entries are two devices
        # TextFSM is CPU work too: parse in the worker, keep the event loop free
        try:
            return await self._in_thread(target.id, session, lambda: self._to_items(
                target, plan, run_session(session, plan.commands)))
        except HostKeyChanged as exc:  # refused before login; the alert rule takes the event
            raise PartialCollect([host_key_changed_event(target, exc)], ErrorType.AUTH,
                                 str(exc)) from None

    async def _in_thread(self, key: str, session: CliSession,
                         fn: Callable[[], T]) -> T:
        lock = device_lock(key)  # shared with every ssh-folder plugin (sessions.py)
        await lock.acquire()
        loop = asyncio.get_running_loop()
        try:
            fut = loop.run_in_executor(self._pool(), fn)
        except BaseException:
            lock.release()
            raise
        self._live.add(session)

        def done(f: asyncio.Future[T]) -> None:
            self._live.discard(session)
            lock.release()  # only now: the device's one session has really ended
            if not f.cancelled():
                f.exception()  # mark retrieved: a poll that timed out no longer awaits it

        fut.add_done_callback(done)
        try:
            return await asyncio.shield(fut)
        except asyncio.CancelledError:
            session.abort()  # the worker's next read fails; the thread ends within a loop
            raise

    def _to_items(self, target: Target, plan: Plan, result: SessionResult) -> list[Item]:
        now = time.time_ns()
        items: list[Item] = []
        errors: list[CollectError] = []
        for out in result.outputs:
            if out.error is not None:
                errors.append(out.error)
                continue
            assert out.text is not None
            if out.command.kind is CommandKind.SERVER:
                items.extend(server_items(out.command.template, out.text, now))
                continue
            try:
                rows = self._rows(target.id, out.command, out.text, result.privileged)
            except CollectError as exc:
                errors.append(exc)
                continue
            rows = [dataclasses.replace(r, hostname=result.hostname)
                    if isinstance(r, VersionInfo) and not r.hostname else r for r in rows]
            items.extend(self._metrics(target, plan.platform, out.command.kind, rows, now))
            items.extend(self._mismatch_events(target, rows))
        if not errors:
            return items
        message = "; ".join(str(e) for e in errors)
        if items:
            raise PartialCollect(items, errors[0].error_type, message)
        raise CollectError(errors[0].error_type, message)

    def _mismatch_events(self, target: Target, rows: Sequence[Row]) -> list[Item]:
        # state per device; only this device's worker touches its entry (per-device lock)
        out: list[Item] = []
        for r in rows:
            if isinstance(r, VersionInfo) and target.device is not None:
                now, event = vendor_mismatch(target.id, target.device.vendor, r,
                                             self._mismatch.get(target.id))
                self._mismatch[target.id] = now
                if event is not None:
                    out.append(event)
        return out

    @staticmethod
    def _rows(name: str, command: Command, text: str, privileged: bool) -> list[Row]:
        refused = refusal(text, privileged=privileged)
        if refused is not None:
            raise CollectError(refused[0], f"{name}: {command.cli}: refused: {refused[1]}")
        try:
            return NORMALIZERS[command.template](parse(command, text))
        except (ParseFailure, NormalizeError) as exc:
            raise CollectError(ErrorType.PARSE, f"{name}: {command.cli}: {exc}") from None

    def _metrics(self, target: Target, platform: Platform, kind: CommandKind,
                 rows: Sequence[Row], ts: int) -> list[Metric]:
        if kind is CommandKind.VERSION:
            return [m for r in rows if isinstance(r, VersionInfo)
                    for m in version_metrics(r, platform, ts)]
        if kind is CommandKind.IPV6_INTERFACES:
            return ipv6_metrics([r for r in rows if isinstance(r, Ipv6Interface)], ts)
        if kind is CommandKind.AP_LIST:
            return ap_metrics([r for r in rows if isinstance(r, AccessPoint)], target.id,
                              self.ctx.inventory, ts)
        return lldp_metrics([r for r in rows if isinstance(r, LldpNeighbor)], ts)

    async def close(self) -> None:
        for s in list(self._live):
            s.abort()
        ex, self._executor = self._executor, None
        if ex is not None:
            ex.shutdown(wait=False, cancel_futures=True)


def _secret(value: object) -> str | None:
    get = getattr(value, "get_secret_value", None)
    return str(get()) if get is not None else None


def host_key_changed_event(target: Target, exc: HostKeyChanged) -> Event:
    return Event(key=f"ssh_host_key_changed:{target.id}", kind="ssh_host_key_changed",
                 state=EventState.OBSERVED, severity=Severity.CRITICAL, summary=str(exc),
                 device=target.id, labels={"expected": exc.expected, "offered": exc.offered})


def build(cfg: SshConfig, ctx: BuildContext) -> SshCollector:
    if cfg.host_key_check is HostKeyCheck.STRICT and not cfg.known_hosts_file:
        raise ConfigError.one(f"inputs {ctx.instance}", "host_key_check: strict needs "
                              "known_hosts_file (the pre-loaded keys)")
    for cred in ctx.credentials.values():
        # a private key others can read is a leaked key (OpenSSH refuses it as well)
        if isinstance(cred, SshCredential) and cred.key_file:
            key = Path(cred.key_file).expanduser()
            try:
                check_secret_file(key if key.is_absolute() else ctx.config_dir / key,
                                  f"credential {cred.name}: key_file")
            except ValueError as exc:
                raise ConfigError.one(f"inputs {ctx.instance}", str(exc)) from None
    return SshCollector(cfg, ctx)


SPEC = PluginSpec(
    name="ssh", kind=PluginKind.POLLER, config_model=SshConfig, build=build,
    description="CLI facts over SSH (netmiko + TextFSM): version, IPv6 per interface, AP list, "
                "LLDP, for Huawei, H3C, Ruijie, ZTE, Cisco, Aruba",
    example={"type": "ssh", "interval_secs": 300, "timeout_secs": 30, "credential": "campus-ssh",
             "targets": {"kinds": ["core_switch", "aggregation_switch", "wlan_controller"]}},
    default_targets=DefaultTargets.INVENTORY,
    measurements=MEASUREMENTS,
    cli=register_cli,
    capabilities=Capability.CREDENTIAL,
)
