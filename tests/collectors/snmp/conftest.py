"""Real SNMP agents for the collector tests: snmpsim serving recordings, net-snmp snmpd for v3/IPv6.

`start_snmpsim(data_dir, workdir)` is a factory other SNMP tests reuse with their own data dir
(the simulated campus). Every server runs on a free loopback port, once per session.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
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
    auth_protocol: str  # config.credentials.SnmpAuthProtocol value
    auth_key: str
    priv_protocol: str
    priv_key: str


SNMPD_USERS = (
    V3User("shaaes", "SHA", "auth-sha-secret", "AES", "priv-aes-secret"),
    V3User("sha256aes", "SHA256", "auth-sha256-secret", "AES", "priv-aes256u-secret"),
)
_NETSNMP_AUTH = {"SHA": "SHA", "SHA256": "SHA-256"}


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
        lines.append(f'createUser {u.user} {_NETSNMP_AUTH[u.auth_protocol]} "{u.auth_key}" '
                     f'{u.priv_protocol} "{u.priv_key}"')
        lines.append(f"rouser {u.user} priv")
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
