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

from agent.core.catalogue import Measurement, gauge, info, tag
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
               "0xd22": "Kunpeng-920", "0xd06": "Kunpeng-950", "0xd40": "Cortex-A76",
               "0xd41": "Cortex-A77"}
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
    if "loongson" in f.get("cpu model", "").lower() or (
            machine.startswith("mips64") and "loongson" in cpuinfo[:MAX_TEXT].lower()):
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
    ("d.2 model Hygon (海光)", "Hygon", re.compile(r"海光")),
    ("d.2 model Zhaoxin/KaiXian", "Zhaoxin", re.compile(r"zhaoxin|KaiXian|\bKX-[U\d]|兆芯|开先",
                                                        re.I)),
    ("d.2 model Kunpeng/HiSilicon", "HiSilicon", re.compile(
        r"kunpeng|hisilicon|\bHi16\d\d|鲲鹏|海思", re.I)),
    ("d.2 model Phytium/FT", "Phytium", re.compile(
        r"phytium|\bFT-?(1500|2000)|\bS2500\b|\bD2000\b|\bFTC\d{3}|飞腾", re.I)),
    ("d.2 model Loongson", "Loongson", re.compile(r"loongson|\b3[ABC][56]000|龙芯", re.I)),
    ("d.2 model Sunway/SW", "Sunway", re.compile(r"sunway|申威|\bSW(3231|831|26010)\b", re.I)),
    ("d.2 model GenuineIntel/Intel", "Intel", re.compile(
        r"GenuineIntel|\bIntel\b|Intel\(R\)|\bXeon\b|Intel64 Family", re.I)),
    ("d.2 model AuthenticAMD/AMD", "AMD", re.compile(
        r"AuthenticAMD|\bAMD\b|AMD64 Family|\bEPYC\b|\bRyzen\b|\bOpteron\b", re.I)),
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
    ("alinux", "Alibaba Cloud", "Alibaba Cloud Linux"),
    ("tencentos", "Tencent", "TencentOS Server"),
    ("rhel", "Red Hat", "RHEL"), ("centos", "Red Hat", "CentOS"),
    ("rocky", "Rocky Linux", "Rocky Linux"), ("almalinux", "AlmaLinux", "AlmaLinux"),
    ("ubuntu", "Canonical", "Ubuntu"), ("debian", "Debian", "Debian"),
    ("sles", "SUSE", "SUSE Linux Enterprise Server"),
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


# OS names as a school's terminal asset register writes them (a free-text column: `银河麒麟
# V10`, `统信UOS 20 专业版`, `Windows 10 教育版`). Domestic names first: `Kylin` must not fall
# to a later rule; none → unknown (counted apart, never guessed).
_NAME_RULES: tuple[tuple[str, str, str, re.Pattern[str]], ...] = (
    # (rule id, vendor, OS name, pattern on the register's OS name)
    ("d.3 name Kylin/麒麟", "Kylinsoft", "Kylin", re.compile(r"kylin|麒麟", re.I)),
    ("d.3 name UOS/统信", "UnionTech", "UOS", re.compile(r"\bUOS\b|UOS\d|统信|uniontech", re.I)),
    ("d.3 name deepin/深度", "Deepin", "deepin", re.compile(r"deepin|深度", re.I)),
    ("d.3 name openEuler/欧拉", "openEuler", "openEuler", re.compile(r"openeuler|欧拉", re.I)),
    ("d.3 name Anolis/龙蜥", "OpenAnolis", "Anolis OS", re.compile(r"anolis|龙蜥", re.I)),
    ("d.3 name Windows", "Microsoft", "Windows", re.compile(r"windows|\bwin ?(7|8|10|11)\b",
                                                           re.I)),
    ("d.3 name macOS", "Apple", "macOS", re.compile(r"mac ?os|\bos x\b", re.I)),
    ("d.3 name Ubuntu", "Canonical", "Ubuntu", re.compile(r"ubuntu", re.I)),
    ("d.3 name RHEL/CentOS", "Red Hat", "RHEL family", re.compile(
        r"red ?hat|\bRHEL\b|centos|红帽", re.I)),
    ("d.3 name Android", "Google", "Android", re.compile(r"android|安卓", re.I)),
)

for _rule, _vendor, _os, _pat in _NAME_RULES:  # a typo fails at import, not in the field
    if by_name(_vendor) is None:
        raise ValueError(f"platform rule {_rule}: vendor {_vendor!r} not in the catalogue")


