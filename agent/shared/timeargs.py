"""Times given on a command line: `15m` (ago), epoch seconds or ISO-8601 (the agent's `query`
and the audit's `report --end`)."""

from __future__ import annotations

import re
from datetime import datetime

from agent.core.errors import ConfigError

_DUR = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")


def parse_time(value: str, now_ns: int) -> int:
    """'5m' (ago), a Unix timestamp in seconds, or ISO-8601 → ns."""
    m = _DUR.match(value)
    if m:
        mult = {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
        return now_ns - int(float(m.group(1)) * mult * 1e9)
    try:
        return int(float(value) * 1e9)
    except ValueError:
        pass
    try:
        return int(datetime.fromisoformat(value).timestamp() * 1e9)
    except ValueError:
        raise ConfigError.one("", f"cannot read time '{value}' (use 15m, 2h, epoch "
                              "seconds or ISO-8601)") from None
