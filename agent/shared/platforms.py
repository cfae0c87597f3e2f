"""CPU, OS, database and middleware rules of the vendor catalogue (the 国产化 audit of servers,
terminals and information systems).

Every rule names a vendor of agent/shared/vendors.py (checked at import): the domestic flag
comes from that one catalogue, never from here. Each verdict carries the id of the rule that
decided it; nothing decides → `unknown` (never a guess). Rows cite docs/standards.md: #d-2 CPUs,
#d-3 operating systems, #d-4 databases and middleware, #d-5 terminal fingerprints.

Inputs are what an agentless poll sees: /proc/cpuinfo, lscpu, dmidecode or HOST-RESOURCES
hrDeviceDescr for the CPU; /etc/os-release, the kernel release in sysDescr or hrSWInstalled
package names for the OS; process names, paths and arguments (hrSWRun, `ps`) or HTTP headers
for databases and middleware. All matching is bounded: inputs are cut to MAX_TEXT characters.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from agent.core.catalogue import Measurement, info, tag
from agent.shared.vendors import by_name

MAX_TEXT = 4096  # characters of one input a rule reads (cpuinfo of 256 CPUs repeats itself)


class Category(enum.StrEnum):
    CPU = "cpu"
    OS = "os"
    DATABASE = "database"
    MIDDLEWARE = "middleware"


@dataclass(frozen=True, slots=True)
class Verdict:
    """One classified item: the vendor (a catalogue name), the product seen, the domestic flag
    from the catalogue and the rule id (`d.2 …`) that decided."""

    category: Category
    vendor: str
    product: str
    domestic: str  # yes | no | unknown
    rule: str


def _verdict(cat: Category, vendor: str, product: str, rule: str) -> Verdict:
    v = by_name(vendor)
    if v is None:  # a rule naming a vendor outside the catalogue is a bug (checked below)
        raise ValueError(f"platform rule {rule!r}: vendor {vendor!r} not in the catalogue")
    return Verdict(cat, v.name, product, v.domestic.value, rule)


def unknown(cat: Category, product: str = "", why: str = "no rule matched") -> Verdict:
    return Verdict(cat, "unknown", product, "unknown", why)


# -- CPU (docs/standards.md#d-2) --------------------------------------------------------------


def _cpuinfo_fields(text: str) -> dict[str, str]:
    """First value of each key (the first CPU block), keys lower-cased."""
    out: dict[str, str] = {}
    for line in text[:MAX_TEXT].splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        k = key.strip().lower()
        if k and k not in out:
            out[k] = value.strip()
    return out


# arm64 implementer byte → catalogue vendor; util-linux lscpu-arm.c hw_implementer[]
_ARM_IMPLEMENTERS = {"0x48": "HiSilicon", "0x70": "Phytium"}
_ARM_FOREIGN = {"0x41": "ARM", "0xc0": "Ampere", "0x61": "Apple", "0x51": "Qualcomm",
                "0x4e": "NVIDIA"}
_HISI_PARTS = {"0xd01": "Kunpeng-920", "0xd02": "Kunpeng-920", "0xd03": "Kunpeng-920",
               "0xd22": "Kunpeng-920", "0xd06": "Kunpeng-950"}
_PHYTIUM_PARTS = {"0x303": "FTC310", "0x660": "FTC660", "0x661": "FTC661", "0x662": "FTC662",
                  "0x663": "FTC663", "0x664": "FTC664", "0x862": "FTC862"}


def cpu_from_cpuinfo(cpuinfo: str, machine: str = "") -> Verdict:
    """/proc/cpuinfo (or `lscpu` output: same `key: value` shape, keys differ)."""
    f = _cpuinfo_fields(cpuinfo)
    model = f.get("model name", "")
    vendor_id = f.get("vendor_id", f.get("vendor id"))
    C = Category.CPU
    if vendor_id is not None:
        if vendor_id == "HygonGenuine":
            return _verdict(C, "Hygon", model, "d.2 x86 vendor_id HygonGenuine")
        if vendor_id.strip() == "Shanghai":
            return _verdict(C, "Zhaoxin", model, "d.2 x86 vendor_id '  Shanghai  '")
        if vendor_id == "CentaurHauls" and "zhaoxin" in model.lower():
            return _verdict(C, "Zhaoxin", model, "d.2 CentaurHauls with ZHAOXIN model name")
        if vendor_id == "GenuineIntel":
            return _verdict(C, "Intel", model, "d.2 x86 vendor_id GenuineIntel")
        if vendor_id == "AuthenticAMD":
            return _verdict(C, "AMD", model, "d.2 x86 vendor_id AuthenticAMD")
    impl = f.get("cpu implementer", "").lower()
    if not impl and f.get("vendor id", "").lower() in ("hisilicon", "phytium"):
        # lscpu prints the implementer's name instead of the byte
        impl = {"hisilicon": "0x48", "phytium": "0x70"}[f["vendor id"].lower()]
    if impl:
        part = f.get("cpu part", "").lower()
        if impl == "0x48":
            return _verdict(C, "HiSilicon", _HISI_PARTS.get(part, model or "Kunpeng"),
                            f"d.2 arm64 CPU implementer {impl}")
        if impl == "0x70":
            return _verdict(C, "Phytium", model or _PHYTIUM_PARTS.get(part, "Phytium"),
                            f"d.2 arm64 CPU implementer {impl}")
        if impl in _ARM_FOREIGN:
            return Verdict(C, _ARM_FOREIGN[impl], model, "no",
                           f"d.2 arm64 CPU implementer {impl}")
        return unknown(C, model, f"no rule for arm64 implementer {impl}")
    family = f.get("cpu family", "")
    if family.startswith("Loongson") or machine == "loongarch64":
        return _verdict(C, "Loongson", model, "d.2 LoongArch CPU Family Loongson-64bit")
    if "loongson" in f.get("cpu model", "").lower():
        return _verdict(C, "Loongson", f.get("cpu model", ""), "d.2 MIPS cpu model Loongson")
    if machine == "sw_64" or re.search(r"\bSW(3231|831|26010)\b", cpuinfo[:MAX_TEXT]):
        return _verdict(C, "Sunway", model, "d.2 sw_64 / SW model (low confidence)")
    if model:
        return cpu_from_model(model)
    return unknown(C, model, "no CPU rule matched")


_CPU_MODEL_RULES: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    # (rule id, vendor, pattern on a model string: hrDeviceDescr, dmidecode Version, lscpu)
    ("d.2 model HygonGenuine/Hygon", "Hygon", re.compile(r"HygonGenuine|\bHygon\b", re.I)),
    # Windows' hrDeviceDescr gives the x86 family: 0x18 (24) is Hygon Dhyana (hygon.c)
    ("d.2 Windows x86 family 24 (Hygon Dhyana)", "Hygon", re.compile(r"^AMD64 Family 24\b")),
    ("d.2 model Zhaoxin/KaiXian", "Zhaoxin", re.compile(r"zhaoxin|KaiXian|\bKX-[U\d]", re.I)),
    ("d.2 model Kunpeng/HiSilicon", "HiSilicon", re.compile(r"kunpeng|hisilicon|\bHi16\d\d",
                                                            re.I)),
    ("d.2 model Phytium/FT", "Phytium", re.compile(
        r"phytium|\bFT-?(1500|2000)|\bS2500\b|\bD2000\b|\bFTC\d{3}", re.I)),
    ("d.2 model Loongson", "Loongson", re.compile(r"loongson|\b3[ABC][56]000", re.I)),
    ("d.2 model Sunway/SW", "Sunway", re.compile(r"sunway|申威|\bSW(3231|831|26010)\b", re.I)),
    ("d.2 model GenuineIntel/Intel", "Intel", re.compile(
        r"GenuineIntel|\bIntel\b|Intel\(R\)|\bXeon\b|Intel64 Family", re.I)),
    ("d.2 model AuthenticAMD/AMD", "AMD", re.compile(
        r"AuthenticAMD|\bAMD\b|\bEPYC\b|\bRyzen\b|\bOpteron\b", re.I)),
)


def cpu_from_model(model: str) -> Verdict:
    """A CPU model string: HOST-RESOURCES hrDeviceDescr of an hrDeviceProcessor row (net-snmp
    writes `GenuineIntel: Intel(R) Xeon(R) …`, Windows `Intel64 Family 6 Model 85 …`),
    dmidecode's processor Version, lscpu's Model name."""
    text = model[:MAX_TEXT].strip()
    for rule, vendor, pat in _CPU_MODEL_RULES:
        if pat.search(text):
            return _verdict(Category.CPU, vendor, text, rule)
    return unknown(Category.CPU, text, "no CPU rule matched")


# -- OS (docs/standards.md#d-3) ---------------------------------------------------------------

_OS_IDS: tuple[tuple[str, str, str], ...] = (
    # (os-release ID, catalogue vendor, OS name)
    ("kylin", "Kylinsoft", "Kylin"), ("neokylin", "Kylinsoft", "NeoKylin"),
    ("openkylin", "Kylinsoft", "openKylin"), ("uos", "UnionTech", "UOS"),
    ("deepin", "Deepin", "deepin"), ("openEuler", "openEuler", "openEuler"),
    ("euleros", "Huawei", "EulerOS"), ("anolis", "OpenAnolis", "Anolis OS"),
    ("rhel", "Red Hat", "RHEL"), ("centos", "Red Hat", "CentOS"),
    ("ubuntu", "Canonical", "Ubuntu"),
)
_KERNEL_RULES: tuple[tuple[str, str, str, re.Pattern[str]], ...] = (
    # (rule id, vendor, OS name, pattern on a kernel release / sysDescr)
    ("d.3 kernel suffix .ky10.", "Kylinsoft", "Kylin", re.compile(r"\.ky10\.")),
    ("d.3 kernel suffix .an8./.an23.", "OpenAnolis", "Anolis OS", re.compile(r"\.an(8|23)\.")),
    ("d.3 kernel suffix .oe1./.oe2203.", "openEuler", "openEuler",
     re.compile(r"\.oe(1|2\d03)\b")),
    ("d.3 kernel suffix .el7/.el8/.el9", "Red Hat", "RHEL family", re.compile(r"\.el[789]")),
    ("d.3 kernel build -Ubuntu", "Canonical", "Ubuntu", re.compile(r"-Ubuntu\b")),
    ("d.3 sysDescr Windows", "Microsoft", "Windows", re.compile(r"\bWindows\b")),
)
_PACKAGE_RULES: tuple[tuple[str, str, str, re.Pattern[str]], ...] = (
    # (rule id, vendor, OS name, pattern on an installed package name: hrSWInstalledName)
    ("d.3 package kylin-release", "Kylinsoft", "Kylin", re.compile(r"^kylin-release\b", re.I)),
    ("d.3 package uos-release", "UnionTech", "UOS", re.compile(r"^(uos|UnionTech)-release\b")),
    ("d.3 package openEuler-release", "openEuler", "openEuler",
     re.compile(r"^openEuler-release\b")),
    ("d.3 package anolis-release", "OpenAnolis", "Anolis OS", re.compile(r"^anolis-release\b")),
    ("d.3 package redhat-release", "Red Hat", "RHEL", re.compile(r"^redhat-release\b")),
)


def parse_os_release(text: str) -> dict[str, str]:
    out = {}
    for line in text[:MAX_TEXT].splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            out[key] = value.strip().strip('"').strip("'")
    return out


def os_from_release(os_release: str, kernel_release: str = "") -> Verdict:
    f = parse_os_release(os_release)
    os_id = f.get("ID", "")
    name = f.get("PRETTY_NAME") or f.get("NAME", "")
    for rid, vendor, _ in _OS_IDS:
        # openEuler's ID is case-sensitive per d.3; the others are lower-case by convention
        if os_id == rid or (rid != "openEuler" and os_id.lower() == rid):
            return _verdict(Category.OS, vendor, name, f"d.3 os-release ID={os_id}")
    if kernel_release:
        v = os_from_text(kernel_release)
        if v.vendor != "unknown":
            return Verdict(v.category, v.vendor, name or v.product, v.domestic, v.rule)
    return unknown(Category.OS, name or os_id, "no OS rule matched")


def os_from_text(text: str) -> Verdict:
    """sysDescr (`Linux host 4.19.90-24.4.v2101.ky10.aarch64 …`) or a kernel release."""
    t = text[:MAX_TEXT]
    for rule, vendor, name, pat in _KERNEL_RULES:
        if pat.search(t):
            return _verdict(Category.OS, vendor, name, rule)
    return unknown(Category.OS, "", "no OS rule matched")


def os_from_packages(names: Iterable[str]) -> Verdict | None:
    """The release package among installed software (hrSWInstalledName, rpm -qa)."""
    for n in names:
        for rule, vendor, name, pat in _PACKAGE_RULES:
            if pat.search(n[:256]):
                return _verdict(Category.OS, vendor, name, rule)
    return None


# -- databases and middleware (docs/standards.md#d-4) -----------------------------------------

@dataclass(frozen=True, slots=True)
class SoftwareRule:
    id: str
    vendor: str
    product: str
    category: Category
    process: re.Pattern[str]  # on "name path args" of one running process
    header: re.Pattern[str] | None = None  # on HTTP Server / X-Powered-By / error page


def _sw(id: str, vendor: str, product: str, cat: Category, process: str,
        header: str | None = None) -> SoftwareRule:
    return SoftwareRule(f"d.4 {id}", vendor, product, cat, re.compile(process),
                        re.compile(header, re.I) if header else None)


D, M = Category.DATABASE, Category.MIDDLEWARE
# Domestic products first: several are PostgreSQL derivatives whose processes would otherwise
# match the PostgreSQL rule (openGauss, KingbaseES).
SOFTWARE_RULES: tuple[SoftwareRule, ...] = (
    _sw("process dmserver", "Dameng", "DM", D, r"(^|/)dmserver\b"),
    _sw("process kingbase", "Kingbase", "KingbaseES", D, r"(^|/)kingbase\b|/Kingbase"),
    _sw("process gbased / gbase path", "GBase", "GBase", D,
        r"(^|/)gbased\b|(^|/)gcluster|/gbase[^ ]*/.*oninit|GBASEDBTDIR"),
    _sw("process observer", "OceanBase", "OceanBase", D, r"(^|/)observer\b"),
    _sw("process gaussdb", "openGauss", "openGauss", D, r"(^|/)gaussdb\b"),
    _sw("java com.tongweb", "TongTech", "TongWeb", M, r"com\.tongweb\.|/TongWeb",
        r"TongWeb"),
    _sw("java com.apusic", "Apusic", "Apusic AAS", M, r"com\.apusic\.|/[Aa]pusic",
        r"Apusic"),
    _sw("java com.bes", "BES", "BES Application Server", M, r"com\.bes\.|/BES/", r"\bBES\b"),
    _sw("process ora_pmon / tnslsnr", "Oracle", "Oracle Database", D,
        r"(^|/)(ora_pmon_\w+|tnslsnr)\b"),
    _sw("process sqlservr", "Microsoft", "SQL Server", D, r"(^|[/\\])sqlservr(\.exe)?\b"),
    _sw("process mysqld", "Oracle", "MySQL", D, r"(^|/)mysqld\b"),
    _sw("process postgres", "PostgreSQL", "PostgreSQL", D, r"(^|/)postgres(ql)?\b"),
    _sw("java weblogic.Server", "Oracle", "WebLogic", M, r"weblogic\.Server", r"WebLogic"),
    _sw("java com.ibm.ws", "IBM", "WebSphere", M, r"com\.ibm\.ws\.", r"WebSphere"),
    _sw("java org.apache.catalina", "Apache", "Tomcat", M,
        r"org\.apache\.catalina\.startup", r"Apache[- ]Coyote|Tomcat"),
    _sw("process w3wp / Server Microsoft-IIS", "Microsoft", "IIS", M, r"(^|[/\\])w3wp\.exe",
        r"Microsoft-IIS"),
)
for _r in SOFTWARE_RULES:  # every rule names a catalogue vendor (fail at import, not at run)
    if by_name(_r.vendor) is None:
        raise ValueError(f"platform rule {_r.id}: vendor {_r.vendor!r} not in the catalogue")


def software_from_process(name: str, path: str = "", args: str = "") -> Verdict | None:
    """One running process (hrSWRunName/Path/Parameters, or a `ps` line)."""
    text = f"{name} {path} {args}"[:MAX_TEXT].strip()
    for r in SOFTWARE_RULES:
        if r.process.search(text) or r.process.search(name[:256]):
            return _verdict(r.category, r.vendor, r.product, r.id)
    return None


def software_from_processes(procs: Iterable[tuple[str, str, str]]) -> list[Verdict]:
    """Distinct products among running processes, in rule order."""
    seen: dict[str, Verdict] = {}
    for name, path, args in procs:
        v = software_from_process(name, path, args)
        if v is not None:
            seen.setdefault(v.product, v)
    return list(seen.values())


def software_from_http(text: str) -> Verdict | None:
    """An HTTP Server / X-Powered-By header or the first bytes of an error page."""
    t = text[:MAX_TEXT]
    for r in SOFTWARE_RULES:
        if r.header is not None and r.header.search(t):
            return _verdict(r.category, r.vendor, r.product,
                            r.id.replace("d.4 ", "d.4 http ", 1))
    return None


# One row per verdict, written by every collector that classifies a server (SNMP
# HOST-RESOURCES, SSH); the localization audit reads it (agent/processors/audit).
SERVER_PLATFORM = Measurement(
    "server_platform", "CPU, OS, database and middleware of a server, each classified for the "
    "国产化 audit with the rule that decided (docs/standards.md#d-2 … #d-4)",
    tags=(tag("category", "cpu / os / database / middleware"),
          tag("platform_vendor", "vendor by the catalogue (unknown when no rule matched)"),
          tag("product", "model or product seen (CPU model, OS name, DM, TongWeb …)"),
          tag("domestic", "yes / no / unknown"),
          tag("rule", "id of the rule that decided (d.2 …, d.3 …, d.4 …)"),
          tag("source", "where the evidence came from: snmp-host-resources, ssh-linux")),
    fields=(info(),))


def verdict_tags(v: Verdict, source: str) -> dict[str, str]:
    return {"category": v.category.value, "platform_vendor": v.vendor,
            "product": v.product[:128], "domestic": v.domestic, "rule": v.rule,
            "source": source}
