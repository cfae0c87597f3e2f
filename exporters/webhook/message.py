"""Alert events → one chat message (DingTalk / WeCom markdown) or a generic JSON document.

One message per delivered batch: the robots allow about 20 messages a minute, so a burst of
alerts becomes one message listing the first `max_alerts` and counting the rest, never a
message per alert. Times are shown in the campus's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from agent.core.model import Event, EventState
from agent.shared.alerts import HELD_BACK, NOTIFY_REASON, identity_labels

_STATE = {EventState.RAISED: "告警 FIRING", EventState.RESOLVED: "恢复 RESOLVED"}
_SEVERITY = {"critical": "紧急 CRITICAL", "warning": "警告 WARNING", "info": "提示 INFO"}
_WHERE_LABELS = ("campus", "building", "room", "device", "kind")


def _when(ts_ns: int, tz: str) -> str:
    return dt.datetime.fromtimestamp(ts_ns / 1e9, tz=ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S")


def title(events: Sequence[Event]) -> str:
    firing = sum(1 for e in events if e.state is EventState.RAISED)
    return f"campusmon: {firing} firing, {len(events) - firing} resolved"


def markdown(events: Sequence[Event], *, tz: str, max_alerts: int, max_bytes: int,
             prefix: str = "") -> str:
    """Markdown both robots render; cut to `max_bytes` of UTF-8 (WeCom refuses more)."""
    lines = [f"### {prefix}{title(events)}"]
    shown = 0
    for e in events[:max_alerts]:
        labels = e.labels
        where = " / ".join(labels[k] for k in _WHERE_LABELS if labels.get(k))
        entry = [
            f"**{_STATE.get(e.state, e.state.value)} · {_SEVERITY.get(e.severity.value, '')} · "
            f"{e.kind}**",
            f"> {e.summary}",
            f"> {where}" if where else "",
            f"> {_when(e.ts_ns, tz)}",
        ]
        extra = labels.get(NOTIFY_REASON, "")
        if labels.get(HELD_BACK, "0") not in ("", "0"):
            extra += f"; {labels[HELD_BACK]} alerts behind it held back"
        if extra and extra != "new" and extra != "resolved":
            entry.append(f"> ({extra})")
        candidate = "\n".join([*lines, "", *[x for x in entry if x]])
        if len(candidate.encode("utf-8")) > max_bytes - 64:
            break
        lines = candidate.split("\n")
        shown += 1
    if shown < len(events):
        lines += ["", f"… {len(events) - shown} more alerts (see the alert log)"]
    return "\n".join(lines)


def generic_document(events: Sequence[Event], source: str) -> dict[str, object]:
    return {
        "version": "1",
        "source": source,
        "alerts": [{
            **e.to_json_dict(),
            "labels": identity_labels(e),
            "notify_reason": e.labels.get(NOTIFY_REASON, ""),
            "held_back": int(e.labels.get(HELD_BACK, "0") or 0),
        } for e in events],
    }
