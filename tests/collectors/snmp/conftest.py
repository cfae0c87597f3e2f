"""Real SNMP agents for the collector tests: snmpsim serving recordings, net-snmp snmpd for v3/IPv6.

`start_snmpsim(data_dir, workdir)` is a factory other SNMP tests reuse with their own data dir
(the simulated campus). Every server runs on a free loopback port, once per session.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import (
    ServerProcess,
    free_port,
    require_binary,
    shared_dir,
    snmpsim_binary,
    snmpsim_privilege_args,
)

SNMPREC_SUBDIR = Path("fixtures") / "snmprec"


def wait_snmp(host: str, port: int, community: str, timeout: float = 30.0,
              v3_args: list[str] | None = None) -> None:
    """Poll sysUpTime-or-anything with snmpgetnext until the agent answers."""
    snmpgetnext = require_binary("snmpgetnext")
    addr = f"udp6:[{host}]:{port}" if ":" in host else f"udp:{host}:{port}"
    auth = v3_args if v3_args is not None else ["-v2c", "-c", community]
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        proc = subprocess.run(
            [snmpgetnext, *auth, "-r0", "-t1", "-On", addr, "1.3.6.1"],
            capture_output=True, text=True, check=False, timeout=10)
        if proc.returncode == 0 and proc.stdout.strip():
            return
        last = proc.stderr.strip()
        time.sleep(0.2)
    raise TimeoutError(f"no SNMP answer from {addr} after {timeout}s: {last}")


@dataclass
class SnmpAgent:
    host: str
    port: int
    server: ServerProcess
    scratch: Path | None = None  # removed on stop

    def stop(self) -> None:
        self.server.stop()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def start_snmpsim(data_dir: Path, workdir: Path, probe_community: str,
                  host: str = "127.0.0.1", extra_args: list[str] | None = None) -> SnmpAgent:
    """snmpsim over `data_dir` (must be readable by nobody when run as root).

    `probe_community` names one recording in `data_dir`, used to wait for readiness.
    """
    binary = snmpsim_binary()
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port(host, kind=2)  # SOCK_DGRAM
    endpoint = (f"--agent-udpv6-endpoint=[{host}]:{port}" if ":" in host
                else f"--agent-udpv4-endpoint={host}:{port}")
    # pytest's tmp dirs are 0700: after dropping root, snmpsim could not reach a cache there.
    scratch = Path(tempfile.mkdtemp(prefix="campusmon-snmpsim-"))
    scratch.chmod(0o755)
    argv = [binary, *snmpsim_privilege_args(scratch / "cache"), *(extra_args or []),
            f"--data-dir={data_dir}", endpoint]
    server = ServerProcess(argv, lambda: wait_snmp(host, port, probe_community),
                           workdir / "snmpsim.log")
    try:
        server.start()
    except Exception:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return SnmpAgent(host, port, server, scratch)


def fixtures_dir() -> Path:
    return shared_dir() / SNMPREC_SUBDIR


@pytest.fixture(scope="session")
def snmpsim_fixtures(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpAgent]:
    """snmpsim serving every recording in ../shared/fixtures/snmprec (community = file stem)."""
    agent = start_snmpsim(fixtures_dir(), tmp_path_factory.mktemp("snmpsim"), "bison")
    yield agent
    agent.stop()


@dataclass(frozen=True)
class V3User:
    user: str
    auth_protocol: str  # config.credentials.SnmpAuthProtocol value ("" = noAuthNoPriv)
    auth_key: str
    priv_protocol: str  # config.credentials.SnmpPrivProtocol value ("" = no privacy)
    priv_key: str
    aes_key_extension: str = "reeder"  # for AES192/AES256: reeder | blumenthal

    @property
    def level(self) -> str:
        return "priv" if self.priv_protocol else "auth" if self.auth_protocol else "noauth"

    def netsnmp_line(self) -> str:
        auth = {"SHA224": "SHA-224", "SHA256": "SHA-256", "SHA384": "SHA-384",
                "SHA512": "SHA-512"}.get(self.auth_protocol, self.auth_protocol)
        priv = self.priv_protocol
        if priv in ("AES192", "AES256") and self.aes_key_extension == "reeder":
            priv += "C"  # net-snmp's name for the Cisco (Reeder) key extension
        parts = [f"createUser {self.user}"]
        if auth:
            parts.append(f'{auth} "{self.auth_key}"')
        if priv:
            parts.append(f'{priv} "{self.priv_key}"')
        return " ".join(parts)


SNMPD_USERS = (
    V3User("shaaes", "SHA", "auth-sha-secret", "AES", "priv-aes-secret"),
    V3User("sha256aes", "SHA256", "auth-sha256-secret", "AES", "priv-aes256u-secret"),
    # Every USM protocol and all three security levels.
    V3User("md5des", "MD5", "auth-md5-secret", "DES", "priv-des-secret"),
    V3User("sha224aes", "SHA224", "auth-sha224-secret", "AES", "priv-aes-secret"),
    V3User("sha384aes", "SHA384", "auth-sha384-secret", "AES", "priv-aes-secret"),
    V3User("sha512aes", "SHA512", "auth-sha512-secret", "AES", "priv-aes-secret"),
    V3User("aes192r", "SHA", "auth-sha-secret", "AES192", "priv-aes192-secret"),
    V3User("aes256r", "SHA256", "auth-sha256-secret", "AES256", "priv-aes256-secret"),
    V3User("aes192b", "SHA", "auth-sha-secret", "AES192", "priv-aes192-secret",
           "blumenthal"),
    V3User("aes256b", "SHA512", "auth-sha512-secret", "AES256", "priv-aes256-secret",
           "blumenthal"),
    V3User("authonly", "SHA256", "auth-only-secret", "", ""),
    V3User("noauth", "", "", "", ""),
)


@dataclass
class Snmpd:
    port: int  # the same port on 127.0.0.1 and [::1]
    community: str
    users: tuple[V3User, ...]
    server: ServerProcess

    def stop(self) -> None:
        self.server.stop()


def start_snmpd(workdir: Path) -> Snmpd:
    """net-snmp snmpd in the foreground on udp 127.0.0.1 and udp6 [::1], v2c and v3 users."""
    binary = require_binary("snmpd")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port("127.0.0.1", kind=2)
    community = "campus-ro"
    lines = [f"agentAddress udp:127.0.0.1:{port},udp6:[::1]:{port}",
             f"rocommunity {community} 127.0.0.1", f"rocommunity6 {community} ::1",
             "sysName campus-test-core", "sysLocation test rack"]
    for u in SNMPD_USERS:
        lines.append(u.netsnmp_line())
        lines.append(f"rouser {u.user} {u.level}")
    conf = workdir / "snmpd.conf"
    conf.write_text("\n".join(lines) + "\n")
    env = {"SNMP_PERSISTENT_DIR": str(workdir / "persist"), "PATH": "/usr/sbin:/usr/bin"}
    server = ServerProcess(
        [binary, "-f", "-C", "-c", str(conf), "-Lf", str(workdir / "snmpd.log"),
         "-p", str(workdir / "snmpd.pid")],
        lambda: wait_snmp("127.0.0.1", port, community), workdir / "snmpd.out", env=env)
    server.start()
    return Snmpd(port, community, SNMPD_USERS, server)


@pytest.fixture(scope="session")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snmpd]:
    agent = start_snmpd(tmp_path_factory.mktemp("snmpd"))
    yield agent
    agent.stop()


Mangle = Callable[[bytes, random.Random], list[bytes]]


class UdpRelay(asyncio.DatagramProtocol):
    """A loopback UDP relay in front of an agent: counts requests in flight, may delay replies
    and mangle them (`mangle(real_reply, rnd) -> datagrams to send instead`)."""

    def __init__(self, upstream: tuple[str, int], mangle: Mangle | None = None,
                 delay_s: float = 0.0, seed: int = 0) -> None:
        self.upstream = upstream
        self.mangle = mangle
        self.delay_s = delay_s
        self.rnd = random.Random(seed)
        self.transport: asyncio.DatagramTransport | None = None
        self.replies = 0
        self.inflight = 0
        self.max_inflight = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        asyncio.get_running_loop().create_task(self._relay(data, addr))

    async def _relay(self, data: bytes, client: tuple[str, int]) -> None:
        self.inflight += 1
        self.max_inflight = max(self.max_inflight, self.inflight)
        try:
            real = await self._ask_upstream(data)
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
        finally:
            self.inflight -= 1
        if real is None or self.transport is None:
            return
        for out in self.mangle(real, self.rnd) if self.mangle else [real]:
            self.transport.sendto(out, client)
            self.replies += 1

    async def _ask_upstream(self, data: bytes) -> bytes | None:
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[bytes] = loop.create_future()

        class Once(asyncio.DatagramProtocol):
            def datagram_received(self, d: bytes, a: tuple[str, int]) -> None:
                if not reply.done():
                    reply.set_result(d)

        up, _ = await loop.create_datagram_endpoint(Once, remote_addr=self.upstream)
        try:
            up.sendto(data)
            return await asyncio.wait_for(reply, 2.0)
        except TimeoutError:
            return None
        finally:
            up.close()


async def start_relay(upstream: tuple[str, int], **kw: object
                      ) -> tuple[asyncio.DatagramTransport, UdpRelay, int]:
    loop = asyncio.get_running_loop()
    transport, relay = await loop.create_datagram_endpoint(
        lambda: UdpRelay(upstream, **kw),  # type: ignore[arg-type]
        local_addr=("127.0.0.1", 0))
    return transport, relay, transport.get_extra_info("sockname")[1]
