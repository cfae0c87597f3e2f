"""Data files that cannot be opened at start are moved aside, never a restart loop.

A disk queue, the local store or an alert-state file can be damaged (power loss on an SD card,
a full disk, a bug). Refusing to start would leave the campus unmonitored until someone deletes
the file by hand; deleting it would lose what could still be rescued. So the file (and its
SQLite -wal/-shm companions) is renamed `<name>.corrupt-<UTC time>` beside itself, the agent
logs it loudly and starts with a fresh file, and an event says so (kind `file_corrupt`).

Data files hold student device MACs and IPs: they are created 0600 in a 0700 data dir.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from agent.core.model import Event, EventState, Severity

log = logging.getLogger("campusmon.files")
T = TypeVar("T")

CORRUPTION = (sqlite3.DatabaseError, ValueError, KeyError, TypeError)


@dataclass(frozen=True, slots=True)
class SetAside:
    what: str  # "disk queue influxdb/central", "local store", "alert state alerts/x"
    path: Path
    aside: Path
    error: str
    ts_ns: int

    def event(self) -> Event:
        return Event(
            key=f"file_corrupt:{self.path}", kind="file_corrupt", state=EventState.OBSERVED,
            severity=Severity.CRITICAL,
            summary=f"{self.what}: {self.path} could not be opened ({self.error}); kept as "
                    f"{self.aside.name}, started with an empty file",
            labels={"file": self.path.name}, ts_ns=self.ts_ns)


def secure_dir(path: Path) -> None:
    """Create `path` (and parents) and make it 0700 when it is ours."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    _chmod(path, 0o700)


def secure_file(path: Path) -> None:
    """0600 for a data file and its SQLite companions, when they exist and are ours."""
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        _chmod(p, 0o600)


def _chmod(path: Path, mode: int) -> None:
    try:
        st = path.stat()
        if st.st_uid == os.geteuid() and st.st_mode & 0o777 != mode:
            path.chmod(mode)
    except OSError:
        pass  # missing, or not ours: the open that follows reports what matters


def move_aside(path: Path, what: str, error: BaseException | str) -> SetAside:
    """Rename `path` and its -wal/-shm files to `<name>.corrupt-<UTC time>`; log loudly."""
    now = time.time_ns()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now / 1e9))
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():  # two in one second: never overwrite an earlier one
        n += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    for suffix in ("", "-wal", "-shm", "-journal"):
        src = path.with_name(path.name + suffix)
        if src.exists():
            src.replace(aside.with_name(aside.name + suffix))
    detail = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    detail = detail[:200]
    log.error("%s: %s is damaged (%s); moved aside to %s and started with an empty file. "
              "Nothing was deleted: inspect or remove %s by hand.", what, path, detail,
              aside, aside)
    return SetAside(what, path, aside, detail, now)


@dataclass
class DataFiles:
    """Opens the agent's data files; remembers what it had to set aside (for the events)."""

    set_aside: list[SetAside] = field(default_factory=list)

    def open(self, path: Path, opener: Callable[[Path], T], what: str,
             errors: tuple[type[BaseException], ...] = CORRUPTION) -> T:
        """`opener(path)`; if it fails as a damaged file would, move it aside and open anew."""
        secure_dir(path.parent)
        try:
            obj = opener(path)
        except errors as exc:
            self.set_aside.append(move_aside(path, what, exc))
            obj = opener(path)  # a second failure is not the file's fault: let it raise
        secure_file(path)
        return obj

    def events(self) -> list[Event]:
        """The events of files set aside since the last call."""
        out = [s.event() for s in self.set_aside]
        self.set_aside.clear()
        return out
