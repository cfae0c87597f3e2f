"""Host CPU and OS identity for the localization (国产化) audit.

The rules are the vendor catalogue's (agent/shared/platforms.py: docs/standards.md#d-2 for
CPUs — x86 vendor_id decides Hygon/Zhaoxin, arm64 the implementer byte, LoongArch the CPU
Family line — and #d-3 for the OS — /etc/os-release ID, then the kernel release's suffix), the
same the SNMP and SSH server collectors apply, so the agent's own host and a polled server with
the same CPU and OS get the same vendor spelling, domestic flag and rule id. Each result
carries the rule that decided it; nothing decides → vendor and domestic "unknown".
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.shared import platforms


@dataclass(frozen=True, slots=True)
class Identity:
    vendor: str  # a vendor catalogue name (agent/shared/vendors.py), or "unknown"
    model: str
    domestic: str  # "yes" | "no" | "unknown"
    rule: str


def _identity(v: platforms.Verdict) -> Identity:
    return Identity(v.vendor, v.product, v.domestic, v.rule)


def classify_cpu(cpuinfo: str, machine: str = "") -> Identity:
    """/proc/cpuinfo of this host and its `uname -m`."""
    return _identity(platforms.cpu_from_cpuinfo(cpuinfo, machine))


def classify_os(os_release: str, kernel_release: str = "") -> Identity:
    """/etc/os-release of this host and its kernel release."""
    return _identity(platforms.os_from_release(os_release, kernel_release))
