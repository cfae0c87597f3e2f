"""Errors typed by what the framework does next.

Only a plugin's `client.py` translates third-party exceptions into these; nothing above it
matches on message text. The scheduler's per-target wrapper is the one place that catches
every exception, so one broken device never cancels its siblings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agent.core.model import ErrorType, Item


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with user input, with the place it came from."""

    where: str  # "file:line" or "device sw-1" or "topic campus/x/y"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class CampusmonError(Exception):
    """Base class; `str()` is a one-line message fit for the user."""


class ConfigError(CampusmonError):
    """Config or inventory is wrong: exit non-zero and list every problem."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    @staticmethod
    def one(where: str, message: str) -> ConfigError:
        return ConfigError([Problem(where, message)])


class StartupError(CampusmonError):
    """A plugin could not start; `retry` says whether trying again may help."""

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


class CollectError(CampusmonError):
    """One target failed this tick: counted under `error_type`, the run goes on."""

    def __init__(self, error_type: ErrorType, message: str = "") -> None:
        super().__init__(message or error_type.value)
        self.error_type = error_type


class PartialCollect(CollectError):
    """Some data arrived before the failure: keep `items`, count `error_type`."""

    def __init__(self, items: Sequence[Item], error_type: ErrorType, message: str = "") -> None:
        super().__init__(error_type, message)
        self.items = list(items)


class ExportError(CampusmonError):
    pass


class RetryableExportError(ExportError):
    """Keep the batch and try again, no sooner than `retry_after_s` if the server said so."""

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PermanentExportError(ExportError):
    """The server refused the batch for good (4xx): set it aside with the reason, never retry."""


class PartialExportError(ExportError):
    """Some of the batch was accepted; `rejected` lines are set aside with the reason."""

    def __init__(self, message: str, *, accepted: int, rejected: int) -> None:
        super().__init__(message)
        self.accepted = accepted
        self.rejected = rejected
