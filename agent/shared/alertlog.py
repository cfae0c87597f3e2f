"""The local alert log: where it is and how it is written, shared by its writer (the `alertlog`
output) and its reader (`campusmon alerts`).

An append-only JSON-lines file with size-based rotation (`alerts.jsonl`, `.1` … `.N`), one
`Event.to_json_dict()` per line plus `logged_at`.

Bounded: at most (backups + 1) × max_bytes on disk. Written from a worker thread; each batch
is one write + flush (+ fsync when asked), so a crash loses at most the batch in flight, which
the disk queue still holds (it is only acknowledged after `append` returns).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from pydantic import Field

from config.base import StrictModel


class AlertLogConfig(StrictModel):
    """The `alertlog` output's options: they also tell a reader where the log is."""

    path: str = "alerts/alerts.jsonl"  # relative to the agent's data_dir
    max_megabytes: float = Field(default=16.0, gt=0)
    backups: int = Field(default=5, ge=0)
    fsync: bool = False
    only_alerts: bool = True  # False: also the raw events the alerts were derived from

    def log(self, data_dir: Path) -> RotatingJsonLines:
        path = Path(self.path)
        return RotatingJsonLines(path if path.is_absolute() else data_dir / path,
                                 int(self.max_megabytes * 2**20), self.backups, self.fsync)


class RotatingJsonLines:
    def __init__(self, path: Path, max_bytes: int, backups: int, fsync: bool = False) -> None:
        self.path, self.max_bytes, self.backups, self.fsync = path, max_bytes, backups, fsync
        path.parent.mkdir(parents=True, exist_ok=True)

    def _rotate(self) -> None:
        for i in range(self.backups, 0, -1):
            src = self.path if i == 1 else self.path.with_name(f"{self.path.name}.{i - 1}")
            if src.exists():
                os.replace(src, self.path.with_name(f"{self.path.name}.{i}"))
        if self.backups == 0:
            self.path.unlink(missing_ok=True)

    def append(self, records: Sequence[dict[str, object]]) -> None:
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
        size = self.path.stat().st_size if self.path.exists() else 0
        if size and size + len(data) > self.max_bytes:
            self._rotate()
        with self.path.open("ab") as f:
            f.write(data)
            f.flush()
            if self.fsync:
                os.fsync(f.fileno())

    def files(self) -> list[Path]:
        """Newest first."""
        names = [self.path, *(self.path.with_name(f"{self.path.name}.{i}")
                              for i in range(1, self.backups + 1))]
        return [p for p in names if p.exists()]

    def read(self) -> Iterator[dict[str, object]]:
        """Oldest first."""
        for p in reversed(self.files()):
            with p.open(encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        yield json.loads(line)
