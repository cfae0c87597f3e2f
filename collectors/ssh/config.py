"""Configuration of the SSH collector (framework keys such as interval_secs live elsewhere)."""

from __future__ import annotations

from pydantic import Field

from collectors.ssh.client import HostKeyCheck
from collectors.ssh.platforms import CommandKind, Platform
from config.base import StrictModel
from inventory.models import DeviceKind


class SshDeviceOptions(StrictModel):
    """Per-target overrides, keyed by target id (inventory device id or static target id)."""

    platform: Platform | None = None  # when the inventory vendor is missing or misleading
    port: int | None = Field(default=None, ge=1, le=65535)
    credential: str | None = None
    kind: DeviceKind | None = None  # static targets: e.g. wlan_controller to list APs
    commands: list[CommandKind] | None = None


SESSION_SHARE = 0.8
DEFAULT_SESSION_SECS = 8.0  # outside the agent (no framework timeout known)


class SshConfig(StrictModel):
    credential: str | None = None  # used when neither the target nor the device names one
    port: int = Field(default=22, ge=1, le=65535)
    # threads running netmiko; a hung device holds one only until session_timeout_secs
    workers: int = Field(default=8, ge=1, le=128)
    # login plus every command of one device; netmiko's conn/auth/banner/read timeouts are
    # derived from it. Unset: SESSION_SHARE of the instance's timeout_secs, so a slow device
    # ends its own session (and frees its thread) before the framework gives up on it.
    session_timeout_secs: float | None = Field(default=None, gt=0, le=600)
    commands: list[CommandKind] = Field(default_factory=lambda: list(CommandKind))
    vendors: dict[str, Platform] = Field(default_factory=dict)  # extra vendor name → platform
    devices: dict[str, SshDeviceOptions] = Field(default_factory=dict)
    # Host keys are checked before any password is sent. tofu: the first key a device shows is
    # trusted and written to known_hosts_file (default <data_dir>/ssh/known_hosts); a changed
    # key is refused and raises the ssh_host_key_changed alert. strict: only keys pre-loaded in
    # known_hosts_file. insecure: no check, logged loudly (an impostor gets the password).
    # Unset: strict when known_hosts_file is given (as before), else tofu.
    host_key_check: HostKeyCheck | None = None
    # relative paths (here and in a credential's key_file) are relative to the config file
    known_hosts_file: str | None = None
