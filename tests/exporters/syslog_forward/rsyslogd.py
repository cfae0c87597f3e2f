"""A real rsyslogd (Debian `rsyslog`) as the central log receiver: started by the test on a
free loopback port with its own config and unprivileged paths (no /dev/log, no /var), writing
every message it takes (`%rawmsg%`) to one file. Restartable on the same port."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.servers import ServerProcess, free_port, require_binary, wait_tcp


@dataclass
class Rsyslog:
    server: ServerProcess
    host: str
    port: int
    out: Path

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start()

    def lines(self) -> list[str]:
        if not self.out.exists():
            return []
        return self.out.read_text(encoding="utf-8", errors="replace").splitlines()


def start_rsyslog(workdir: Path, host: str = "127.0.0.1") -> Rsyslog:
    binary = require_binary("rsyslogd")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "spool").mkdir(exist_ok=True)
    port = free_port(host)
    out = workdir / "received.log"
    conf = workdir / "rsyslog.conf"
    conf.write_text(f"""
global(workDirectory="{workdir / 'spool'}" maxMessageSize="64k")
module(load="imtcp" MaxSessions="200")
template(name="raw" type="string" string="%rawmsg%\\n")
input(type="imtcp" address="{host}" port="{port}")
*.* action(type="omfile" file="{out}" template="raw" flushOnTXEnd="on")
""", encoding="utf-8")
    proc = ServerProcess(
        [binary, "-n", "-f", str(conf), "-i", str(workdir / "rsyslogd.pid")],
        lambda: wait_tcp(host, port), workdir / "rsyslogd.log")
    proc.start()
    return Rsyslog(proc, host, port, out)
