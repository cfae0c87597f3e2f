"""Linux servers over SSH, for the 国产化 audit: /etc/os-release, /proc/cpuinfo and the running
processes, classified by agent/shared/platforms.py (the catalogue's d.2-d.4 rules) into
`server_platform` rows, each with the rule that decided.

Not TextFSM: these are files and `ps` output whose shape the kernel fixes, read by the same
bounded parsers the host collector's rules use. `dmidecode` needs root and is not run: the CPU
vendor is already in /proc/cpuinfo. A device is read as a Linux server when its inventory kind
is `server` or its options say `platform: linux`.
"""

from __future__ import annotations

from agent.core.model import Metric
from agent.shared import platforms as P
from collectors.ssh.platforms import Command, CommandKind, TemplateSource

SOURCE = "ssh-linux"
MAX_PROCESSES = 4096  # lines of `ps` read: a server runs hundreds, never this many

OS_RELEASE = "linux_os_release"
CPUINFO = "linux_cpuinfo"
PROCESSES = "linux_processes"
# `uname -r` inside the same command: the kernel suffix confirms (d.3) when ID is unknown
LINUX_COMMANDS: tuple[Command, ...] = (
    Command(CommandKind.SERVER, "cat /etc/os-release; echo KERNEL=$(uname -r)",
            TemplateSource.OWN, OS_RELEASE),
    Command(CommandKind.SERVER, "cat /proc/cpuinfo", TemplateSource.OWN, CPUINFO),
    Command(CommandKind.SERVER, "ps -eo comm=,args=", TemplateSource.OWN, PROCESSES),
)


def verdicts(template: str, text: str) -> list[P.Verdict]:
    if template == OS_RELEASE:
        kernel = next((line.partition("=")[2] for line in text[:P.MAX_TEXT].splitlines()
                       if line.startswith("KERNEL=")), "")
        return [P.os_from_release(text, kernel)]
    if template == CPUINFO:
        return [P.cpu_from_cpuinfo(text)]
    procs = []
    for line in text.splitlines()[:MAX_PROCESSES]:
        comm, _, args = line.strip().partition(" ")
        if comm:
            exe = args.strip().split(" ", 1)[0]
            procs.append((comm, exe, args.strip()))
    return P.software_from_processes(procs)


def server_items(template: str, text: str, ts: int) -> list[Metric]:
    return [Metric(P.SERVER_PLATFORM.name, P.verdict_tags(v, SOURCE), {"info": 1}, ts)
            for v in verdicts(template, text)]
