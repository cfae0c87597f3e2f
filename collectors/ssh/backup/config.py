"""Configuration of the `config_backup` poller: the SSH collector's session options (same
credential sets, per-device overrides, host-key checking, thread pool) plus its own."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from collectors.ssh.config import SshConfig


class ConfigBackupConfig(SshConfig):
    # N failed runs in a row raise config_backup_failed (resolved by the next good run)
    failed_after: int = Field(default=3, ge=1, le=100)
    # a config-saved event (syslog/trap) backs its device up this long after the last one, so
    # a burst of saves gives one backup
    trigger_debounce_secs: float = Field(default=30.0, ge=0, le=3600)
    # event kinds that trigger an immediate backup of the event's device: the syslog and trap
    # listeners raise device_config_saved (agent/shared/device_events.py)
    trigger_kinds: list[str] = Field(default_factory=lambda: ["device_config_saved"])
    # repository directory, relative to the agent's data dir
    repository: str = "configs"
    remote: str | None = None  # push every commit here (e.g. the centre's git server)
    branch: str = "main"

    @model_validator(mode="before")
    @classmethod
    def _no_commands(cls, data: Any) -> Any:
        if isinstance(data, dict) and "commands" in data:
            raise ValueError("config_backup runs each platform's configuration command; "
                             "'commands' is an option of the ssh collector only")
        return data
