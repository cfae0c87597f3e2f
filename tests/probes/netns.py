"""Network namespaces for probe tests: create/destroy, veth pairs, addresses, processes.

Every name is unique per run (`cm<pid><n>`) so parallel sessions never collide, and `Lab`
deletes what it made even when a test fails. `run_in(ns, fn)` runs a Python function in a
forked child that has joined the namespace (setns), optionally after dropping privileges:
sockets follow the namespace of the process that opens them, so the probes themselves run
inside the client namespace with no extra interpreter start.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import pickle
import select
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLONE_NEWNET = 0x40000000
_counter = itertools.count(1)


def unique(tag: str) -> str:
    return f"cm{os.getpid() % 100000}{next(_counter)}{tag}"


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), check=check, capture_output=True, text=True, timeout=30)


def setns(name: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
    finally:
        os.close(fd)


def drop_privileges(uid: int = 65534, gid: int = 65534) -> None:
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def run_in(ns: str | None, fn: Callable[..., Any], *args: Any, uid: int | None = None,
           prepare: Callable[[], None] | None = None, timeout: float = 60.0) -> Any:
    """fn(*args) in a forked child inside netns `ns` (as `uid` if given, after `prepare()`
    ran with privileges: e.g. imports, since an unprivileged user cannot read the
    interpreter's library under /root); returns its result (pickled through a pipe) or
    re-raises its exception."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        code = 0
        try:
            if ns:
                setns(ns)
            if prepare is not None:
                prepare()
            if uid is not None:
                drop_privileges(uid, uid)
            payload = pickle.dumps(("ok", fn(*args)))
        except BaseException as exc:  # report everything to the parent
            code = 1
            try:
                payload = pickle.dumps(("err", exc))
            except Exception:
                payload = pickle.dumps(("err", RuntimeError(repr(exc))))
        with os.fdopen(w, "wb") as f:
            f.write(payload)
        os._exit(code)
    os.close(w)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                raise TimeoutError(f"{fn.__name__} in {ns} took more than {timeout}s")
            ready, _, _ = select.select([r], [], [], left)
            if not ready:
                continue
            data = os.read(r, 65536)
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    status, value = pickle.loads(b"".join(chunks))
    if status == "err":
        raise value
    return value


@dataclass
class Lab:
    """Namespaces and processes of one test module; `close()` removes them all."""

    namespaces: list[str] = field(default_factory=list)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def ns(self, tag: str) -> str:
        name = unique(tag)
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        sh("ip", "-n", name, "link", "set", "lo", "up")
        for key in ("all", "default"):  # addresses usable at once: no 1-2 s DAD wait
            self.sysctl(name, f"net.ipv6.conf.{key}.accept_dad", "0")
        return name

    def exec(self, ns: str, *argv: str) -> str:
        return sh("ip", "netns", "exec", ns, *argv).stdout

    def sysctl(self, ns: str, key: str, value: str) -> None:
        self.exec(ns, "sysctl", "-q", "-w", f"{key}={value}")

    def veth(self, ns_a: str, if_a: str, ns_b: str, if_b: str) -> None:
        sh("ip", "link", "add", if_a, "netns", ns_a, "type", "veth", "peer", "name", if_b,
           "netns", ns_b)
        sh("ip", "-n", ns_a, "link", "set", if_a, "up")
        sh("ip", "-n", ns_b, "link", "set", if_b, "up")

    def addr(self, ns: str, ifname: str, *cidrs: str) -> None:
        for cidr in cidrs:
            extra = ["nodad"] if ":" in cidr else []  # usable at once, no 1-2 s DAD wait
            sh("ip", "-n", ns, "addr", "add", cidr, "dev", ifname, *extra)

    def bridge(self, ns: str, name: str) -> None:
        sh("ip", "-n", ns, "link", "add", name, "type", "bridge")
        sh("ip", "-n", ns, "link", "set", name, "up")

    def enslave(self, ns: str, ifname: str, bridge: str) -> None:
        sh("ip", "-n", ns, "link", "set", ifname, "master", bridge)

    def mac(self, ns: str, ifname: str, mac: str | None = None) -> str:
        if mac:
            sh("ip", "-n", ns, "link", "set", ifname, "address", mac)
        out = sh("ip", "-n", ns, "-br", "link", "show", ifname).stdout.split()
        return out[2].lower()

    def spawn(self, ns: str, argv: Sequence[str], log: Path,
              env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        with log.open("ab") as f:
            p = subprocess.Popen(["ip", "netns", "exec", ns, *argv], stdout=f,
                                 stderr=subprocess.STDOUT, start_new_session=True, env=env)
        self.procs.append(p)
        return p

    def close(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(p.pid, signal.SIGKILL)
                    p.wait(timeout=5)
        self.procs.clear()
        for name in reversed(self.namespaces):
            sh("ip", "netns", "delete", name, check=False)
        self.namespaces.clear()


def wait_for(check: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.05)
    raise TimeoutError(f"not ready after {timeout}s: {what}")