def os_from_name(name: str) -> Verdict:
    """An OS name as written in an asset register (free text, Chinese or English)."""
    text = name[:256].strip()
    for rule, vendor, os_name, pat in _NAME_RULES:
        if pat.search(text):
            return _verdict(Category.OS, vendor, text or os_name, rule)
    return unknown(Category.OS, text, "no OS name rule matched")


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


# -- terminals: passive LAN evidence (docs/standards.md#d-5) ----------------------------------

@dataclass(frozen=True, slots=True)
class TerminalVerdict:
    """OS family of one terminal from what it says on the LAN, with a confidence (0..1)."""

    os_family: str  # Windows, macOS, iOS, Android, Kylin, UOS, Linux, unknown
    vendor: str  # catalogue vendor of the OS, unknown when none
    domestic: str
    confidence: float
    rule: str
    evidence: str  # what was seen (option 55, 60, 12), bounded


def _prl(s: str) -> tuple[int, ...]:
    return tuple(int(x) for x in s.split(","))


# Option 55 (parameter request list) in the order the client sends it. Sources in d.5.
_PRL_RULES: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("d.5 option 55 Windows 10/11", "Windows", _prl("1,3,6,15,31,33,43,44,46,47,119,121,249,252")),
    ("d.5 option 55 macOS", "macOS", _prl("1,121,3,6,15,119,252,95,44,46")),
    ("d.5 option 55 iOS 16+", "iOS", _prl("1,121,3,6,15,108,114,119,252")),
    ("d.5 option 55 Android 8+", "Android", _prl("1,3,6,15,26,28,51,58,59,43")),
    ("d.5 option 55 Android 11+", "Android", _prl("1,3,6,15,26,28,51,58,59,43,114,108")),
)
# NetworkManager's request list (Kylin, UOS, deepin and most Linux desktops use it): matched
# as a set, its order differs between NM's internal and dhclient back ends. It says Linux, not
# which distribution: the hostname decides that, with less confidence.
_NM_SET = frozenset(_prl("1,2,3,6,12,15,17,26,28,33,40,41,42,119,121,249,252"))
_VENDOR_CLASS_RULES: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("d.5 option 60 MSFT 5.0", "Windows", re.compile(r"^MSFT 5\.0")),
    ("d.5 option 60 android-dhcp", "Android", re.compile(r"^android-dhcp-\d+")),
)
# Host-name conventions (option 12 / NetBIOS / mDNS names). Not published fingerprints: the
# installers' default names and the usual school naming; weak evidence on their own.
_HOSTNAME_RULES: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("d.5 hostname kylin", "Kylin", re.compile(r"kylin", re.I)),
    ("d.5 hostname uos", "UOS", re.compile(r"(^|[-_])uos([-_]|$)|uos-pc", re.I)),
    ("d.5 hostname deepin", "deepin", re.compile(r"deepin", re.I)),
    ("d.5 hostname iPhone/iPad", "iOS", re.compile(r"iphone|ipad", re.I)),
    ("d.5 hostname MacBook/iMac", "macOS", re.compile(r"macbook|imac|mac-mini", re.I)),
    ("d.5 hostname DESKTOP-/LAPTOP-", "Windows", re.compile(r"^(DESKTOP|LAPTOP)-[A-Z0-9]{7}$")),
)
_OS_VENDOR = {"Windows": "Microsoft", "macOS": "Apple", "iOS": "Apple", "Android": "Google",
              "Kylin": "Kylinsoft", "UOS": "UnionTech", "deepin": "Deepin"}


def _terminal(os_family: str, confidence: float, rules: list[str],
              evidence: str) -> TerminalVerdict:
    vendor = _OS_VENDOR.get(os_family)
    v = by_name(vendor) if vendor else None
    return TerminalVerdict(os_family, v.name if v else "unknown",
                           v.domestic.value if v else "unknown", round(confidence, 2),
                           " + ".join(rules), evidence[:256])


