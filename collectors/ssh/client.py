"""netmiko sessions: the only module importing netmiko (and paramiko, for its exceptions).

netmiko (with paramiko and cryptography) takes seconds to import, so it is imported on the first
login, in the worker thread, not when the agent starts. Everything here blocks and runs in a
worker thread. `abort()` is the one method called from
the event loop: it cuts the session so a thread stuck reading a hung device ends at its next
read instead of at netmiko's read timeout.
"""

from __future__ import annotations

import base64
import contextlib
import enum
import hashlib
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.core.errors import CollectError
from agent.core.model import ErrorType

log = logging.getLogger("campusmon.ssh")

# pagers: VRP/Comware "  ---- More ----", IOS/RGOS " --More-- "
_MORE = r"-{2,}\s*More\s*-{2,}"


class HostKeyCheck(enum.StrEnum):
    """How a device's SSH host key is verified, before any password or key is offered."""

    TOFU = "tofu"  # trust on first use: remembered in known_hosts_file; a changed key refused
    STRICT = "strict"  # only keys already in known_hosts_file (pre-loaded); unknown refused
    INSECURE = "insecure"  # no check at all: an impostor at the address gets the password


class HostKeyChanged(CollectError):
    """The device offered a host key other than the one trusted for it: login refused."""

    def __init__(self, message: str, *, host: str, expected: str, offered: str) -> None:
        super().__init__(ErrorType.AUTH, message)
        self.host = host
        self.expected = expected
        self.offered = offered


