"""What a configuration backup does per platform, as data: the command that prints the running
configuration, the volatile lines to drop (they change without a configuration change, so an
unchanged device would show a diff every run), and how a complete output ends.

Paging is turned off by the session (netmiko's session preparation, see ../client.py), so the
commands here are the plain ones.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from collectors.ssh.platforms import Platform


@dataclass(frozen=True, slots=True)
class BackupPlatform:
    command: str
    volatile: tuple[re.Pattern[str], ...]  # a line matching one of these is dropped
    end: re.Pattern[str]  # the last non-blank line of a complete configuration
    end_text: str  # for messages

    @property
    def volatile_any(self) -> re.Pattern[str]:
        """All volatile patterns as one (one search per line instead of one per pattern)."""
        return _joined(self.volatile)


@functools.cache
def _joined(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p.pattern})" for p in patterns) or r"(?!)")


def _rx(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


# a bare timestamp line: VRP prints one before each display output unless `timestamp disable`
_TIMESTAMP = r"^\s*\d{4}-\d{2}-\d{2}\s+\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:\s*[+-]\d{2}:\d{2})?\s*$"
# a comment line carrying an uptime counter (some releases and management tools print one)
_UPTIME = r"^\s*[!#].*\b(?i:uptime)\b"
_IOS_VOLATILE = _rx(
    r"^Building configuration\.\.\.\s*$",
    r"^Current configuration\s*:\s*\d+\s*bytes\s*$",  # the byte count moves with any change
    r"^!\s*Last configuration change at ",
    r"^!\s*NVRAM config last updated at ",
    r"^!\s*No configuration change since last restart",
    r"^!\s*Time:\s",
    r"^\s*ntp clock-period \d+\s*$",  # IOS rewrites the learnt clock drift every few minutes
    _UPTIME,
)

BACKUP_PLATFORMS: Mapping[Platform, BackupPlatform] = {
    Platform.HUAWEI: BackupPlatform(
        "display current-configuration",
        _rx(r"^!Last configuration was (?:updated|saved) at ", r"^!Time:\s", _TIMESTAMP,
            _UPTIME),
        re.compile(r"^return$"), "return"),
    Platform.HP_COMWARE: BackupPlatform(
        "display current-configuration", _rx(_TIMESTAMP, _UPTIME), re.compile(r"^return$"),
        "return"),
    Platform.RUIJIE_OS: BackupPlatform("show running-config", _IOS_VOLATILE,
                                       re.compile(r"^end$"), "end"),
    Platform.ZTE_ZXROS: BackupPlatform(
        "show running-config",
        _rx(r"^!configuration has not been saved", r"^!configuration was (?:loaded|saved) ",
            r"^!last configuration change at ", r"^!\s*Time:\s",
            r"^Building configuration\.\.\.\s*$", _UPTIME),
        # ZXROS closes every block with !</block>; older releases end with `end`
        re.compile(r"^(?:!</[\w-]+>|end)$"), "!</block> or end"),
    Platform.CISCO_IOS: BackupPlatform("show running-config", _IOS_VOLATILE,
                                       re.compile(r"^end$"), "end"),
    Platform.CISCO_XE: BackupPlatform("show running-config", _IOS_VOLATILE,
                                      re.compile(r"^end$"), "end"),
    Platform.ARUBA_OS: BackupPlatform(
        "show running-config",
        _rx(r"^Building Configuration\.\.\.\s*$", r"^\s*ntp clock-period \d+\s*$", _UPTIME),
        re.compile(r"^end$"), "end"),
}
