"""The configuration repository: git (the CLI) under the data dir, one file per device, one
commit per change. Everything here blocks; the poller calls it from its worker threads.

Several worker threads (and several plugin instances on one data dir) commit into one work
tree, and git's index allows one writer: a lock per repository path serialises them. A commit
names only its device's file (`git commit -- path`), so a file staged by another thread is never
swept into it. A diff is read as a stream and only its hunk headers are kept, so a 10 MB first
backup is never loaded whole.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()
_SAFE = re.compile(r"[^\w.-]")  # letters of any script (building names in Chinese) stay
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@ ?(.*)$")
MAX_SECTIONS = 6
_MAX_DIFF_LINES = 200_000  # summary only: a bigger change is summarised from its first part


class RepoError(Exception):
    """git failed (message: the command and git's own first line, never file content)."""


def _lock_for(path: Path) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(str(path.resolve()), threading.Lock())


def device_file(device: str) -> str:
    """A device id → a file name that is safe on every file system and stable. An id that
    needed changing gets a short hash of itself, so `a/b` and `a_b` stay two files."""
    safe = _SAFE.sub("_", device)[:100]
    if safe != device or safe.startswith("."):
        safe = f"{safe}-{hashlib.sha256(device.encode()).hexdigest()[:8]}"
    return f"devices/{safe}.cfg"


@dataclass(frozen=True, slots=True)
class Change:
    commit: str
    added: int
    removed: int
    sections: tuple[str, ...]  # top-level configuration lines the change falls under
    more_sections: int  # sections beyond MAX_SECTIONS
    first: bool  # the device's first backup

    def summary(self) -> str:
        if self.first:
            return f"first backup ({self.added} lines)"
        where = ", ".join(self.sections)
        if self.more_sections:
            where += f" and {self.more_sections} more"
        return f"+{self.added} -{self.removed}" + (f": {where}" if where else "")


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    commit: str
    time: str
    subject: str


class ConfigRepo:
    def __init__(self, path: Path, *, remote: str | None = None, branch: str = "main",
                 timeout_s: float = 60.0) -> None:
        self.path = path
        self.remote = remote
        self.branch = branch
        self.timeout_s = timeout_s
        self.git = shutil.which("git")
        self._lock = _lock_for(path)

    # ------------------------------------------------------------------ plumbing
    def _env(self) -> dict[str, str]:
        # no user or system git config leaks in (hooks, signing, pagers, templates)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0",
                   LC_ALL="C")
        return env

    def _argv(self, *args: str) -> list[str]:
        if self.git is None:
            raise RepoError("git is not installed (Debian package 'git')")
        return [self.git, "-C", str(self.path), "-c", "core.hooksPath=/dev/null",
                "-c", "commit.gpgsign=false", "-c", "core.quotepath=false",
                "-c", "user.name=campusmon", "-c", "user.email=campusmon@localhost", *args]

    def run(self, *args: str, check: bool = True) -> str:
        try:
            res = subprocess.run(self._argv(*args), capture_output=True, text=True,
                                 env=self._env(), timeout=self.timeout_s, errors="replace")
        except subprocess.TimeoutExpired:
            raise RepoError(f"git {args[0]}: no answer within {self.timeout_s}s") from None
        if check and res.returncode != 0:
            first = (res.stderr.strip().splitlines() or ["(no message)"])[0][:200]
            raise RepoError(f"git {args[0]} failed: {first}")
        return res.stdout

    def _stream(self, *args: str) -> Iterator[str]:
        proc = subprocess.Popen(self._argv(*args), stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, errors="replace",
                                env=self._env())
        assert proc.stdout is not None
        try:
            yield from proc.stdout
        finally:
            proc.stdout.close()
            proc.kill()
            proc.wait()

    def ensure(self) -> None:
        """Create the repository on first use (0700: configurations are sensitive even
        masked)."""
        if (self.path / ".git").is_dir():
            return
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path.chmod(0o700)
        self.run("init", "-q", "-b", self.branch)
        (self.path / "README").write_text(
            "Running configurations backed up by campusmon (config_backup).\n"
            "One file per device under devices/; secrets are masked as <secret:HMAC>.\n",
            encoding="utf-8")
        self.run("add", "README")
        self.run("commit", "-q", "-m", "configuration repository", "--", "README")

    # ------------------------------------------------------------------ writing
    def incoming(self, device: str) -> Path:
        """Where a device's new output is written before it is judged (outside the work
        tree, so git never sees a half-written file)."""
        return self.path.parent / f"{self.path.name}.incoming" / \
            Path(device_file(device)).name

    def store(self, device: str, new: Path, *, trigger: str, platform: str,
              when: datetime | None = None) -> Change | None:
        """Move `new` into place and commit it; None when it equals the stored one."""
        rel = device_file(device)
        dest = self.path / rel
        with self._lock:
            self.ensure()
            if dest.exists() and _same(dest, new):
                new.unlink()
                if not self.run("status", "--porcelain", "--", rel).strip():
                    return None
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(new, dest)
            first = not self.run("ls-files", "--", rel).strip()
            self.run("add", "--", rel)
            added, removed = self._numstat(rel)
            sections: list[str] = []
            more = 0
            if not first:
                sections, more = self._sections(rel)
            change = Change("", added, removed, tuple(sections), more, first)
            stamp = (when or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            message = (f"{device}: {change.summary()}\n\n"
                       f"device: {device}\ntime: {stamp}\ntrigger: {trigger}\n"
                       f"platform: {platform}\n")
            self.run("commit", "-q", "--no-verify", "-m", message, "--", rel)
            sha = self.run("rev-parse", "HEAD").strip()
        return Change(sha, added, removed, tuple(sections), more, first)

    def _numstat(self, rel: str) -> tuple[int, int]:
        out = self.run("diff", "--cached", "--numstat", "--", rel).split()
        if len(out) >= 2 and out[0].isdigit() and out[1].isdigit():
            return int(out[0]), int(out[1])
        return 0, 0

    def _sections(self, rel: str) -> tuple[list[str], int]:
        """The top-level lines the change falls under: for each hunk, git's own hunk heading
        (the nearest line above it starting at column 0, which in every CLI configuration is
        a section such as `interface Vlanif10` or `vlan 20`), or a changed top-level line."""
        seen: list[str] = []
        more = 0

        def note(section: str) -> None:
            nonlocal more
            section = " ".join(section.split())[:60]
            if not section or section in seen:
                return
            if len(seen) < MAX_SECTIONS:
                seen.append(section)
            else:
                more += 1

        heading = ""
        top_in_hunk = False
        for n, line in enumerate(self._stream("diff", "--cached", "-U0", "--no-color",
                                              "--no-ext-diff", "--", rel)):
            if n > _MAX_DIFF_LINES:
                break
            m = _HUNK.match(line)
            if m:
                if heading and not top_in_hunk:
                    note(heading)
                heading, top_in_hunk = m.group(1).strip(), False
                continue
            if line[:1] in "+-" and not line.startswith(("+++", "---")):
                body = line[1:].rstrip("\n")
                if body and not body[0].isspace() and body[0] not in "#!$":
                    note(body)
                    top_in_hunk = True
                elif body and body[0] not in "#!$" and not top_in_hunk and heading:
                    note(heading)
                    top_in_hunk = True
        if heading and not top_in_hunk:
            note(heading)
        return seen, more

    def push(self) -> None:
        if self.remote:
            with self._lock:
                self.run("push", "-q", self.remote, f"HEAD:{self.branch}")

    # ------------------------------------------------------------------ reading
    def history(self, device: str, limit: int = 50) -> list[HistoryEntry]:
        rel = device_file(device)
        if not (self.path / ".git").is_dir():
            return []
        out = self.run("log", f"-n{limit}", "--format=%H%x09%cI%x09%s", "--", rel)
        entries = []
        for line in out.splitlines():
            sha, _, rest = line.partition("\t")
            time, _, subject = rest.partition("\t")
            entries.append(HistoryEntry(sha, time, subject))
        return entries

    def show(self, device: str, rev: str = "HEAD") -> Iterator[str]:
        _check_rev(rev)
        return self._stream("show", f"{rev}:{device_file(device)}")

    def diff(self, device: str, revs: Sequence[str]) -> Iterator[str]:
        for r in revs:
            _check_rev(r)
        if not revs:
            revs = ("HEAD~1", "HEAD")
            entries = self.history(device, 2)
            if len(entries) == 2:
                revs = (entries[1].commit, entries[0].commit)
        elif len(revs) == 1:
            revs = (revs[0], "HEAD")
        return self._stream("diff", "--no-color", "--no-ext-diff", revs[0], revs[1], "--",
                            device_file(device))


def _check_rev(rev: str) -> None:
    # a revision is passed to git as an argument: never let it be an option
    if not rev or rev.startswith("-") or not re.fullmatch(r"[\w.~^/@{}-]+", rev):
        raise RepoError(f"not a revision: {rev!r}")


def _same(a: Path, b: Path) -> bool:
    """Byte equality, read in blocks (a 10 MB file is never loaded whole)."""
    if a.stat().st_size != b.stat().st_size:
        return False
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            x, y = fa.read(1 << 16), fb.read(1 << 16)
            if x != y:
                return False
            if not x:
                return True