def terminal_from_dhcp(prl: Iterable[int], vendor_class: str = "",
                       hostname: str = "", name_source: str = "12") -> TerminalVerdict:
    """DHCP DISCOVER/REQUEST of one client: option 55 order, option 60, option 12 (or a name
    the host announced otherwise: `name_source` mdns). Agreeing evidence adds up; the
    strongest family wins; none → unknown."""
    p = tuple(prl)[:64]
    vc, hn = vendor_class[:128], hostname[:64]
    evidence = f"55={','.join(map(str, p))} 60={vc or '-'} {name_source}={hn or '-'}"
    votes: dict[str, tuple[float, list[str]]] = {}

    def vote(family: str, weight: float, rule: str) -> None:
        w, rules = votes.get(family, (0.0, []))
        votes[family] = (w + weight, [*rules, rule])

    for rule, family, seq in _PRL_RULES:
        if p == seq:
            vote(family, 0.7, rule)
    linux = frozenset(p) == _NM_SET
    for rule, family, pat in _VENDOR_CLASS_RULES:
        if pat.search(vc):
            vote(family, 0.6, rule)
    for rule, family, pat in _HOSTNAME_RULES:
        if hn and pat.search(hn):
            # a Linux desktop naming itself kylin/uos is good evidence; a bare name is not
            domestic_linux = family in ("Kylin", "UOS", "deepin")
            vote(family, 0.5 if (linux and domestic_linux) else 0.3, rule)
    if linux:
        for family in ("Kylin", "UOS", "deepin"):
            if family in votes:
                vote(family, 0.3, "d.5 option 55 NetworkManager (Linux)")
    if not votes:
        if linux:
            return _terminal("Linux", 0.5, ["d.5 option 55 NetworkManager (Linux)"], evidence)
        return TerminalVerdict("unknown", "unknown", "unknown", 0.0, "no terminal rule matched",
                               evidence[:256])
    family, (weight, rules) = max(votes.items(), key=lambda kv: kv[1][0])
    return _terminal(family, min(weight, 0.95), rules, evidence)


# OS vendor → terminal family; other Linux distributions' vendors say Linux
_FAMILY_OF_VENDOR = {"Kylinsoft": "Kylin", "UnionTech": "UOS", "Deepin": "deepin",
                     "Microsoft": "Windows", "Apple": "macOS", "Google": "Android"}


def terminal_from_lldp(system_descr: str = "", software_rev: str = "", manufacturer: str = "",
                       model: str = "") -> TerminalVerdict:
    """What an endpoint announces in LLDP-MED (lldpd on a Linux desktop sends the kernel
    release as software revision and `PRETTY_NAME kernel` as system description; phones and
    PCs their firmware/OS names): the d.3 kernel and name rules on those, agreeing evidence
    adding up, the strongest vendor winning. The hardware maker and model are evidence shown,
    not a vote (a Lenovo PC runs Windows or Kylin)."""
    sd, sw = system_descr[:MAX_TEXT], software_rev[:256]
    evidence = (f"lldp-med sw={sw[:60] or '-'} mfr={manufacturer[:40] or '-'} "
                f"model={model[:40] or '-'} descr={sd[:80] or '-'}")
    votes: dict[str, tuple[float, list[str], Verdict]] = {}
    for weight, where, v in ((0.8, "software revision", os_from_text(sw) if sw else None),
                             (0.7, "software revision", os_from_name(sw) if sw else None),
                             (0.7, "system description", os_from_name(sd) if sd else None),
                             (0.6, "system description", os_from_text(sd) if sd else None)):
        if v is None or v.vendor == "unknown":
            continue
        w, rules, first = votes.get(v.vendor, (0.0, [], v))
        votes[v.vendor] = (w + weight, [*rules, f"d.5 LLDP-MED {where}: {v.rule}"], first)
    if not votes:
        return TerminalVerdict("unknown", "unknown", "unknown", 0.0, "no terminal rule matched",
                               evidence[:256])
    vendor, (weight, rules, v) = max(votes.items(), key=lambda kv: kv[1][0])
    return TerminalVerdict(_FAMILY_OF_VENDOR.get(vendor, "Linux"), vendor, v.domestic,
                           round(min(weight, 0.95), 2), " + ".join(rules)[:256],
                           evidence[:256])


TERMINAL_OS = Measurement(
    "terminal_os", "OS family of a terminal seen on the LAN, for the "
    "国产化 audit (DHCP 55/60/12, mDNS and NetBIOS names, LLDP-MED inventory), with the rules "
    "that decided and a confidence (docs/standards.md#d-5)",
    tags=(tag("mac", "the terminal's MAC"), tag("os_family", "Windows, macOS, iOS, Android, "
          "Kylin, UOS, deepin, Linux, unknown"),
          tag("platform_vendor", "catalogue vendor of the OS"),
          tag("domestic", "yes / no / unknown"), tag("rule", "rules that decided, joined by +"),
          tag("evidence", "what was seen: 55=… 60=… 12=… (mdns=/netbios=), or lldp-med …"),
          tag("interface", "the interface listened on")),
    fields=(gauge("confidence_ratio", "ratio", "0..1: agreeing evidence adds up"),))
