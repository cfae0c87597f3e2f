"""The `config_backup` poller: each device's running configuration, masked, versioned in git.

Why a second plugin in the ssh folder rather than its own folder: it must use the ssh
collector's sessions exactly — the same credential sets and per-device overrides, the same
host-key verification, the same one-session-per-device rule and thread pool — and those live in
`../client.py` and `SshCollector` (planning, credentials, the per-device lock). A separate
folder could only share them by moving the netmiko client into agent/shared, where it would be
the one module of agent/ importing a third-party network library.

Per poll of one device: open one session (on the collector's pool, under its per-device lock),
stream the platform's configuration command through the writer (volatile lines dropped, secrets
masked, written to a file as it arrives), judge it complete, then commit it if it changed. A
change raises `config_changed`; `failed_after` failed runs in a row raise
`config_backup_failed`, resolved by the next good run. An event of `trigger_kinds` (a syslog or
trap "configuration saved") makes the framework poll that device soon (`triggered_by`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from agent.core.catalogue import Measurement, gauge, state, tag
from agent.core.errors import CollectError, PartialCollect, StartupError
from agent.core.model import ErrorType, Event, EventState, Item, Metric, Severity
from agent.core.plugin import (
    BuildContext,
    Capability,
    DefaultTargets,
    PluginKind,
    PluginSpec,
    Target,
)
from collectors.ssh.backup.cli import register as register_cli
from collectors.ssh.backup.config import ConfigBackupConfig
from collectors.ssh.backup.platforms import BACKUP_PLATFORMS, BackupPlatform
from collectors.ssh.backup.repo import Change, ConfigRepo, RepoError
from collectors.ssh.backup.secrets import PLATFORM_RULES, Masker, load_key
from collectors.ssh.backup.writer import ConfigWriter, NotAConfiguration, Written
from collectors.ssh.client import CliSession
from collectors.ssh.plugin import Plan, SshCollector
from collectors.ssh.rejection import refusal

log = logging.getLogger("campusmon.config_backup")
CONFIG_CHANGED = "config_changed"
BACKUP_FAILED = "config_backup_failed"
_MAX_PENDING = 10_000

MEASUREMENTS = (
    Measurement(
        "config_backup", "one configuration backup run of one device (config_backup poller)",
        tags=(tag("platform", "the device's CLI platform (huawei, hp_comware, cisco_ios …)"),),
        fields=(
            gauge("lines", "lines", "lines of the stored (masked) configuration"),
            gauge("size_bytes", "bytes", "size of the stored configuration"),
            state("changed", "1: this run committed a change, 0: unchanged"),
            gauge("lines_added", "lines", "lines added by this run's commit"),
            gauge("lines_removed", "lines", "lines removed by this run's commit"),
            gauge("secrets_masked", "", "secrets replaced by their keyed hash"),
            gauge("failures", "", "failed runs in a row (0 after a good run)"),
        )),
)


@dataclass(frozen=True, slots=True)
class Outcome:
    written: Written
    change: Change | None


class ConfigBackup:
    def __init__(self, cfg: ConfigBackupConfig, ctx: BuildContext) -> None:
        self.cfg = cfg
        self.ctx = ctx
        self.ssh = SshCollector(cfg, ctx)  # planning, credentials, pool, per-device lock
        self.repo = ConfigRepo(ctx.data_dir / cfg.repository, remote=cfg.remote,
                               branch=cfg.branch)
        self.key_path = ctx.data_dir / "config_backup.key"
        self._key: bytes | None = None
        self._failures: dict[str, int] = {}
        self._raised: set[str] = set()
        self._pending_trigger: dict[str, str] = {}
        # read by the framework: events of these kinds make it poll the event's device soon
        self.watch_kinds = frozenset(cfg.trigger_kinds)
        self.trigger_debounce_s = cfg.trigger_debounce_secs

    async def start(self) -> None:
        await self.ssh.start()
        try:
            self._key = await asyncio.to_thread(load_key, self.key_path)
            await asyncio.to_thread(self.repo.ensure)
        except (RepoError, OSError) as exc:
            # the agent runs on (other plugins); each poll reports the cause as `internal`
            raise StartupError(f"config_backup: {exc}", retry=True) from None

    def triggered_by(self, event: Event) -> str | None:
        """The target id to back up soon because of `event`, or None. Called by the framework
        on the event loop for every event in flight; cheap."""
        if event.kind not in self.watch_kinds or event.state is EventState.RESOLVED:
            return None
        device = event.device or event.labels.get("device")
        if not device:
            return None
        if len(self._pending_trigger) >= _MAX_PENDING:  # events naming devices never polled
            self._pending_trigger.clear()
        self._pending_trigger[device] = event.kind
        return device

    # ------------------------------------------------------------ polling
    async def poll(self, target: Target) -> Sequence[Item]:
        trigger = self._pending_trigger.pop(target.id, "schedule")
        try:
            plan = self.ssh.plan(target)
            bp = BACKUP_PLATFORMS[plan.platform]
            if self._key is None:
                try:
                    self._key = await asyncio.to_thread(load_key, self.key_path)
                except OSError as exc:
                    raise CollectError(ErrorType.INTERNAL, f"{target.id}: masking key "
                                       f"{self.key_path}: {exc.strerror}") from None
            masker = Masker(self._key, PLATFORM_RULES[plan.platform])
            session = CliSession(plan.params)
            outcome = await self.ssh._in_thread(
                target.id, session,
                lambda: self._backup(target, plan, bp, masker, session, trigger))
        except CollectError as exc:
            self._failed(target, exc)
        except asyncio.CancelledError:  # the tick's timeout: still a failed run
            self._failures[target.id] = self._failures.get(target.id, 0) + 1
            raise
        return self._succeeded(target, plan, outcome, trigger)

    def _backup(self, target: Target, plan: Plan, bp: BackupPlatform, masker: Masker,
                session: CliSession, trigger: str) -> Outcome:
        """Blocking, in a worker thread: one session, one command, streamed to disk."""
        name = target.id
        incoming = self.repo.incoming(name)
        try:
            writer = ConfigWriter(incoming, bp, masker)
        except OSError as exc:
            raise CollectError(ErrorType.INTERNAL, f"{name}: {incoming}: {exc.strerror}") from None

        def feed(text: str) -> None:
            try:
                writer.feed(text)
            except OSError as exc:  # a full disk is ours, not the device's: not `unreachable`
                raise CollectError(ErrorType.INTERNAL,
                                   f"{name}: writing {incoming}: {exc.strerror}") from None

        try:
            session.open()
            try:
                session.stream(bp.command, feed)
            except CollectError:
                # a device that stopped mid-output would not answer a polite logout either:
                # cut the connection instead of waiting for netmiko's read timeouts
                session.abort()
                raise
            finally:
                session.close()
            refused = refusal(writer.head, privileged=session.privileged)
            if refused is not None:
                raise CollectError(refused[0], f"{name}: {bp.command}: refused: {refused[1]}")
            try:
                written = writer.finish()
            except NotAConfiguration as exc:
                raise CollectError(ErrorType.PARSE, f"{name}: {bp.command}: {exc}") from None
            except OSError as exc:
                raise CollectError(ErrorType.INTERNAL,
                                   f"{name}: writing {incoming}: {exc.strerror}") from None
        except BaseException:
            writer.discard()
            raise
        try:
            change = self.repo.store(name, written.path, trigger=trigger,
                                     platform=plan.platform.value)
        except (RepoError, OSError) as exc:
            raise CollectError(ErrorType.INTERNAL, f"{name}: configuration repository: "
                               f"{exc}") from None
        if change is not None and self.repo.remote:
            try:
                self.repo.push()
            except RepoError as exc:  # the commit is safe locally; the next push carries it
                log.warning("config_backup: push to %s failed: %s", self.repo.remote, exc)
        return Outcome(written, change)

    def _succeeded(self, target: Target, plan: Plan, outcome: Outcome,
                   trigger: str) -> list[Item]:
        now = time.time_ns()
        w, change = outcome.written, outcome.change
        self._failures[target.id] = 0
        items: list[Item] = [Metric("config_backup", {"platform": plan.platform.value}, {
            "lines": w.lines, "size_bytes": w.size_bytes,
            "changed": 1 if change is not None else 0,
            "lines_added": change.added if change else 0,
            "lines_removed": change.removed if change else 0,
            "secrets_masked": w.secrets_masked, "failures": 0}, now)]
        if change is not None and not change.first:
            items.append(Event(
                key=f"{CONFIG_CHANGED}:{target.id}", kind=CONFIG_CHANGED,
                state=EventState.OBSERVED, severity=Severity.WARNING,
                summary=(f"{target.id}: configuration changed ({change.summary()}); "
                         f"trigger {trigger}, commit {change.commit[:12]}"),
                device=target.id,
                labels={"lines_added": str(change.added), "lines_removed": str(change.removed),
                        "sections": "; ".join(change.sections), "commit": change.commit[:12],
                        "trigger": trigger},
                ts_ns=now))
        if target.id in self._raised:
            self._raised.discard(target.id)
            items.append(Event(
                key=f"{BACKUP_FAILED}:{target.id}", kind=BACKUP_FAILED,
                state=EventState.RESOLVED, severity=Severity.WARNING,
                summary=f"{target.id}: configuration backed up again", device=target.id,
                ts_ns=now))
        return items

    def _failed(self, target: Target, exc: CollectError) -> NoReturn:
        """Count the failed run; raises the error with the metric (and the event, once the
        count reaches `failed_after`) attached."""
        n = self._failures.get(target.id, 0) + 1
        self._failures[target.id] = n
        now = time.time_ns()
        items: list[Item] = [Metric("config_backup", {}, {"failures": n}, now)]
        if n >= self.cfg.failed_after and target.id not in self._raised:
            self._raised.add(target.id)
            items.append(Event(
                key=f"{BACKUP_FAILED}:{target.id}", kind=BACKUP_FAILED,
                state=EventState.RAISED, severity=Severity.WARNING,
                summary=(f"{target.id}: configuration backup failed {n} runs in a row "
                         f"({exc.error_type.value}): {exc}"),
                device=target.id, labels={"error_type": exc.error_type.value}, ts_ns=now))
        raise PartialCollect(items, exc.error_type, str(exc)) from None

    async def close(self) -> None:
        await self.ssh.close()


def build(cfg: ConfigBackupConfig, ctx: BuildContext) -> ConfigBackup:
    return ConfigBackup(cfg, ctx)


SPEC: PluginSpec[ConfigBackupConfig, ConfigBackup] = PluginSpec(
    name="config_backup", kind=PluginKind.POLLER, config_model=ConfigBackupConfig, build=build,
    description="running configurations over SSH (Huawei, H3C, Ruijie, ZTE, Cisco, Aruba), "
                "volatile lines dropped, secrets masked, versioned in git; config_changed events",
    example={"type": "config_backup", "interval_secs": 3600, "timeout_secs": 120,
             "credential": "campus-ssh",
             "targets": {"kinds": ["core_switch", "aggregation_switch", "access_switch",
                                  "router", "firewall", "wlan_controller"]}},
    default_targets=DefaultTargets.INVENTORY,
    measurements=MEASUREMENTS,
    capabilities=Capability.CREDENTIAL | Capability.TRIGGERED_POLLS,
    cli=register_cli,
)