def fingerprint(key: Any) -> str:
    """OpenSSH-style SHA256 fingerprint of a paramiko key."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


# TOFU files are shared by every session (threads): appends and re-reads under one lock.
# With no file (SessionParams built outside the agent), keys are remembered for the process.
_TOFU_LOCK = threading.Lock()
_TOFU_MEMORY: dict[str, tuple[str, str]] = {}  # host name -> (key type, base64)


def _tofu_policy(known_hosts: str | None) -> Any:
    import paramiko

    class TofuPolicy(paramiko.MissingHostKeyPolicy):
        """Called only for a host paramiko found no key for in the file it loaded; the file
        is read again under the lock (another session may have just added this host)."""

        def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
            with _TOFU_LOCK:
                known = self._known(hostname)
                if known is not None:
                    ktype, b64 = known
                    if ktype == key.get_name() and b64 == key.get_base64():
                        return
                    old = paramiko.PKey.from_type_string(ktype, base64.b64decode(b64))
                    raise paramiko.BadHostKeyException(hostname, key, old)
                self._remember(hostname, key)
            client.get_host_keys().add(hostname, key.get_name(), key)
            log.info("%s: SSH host key %s trusted on first use (%s)", hostname,
                     fingerprint(key), known_hosts or "remembered until restart")

        def _known(self, hostname: str) -> tuple[str, str] | None:
            if known_hosts is None:
                return _TOFU_MEMORY.get(hostname)
            if not os.path.exists(known_hosts):
                return None
            keys = paramiko.HostKeys(known_hosts).lookup(hostname)
            if not keys:
                return None
            ktype, k = next(iter(keys.items()))
            return ktype, k.get_base64()

        def _remember(self, hostname: str, key: Any) -> None:
            if known_hosts is None:
                _TOFU_MEMORY[hostname] = (key.get_name(), key.get_base64())
                return
            path = Path(known_hosts)
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as f:
                f.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")

    return TofuPolicy()


@dataclass(frozen=True, slots=True)
class SessionParams:
    name: str  # target id, for messages
    device_type: str
    host: str
    port: int
    username: str
    password: str | None = None
    key_file: str | None = None
    passphrase: str | None = None
    secret: str | None = None  # enable secret
    uses_enable: bool = False  # the platform has an IOS-like privileged EXEC level
    timeout_s: float = 8.0  # the whole session: login and commands
    known_hosts_file: str | None = None
    host_key_check: HostKeyCheck = HostKeyCheck.TOFU

    def __repr__(self) -> str:  # never the password, passphrase or enable secret
        return (f"SessionParams(name={self.name!r}, device_type={self.device_type!r}, "
                f"host={self.host!r}, port={self.port}, username={self.username!r}, "
                f"host_key_check={self.host_key_check.value!r})")

    def netmiko_kwargs(self) -> dict[str, Any]:
        # Each phase of the login gets a share of the session budget; commands get whatever
        # the login left (see CliSession.run).
        t = self.timeout_s
        kw: dict[str, Any] = {
            "device_type": self.device_type, "host": self.host, "port": self.port,
            "username": self.username, "password": self.password or "",
            "secret": self.secret or "",
            "conn_timeout": max(0.5, t * 0.3), "auth_timeout": max(0.5, t * 0.3),
            "banner_timeout": max(0.5, t * 0.3), "blocking_timeout": max(0.5, t * 0.5),
            "read_timeout_override": max(0.5, t * 0.6), "session_timeout": max(1.0, t),
            "fast_cli": True, "allow_agent": False, "auto_connect": False,
        }
        if self.key_file:
            kw.update(use_keys=True, key_file=self.key_file, passphrase=self.passphrase)
        # the user's ~/.ssh/known_hosts is never read: the agent's trust is its own file
        kw.update(system_host_keys=False, ssh_strict=self.host_key_check is HostKeyCheck.STRICT)
        if self.known_hosts_file and self.host_key_check is not HostKeyCheck.INSECURE:
            # loaded when it exists: paramiko itself refuses a key that differs from it
            kw.update(alt_host_keys=True, alt_key_file=self.known_hosts_file)
        return kw


class CliSession:
    """One SSH session to one device, reused for every command of a poll."""

    def __init__(self, params: SessionParams) -> None:
        self.params = params
        self._conn: Any = None
        self._aborted = threading.Event()
        self.privileged = False
        self.deadline = 0.0
        self._prompt = ""
        self.hostname = ""

    def _fail(self, error_type: ErrorType, what: str) -> CollectError:
        return CollectError(error_type, f"{self.params.name}: {what}")

    def open(self) -> None:
        p = self.params
        self.deadline = time.monotonic() + p.timeout_s
        try:
            from netmiko import ConnectHandler  # deferred: see the module docstring

            self._conn = ConnectHandler(**p.netmiko_kwargs())
            if p.host_key_check is HostKeyCheck.TOFU:
                self._conn.key_policy = _tofu_policy(p.known_hosts_file)
            elif p.host_key_check is HostKeyCheck.STRICT and not p.known_hosts_file:
                raise self._fail(ErrorType.AUTH, "host_key_check strict needs known_hosts_file")
            self._check_aborted()
            # auto_connect=False + _open(): the object exists before the login starts, so
            # abort() can cut a login that hangs in session preparation
            self._conn._open()  # TCP, SSH, login, prompt, paging off (per device type)
            self._check_aborted()
            # the override bounded every read of the login; commands instead get what is left
            # of the session budget (CliSession.run)
            self._conn.read_timeout_override = None
            if p.uses_enable:
                if p.secret and not self._conn.check_enable_mode():
                    self._conn.enable()
                self.privileged = bool(self._conn.check_enable_mode())
            else:  # user view is where display commands belong
                self.privileged = True
            self._prompt = str(self._conn.find_prompt())  # after enable: "Switch#"
            # the prompt without its decoration is the device's configured name (sysname)
            self.hostname = str(self._conn.base_prompt or "")
        except CollectError:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise self._translate(exc, "login") from None

    def run(self, command: str) -> str:
        """Send one command; the read may take whatever is left of the session budget."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0.1:
            raise self._fail(ErrorType.TIMEOUT, f"{command}: session time used up")
        # End of output = the prompt or a pager prompt, at the very end of what arrived: a
        # model line such as "HUAWEI NE40E uptime is" must not end the read early.
        end = rf"(?:{re.escape(self._prompt)}|{_MORE})\s*$"
        try:
            self._check_aborted()
            out = str(self._conn.send_command(command, expect_string=end, read_timeout=remaining,
                                              strip_prompt=True, strip_command=True))
            if re.search(rf"{_MORE}\s*$", out):
                # the device kept its pager on (the account may not run the paging-off
                # command): leave the pager so the session stays usable, and say so
                self._conn.write_channel("q")
                self._conn.read_until_pattern(pattern=re.escape(self._prompt),
                                              read_timeout=max(0.5, min(2.0, remaining)))
                raise self._fail(ErrorType.PROTOCOL, f"{command}: output is paged ('More'); "
                                 "the account could not turn paging off")
        except CollectError:
            raise
        except Exception as exc:
            raise self._translate(exc, command) from None
        return out

    def stream(self, command: str, on_text: Callable[[str], None], *,
               max_line: int = 1 << 16) -> None:
        """Send one command and hand its output to `on_text` in whole lines as they arrive,
        never holding it whole (a 10 MB configuration). The echo of the command and the
        closing prompt are not passed on; the read may take what is left of the session
        budget. A line longer than `max_line` is passed on in pieces (bounded memory)."""
        conn = self._conn
        prompt = self._prompt.strip()
        more = re.compile(rf"{_MORE}\s*$")
        try:
            self._check_aborted()
            conn.write_channel(command + conn.RETURN)
            pending, echoed, idle = "", False, 0.01
            while True:
                self._check_aborted()
                if time.monotonic() >= self.deadline:
                    raise self._fail(ErrorType.TIMEOUT, f"{command}: no prompt within the "
                                     "session budget (output stopped or never ended)")
                data = str(conn.read_channel())
                if not data:
                    time.sleep(idle)
                    idle = min(idle * 2, 0.02)
                    continue
                idle = 0.01
                pending += data
                if not echoed:
                    # the device echoes the command line first, possibly after what was left
                    # of the previous prompt: skip to the end of the echoed line
                    at = pending.find(command)
                    nl = pending.find("\n", at) if at >= 0 else -1
                    if nl < 0:
                        if len(pending) > max_line:
                            raise self._fail(ErrorType.PROTOCOL, f"{command}: no echo")
                        continue
                    pending, echoed = pending[nl + 1:], True
                cut = pending.rfind("\n")
                if cut >= 0:
                    on_text(pending[:cut + 1])
                    pending = pending[cut + 1:]
                if pending.strip() == prompt:
                    return
                if more.search(pending):
                    conn.write_channel("q")
                    raise self._fail(ErrorType.PROTOCOL, f"{command}: output is paged "
                                     "('More'); the account could not turn paging off")
                if len(pending) > max_line:
                    on_text(pending)
                    pending = ""
        except CollectError:
            raise
        except Exception as exc:
            raise self._translate(exc, command) from None

    def abort(self) -> None:
        """Thread-safe: make the worker's next read fail and drop the TCP connection."""
        self._aborted.set()
        conn = self._conn
        channel = getattr(conn, "channel", None)
        if channel is not None and hasattr(channel, "remote_conn"):
            channel.remote_conn = None  # netmiko: "Attempt to read, but there is no channel"
        pre = getattr(conn, "remote_conn_pre", None)
        if pre is not None:
            # already closed or half-open: nothing left to free
            with contextlib.suppress(Exception):
                pre.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if not self._aborted.is_set():
                conn.disconnect()  # polite logout: frees the device's VTY line
            else:
                conn.paramiko_cleanup()
        except Exception:  # the session is going away either way
            pass

    def _check_aborted(self) -> None:
        if self._aborted.is_set():
            raise self._fail(ErrorType.TIMEOUT, "session aborted (tick timeout)")

    def _translate(self, exc: BaseException, what: str) -> CollectError:
        """netmiko/paramiko/socket exceptions → typed errors (by type where one exists)."""
        import paramiko
        from netmiko.exceptions import (
            NetmikoAuthenticationException,
            NetmikoTimeoutException,
            ReadException,
            ReadTimeout,
        )

        if self._aborted.is_set():
            return self._fail(ErrorType.TIMEOUT, f"{what}: aborted (tick timeout)")
        if isinstance(exc, NetmikoAuthenticationException | paramiko.AuthenticationException):
            return self._fail(ErrorType.AUTH, f"{what}: authentication failed")
        if isinstance(exc, paramiko.BadHostKeyException):
            p = self.params
            expected, offered = fingerprint(exc.expected_key), fingerprint(exc.key)
            where = p.known_hosts_file or "the keys remembered since the agent started"
            return HostKeyChanged(
                f"{p.name}: SSH host key of {p.host}:{p.port} CHANGED (trusted {expected}, "
                f"offered {offered}): login refused, no password or key was sent. A device "
                f"replaced on purpose: delete its line from {where}; otherwise suspect an "
                "impostor at its address", host=f"{p.host}:{p.port}", expected=expected,
                offered=offered)
        if isinstance(exc, ReadTimeout):
            return self._fail(ErrorType.TIMEOUT, f"{what}: no prompt within the read timeout")
        if isinstance(exc, NetmikoTimeoutException | OSError):
            # netmiko wraps socket errors in NetmikoTimeoutException (the cause is the
            # context); paramiko reports one error per address tried
            cause = exc.__context__ if isinstance(exc, NetmikoTimeoutException) else exc
            if isinstance(cause, paramiko.ssh_exception.NoValidConnectionsError):
                causes = list(cause.errors.values())
                cause = causes[0] if causes else cause
            if isinstance(cause, ConnectionRefusedError):
                return self._fail(ErrorType.REFUSED, f"{what}: connection refused")
            if isinstance(cause, socket.gaierror):
                return self._fail(ErrorType.DNS, f"{what}: host name not resolvable")
            if isinstance(cause, OSError) and not isinstance(cause, TimeoutError):
                return self._fail(ErrorType.UNREACHABLE, f"{what}: {cause.strerror or cause}")
            if isinstance(cause, paramiko.SSHException):  # wrapped by netmiko as a "timeout"
                return self._translate(cause, what)
            return self._fail(ErrorType.TIMEOUT, f"{what}: connection timed out")
        if isinstance(exc, paramiko.SSHException):
            if "known_hosts" in str(exc):  # paramiko's RejectPolicy: no type of its own
                return self._fail(ErrorType.AUTH, f"{what}: host key not in known_hosts_file")
            return self._fail(ErrorType.PROTOCOL, f"{what}: SSH error: {type(exc).__name__}")
        if isinstance(exc, ReadException | EOFError):
            return self._fail(ErrorType.PROTOCOL, f"{what}: session closed by the device")
        if isinstance(exc, ValueError):  # netmiko's enable() and prompt detection
            if "enable mode" in str(exc):
                return self._fail(ErrorType.PERMISSION, f"{what}: could not enter privileged "
                                  "mode (wrong or missing enable_secret)")
            return self._fail(ErrorType.PROTOCOL, f"{what}: {str(exc).splitlines()[0][:200]}")
        return self._fail(ErrorType.PROTOCOL, f"{what}: {type(exc).__name__}")
