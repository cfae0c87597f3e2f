"""Device output → the stored configuration file, line by line as it arrives.

The output is never held whole: each complete line is checked (volatile? control bytes?),
masked and written to a temporary file next to the repository. Blank lines at the start and
the end are dropped (devices differ in how many they print around the configuration), runs of
blank lines inside are kept as they are. At the end the output is judged: a configuration
must end with its platform's closing line (`return`, `end` …); anything else was cut short or
was not a configuration, and nothing is stored.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from collectors.ssh.backup.platforms import BackupPlatform
from collectors.ssh.backup.secrets import Masker

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HEAD_CHARS = 2048  # kept for the refusal check ("Error: Unrecognized command")


class NotAConfiguration(Exception):
    """The output is not a complete configuration (message says why, without its content)."""


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    lines: int
    size_bytes: int
    secrets_masked: int
    volatile_dropped: int


class ConfigWriter:
    """Feed it text in any pieces; `finish()` judges the output and returns the file."""

    def __init__(self, path: Path, platform: BackupPlatform, masker: Masker) -> None:
        self.path = path
        self.platform = platform
        self.masker = masker
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._f: IO[str] = os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape",
                                     newline="\n")
        self._partial = ""
        self._blank = 0  # blank lines seen since the last written line
        self._last = ""  # last non-blank line written
        self.head = ""
        self.lines = 0
        self.size = 0
        self.masked = 0
        self.dropped = 0
        self.bad_line: int | None = None  # first line with control bytes (1-based)
        self._seen = 0
        self._volatile = platform.volatile_any

    def feed(self, text: str) -> None:
        if len(self.head) < _HEAD_CHARS:
            self.head += text[:_HEAD_CHARS - len(self.head)]
        text = self._partial + text
        lines = text.split("\n")
        self._partial = lines.pop()
        for line in lines:
            self._line(line.rstrip("\r"))

    def _line(self, line: str) -> None:
        self._seen += 1
        if _CONTROL.search(line):
            if self.bad_line is None:
                self.bad_line = self._seen
            return
        if self._volatile.search(line):
            self.dropped += 1
            return
        line = line.rstrip()
        if not line:
            self._blank += 1
            return
        masked, n = self.masker.mask(line)
        self.masked += n
        # blank lines between two written lines are kept, leading ones dropped
        out = ("\n" * self._blank if self.lines else "") + masked + "\n"
        self._blank = 0
        self._f.write(out)
        self.lines += out.count("\n")
        self.size += len(out.encode("utf-8", "surrogateescape"))
        self._last = line

    def finish(self) -> Written:
        if self._partial:
            self._line(self._partial.rstrip("\r"))
            self._partial = ""
        self._f.close()
        if self.bad_line is not None:
            raise NotAConfiguration(
                f"control characters in the output (line {self.bad_line}): not a configuration")
        if not self.lines:
            raise NotAConfiguration("empty output")
        if not self.platform.end.match(self._last):
            raise NotAConfiguration(
                f"output does not end with '{self.platform.end_text}' (cut short, or not a "
                f"configuration); last line has {len(self._last)} characters")
        return Written(self.path, self.lines, self.size, self.masked, self.dropped)

    def discard(self) -> None:
        try:
            self._f.close()
        finally:
            self.path.unlink(missing_ok=True)
