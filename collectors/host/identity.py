"""Host CPU and OS identity for the localization (国产化) audit.

Rules follow docs/standards.md#d-2 (CPUs: x86 vendor_id decides Hygon/Zhaoxin,
arm64 the implementer byte, LoongArch the CPU Family line) and docs/standards.md#d-3 (OS:
/etc/os-release ID).
Each result carries the rule that decided it; nothing decides → domestic = "unknown".
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Identity:
    vendor: str
    model: str
    domestic: str  # "yes" | "no" | "unknown"
    rule: str


def _cpuinfo_fields(text: str) -> dict[str, str]:
    """First value of each key (the first CPU block), keys lower-cased."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        k = key.strip().lower()
        if k and k not in out:
            out[k] = value.strip()
    return out


# arm64 implementer byte → (vendor, domestic); util-linux lscpu-arm.c hw_implementer[]
_ARM_IMPLEMENTERS = {
    "0x48": ("HiSilicon", "yes"),
    "0x70": ("Phytium", "yes"),
    "0x41": ("ARM", "no"),
    "0xc0": ("Ampere", "no"),
    "0x61": ("Apple", "no"),
    "0x51": ("Qualcomm", "no"),
    "0x4e": ("NVIDIA", "no"),
}
_HISI_PARTS = {"0xd01": "Kunpeng-920", "0xd02": "Kunpeng-920", "0xd03": "Kunpeng-920",
               "0xd22": "Kunpeng-920", "0xd06": "Kunpeng-950", "0xd40": "Cortex-A76",
               "0xd41": "Cortex-A77"}
_PHYTIUM_PARTS = {"0x303": "FTC310", "0x660": "FTC660", "0x661": "FTC661", "0x662": "FTC662",
                  "0x663": "FTC663", "0x664": "FTC664", "0x862": "FTC862"}


def classify_cpu(cpuinfo: str, machine: str = "") -> Identity:
    f = _cpuinfo_fields(cpuinfo)
    model = f.get("model name", "")
    vendor_id = f.get("vendor_id")
    if vendor_id is not None:
        if vendor_id == "HygonGenuine":
            return Identity("Hygon", model, "yes", "d.2 x86 vendor_id HygonGenuine")
        if vendor_id.strip() == "Shanghai":
            return Identity("Zhaoxin", model, "yes", "d.2 x86 vendor_id '  Shanghai  '")
        if vendor_id == "CentaurHauls" and "zhaoxin" in model.lower():
            return Identity("Zhaoxin", model, "yes", "d.2 CentaurHauls with ZHAOXIN model name")
        if vendor_id == "GenuineIntel":
            return Identity("Intel", model, "no", "d.2 x86 vendor_id GenuineIntel")
        if vendor_id == "AuthenticAMD":
            return Identity("AMD", model, "no", "d.2 x86 vendor_id AuthenticAMD")
    impl = f.get("cpu implementer", "").lower()
    if impl:
        vendor, domestic = _ARM_IMPLEMENTERS.get(impl, ("", "unknown"))
        part = f.get("cpu part", "").lower()
        if impl == "0x48":
            model = _HISI_PARTS.get(part, model or f"HiSilicon part {part}")
        elif impl == "0x70":
            model = model or _PHYTIUM_PARTS.get(part, f"Phytium part {part}")
        if vendor:
            return Identity(vendor, model, domestic, f"d.2 arm64 CPU implementer {impl}")
        return Identity(f"arm64 implementer {impl}", model, "unknown",
                        "no rule for this arm64 implementer")
    family = f.get("cpu family", "")
    if family.startswith("Loongson") or machine == "loongarch64":
        return Identity("Loongson", f.get("model name", model), "yes",
                        "d.2 LoongArch CPU Family Loongson-64bit")
    if "loongson" in f.get("cpu model", "").lower() or (machine.startswith("mips64") and (
            "loongson" in cpuinfo.lower())):
        return Identity("Loongson", f.get("cpu model", ""), "yes",
                        "d.2 MIPS cpu model Loongson (not verified from kernel source)")
    if machine == "sw_64" or re.search(r"\bSW(3231|831|26010)\b", cpuinfo):
        return Identity("Sunway", model, "yes", "d.2 sw_64 / SW model (low confidence)")
    return Identity("unknown", model, "unknown", "no CPU rule matched")


_OS_RULES: tuple[tuple[str, str, str], ...] = (
    # (os-release ID, vendor name, domestic)
    ("kylin", "Kylin", "yes"),
    ("neokylin", "NeoKylin", "yes"),
    ("openkylin", "openKylin", "yes"),
    ("uos", "UnionTech UOS", "yes"),
    ("deepin", "Deepin", "yes"),
    ("openEuler", "openEuler", "yes"),
    ("euleros", "EulerOS", "yes"),
    ("anolis", "Anolis OS", "yes"),
    ("alinux", "Alibaba Cloud Linux", "yes"),
    ("tencentos", "TencentOS Server", "yes"),
    ("rhel", "Red Hat Enterprise Linux", "no"),
    ("centos", "CentOS", "no"),
    ("rocky", "Rocky Linux", "no"),
    ("almalinux", "AlmaLinux", "no"),
    ("ubuntu", "Ubuntu", "no"),
    ("debian", "Debian", "no"),
    ("sles", "SUSE Linux Enterprise Server", "no"),
)


def parse_os_release(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            out[key] = value.strip().strip('"').strip("'")
    return out


def classify_os(os_release: str, kernel_release: str = "") -> Identity:
    f = parse_os_release(os_release)
    os_id = f.get("ID", "")
    name = f.get("PRETTY_NAME") or f.get("NAME", "")
    for rid, vendor, domestic in _OS_RULES:
        # openEuler's ID is case-sensitive per d.3; the others are lower-case by convention
        if os_id == rid or (rid != "openEuler" and os_id.lower() == rid):
            return Identity(vendor, name, domestic, f"d.3 os-release ID={os_id}")
    if ".ky10." in kernel_release:
        return Identity("Kylin", name, "yes", "d.3 kernel suffix .ky10.")
    if re.search(r"\.an(8|23)\.", kernel_release):
        return Identity("Anolis OS", name, "yes", "d.3 kernel suffix .an8./.an23.")
    return Identity(os_id or "unknown", name, "unknown", "no OS rule matched")
