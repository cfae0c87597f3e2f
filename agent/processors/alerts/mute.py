"""Silences (one-off, absolute times) and maintenance windows (weekly, local time).

Both only mute notifications: the alert's state is still tracked, so an alert still firing
when the silence or window ends is notified then, and one that cleared inside it never is.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, Field, field_validator, model_validator

from agent.processors.alerts.rules import check_regexes
from config.base import StrictModel


class Matchers(StrictModel):
    """Label matchers on an alert (`alertname` is the rule); all must hold."""

    match: dict[str, str] = Field(default_factory=dict)
    match_regex: dict[str, str] = Field(default_factory=dict)

    @field_validator("match_regex")
    @classmethod
    def _regex_ok(cls, v: dict[str, str]) -> dict[str, str]:
        return check_regexes(v)

    def matches(self, labels: Mapping[str, str]) -> bool:
        for k, v in self.match.items():
            if labels.get(k) != v:
                return False
        for k, pattern in self.match_regex.items():
            if re.fullmatch(pattern, labels.get(k, "")) is None:
                return False
        return True


class Silence(Matchers):
    comment: str = ""
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _order(self) -> Silence:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self

    def active(self, now: dt.datetime) -> bool:
        return self.starts_at <= now < self.ends_at


class Weekday(enum.StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


_DAYS = list(Weekday)


class MaintenanceWindow(Matchers):
    """Every listed weekday from `start` to `end` (HH:MM, local); `end` < `start` crosses
    midnight (the window belongs to the day it starts)."""

    name: str
    weekdays: list[Weekday] = Field(default_factory=lambda: list(Weekday), min_length=1)
    start: dt.time
    end: dt.time
    timezone: str = "Asia/Shanghai"

    @field_validator("timezone")
    @classmethod
    def _tz_ok(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{v}'") from None
        return v

    def active(self, now: dt.datetime) -> bool:
        local = now.astimezone(ZoneInfo(self.timezone))
        t = local.time().replace(tzinfo=None)
        day = _DAYS[local.weekday()]
        if self.start <= self.end:
            return day in self.weekdays and self.start <= t < self.end
        if t >= self.start:
            return day in self.weekdays
        yesterday = _DAYS[(local.weekday() - 1) % 7]
        return yesterday in self.weekdays and t < self.end


def muted_by(labels: Mapping[str, str], now_ns: int, silences: list[Silence],
             windows: list[MaintenanceWindow]) -> str | None:
    """Name of what mutes this alert now, or None."""
    now = dt.datetime.fromtimestamp(now_ns / 1e9, tz=dt.UTC)
    for s in silences:
        if s.active(now) and s.matches(labels):
            return f"silence: {s.comment or 'unnamed'}"
    for w in windows:
        if w.active(now) and w.matches(labels):
            return f"maintenance: {w.name}"
    return None
