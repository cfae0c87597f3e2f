"""CPU and OS identity per standards.md d.2 / d.3, on crafted /proc/cpuinfo and os-release.

The host collector applies the vendor catalogue's rules (agent/shared/platforms.py): vendors are
spelt as the catalogue and the audit spell them (Kylinsoft, UnionTech, Canonical; an
undecided CPU or OS is "unknown")."""

from __future__ import annotations

import pytest

from collectors.host.identity import classify_cpu, classify_os

KUNPENG = """processor\t: 0
BogoMIPS\t: 200.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics
CPU implementer\t: 0x48
CPU architecture: 8
CPU variant\t: 0x1
CPU part\t: 0xd01
"""
PHYTIUM = """processor\t: 0
model name\t: Phytium,FT-2000+/64
CPU implementer\t: 0x70
CPU part\t: 0x662
"""
HYGON = "processor\t: 0\nvendor_id\t: HygonGenuine\ncpu family\t: 24\n" \
        "model name\t: Hygon C86 7280 32-core Processor\n"
ZHAOXIN_NEW = "processor\t: 0\nvendor_id\t:   Shanghai  \nmodel name\t: ZHAOXIN KaiSheng KH-40000\n"
ZHAOXIN_OLD = "processor\t: 0\nvendor_id\t: CentaurHauls\n" \
              "model name\t: ZHAOXIN KaiXian KX-6640MA@2.2+GHz\n"
LOONGARCH = ("system type\t\t: generic-loongson-machine\nprocessor\t\t: 0\n"
             "CPU Family\t\t: Loongson-64bit\nModel Name\t\t: Loongson-3A5000\n"
             "ISA\t\t: loongarch64\n")
INTEL = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold 6248\n"
AMPERE = "processor\t: 0\nCPU implementer\t: 0xc0\nCPU part\t: 0xac3\n"


@pytest.mark.parametrize(("text", "machine", "vendor", "domestic", "rule_has"), [
    (KUNPENG, "aarch64", "HiSilicon", "yes", "0x48"),
    (PHYTIUM, "aarch64", "Phytium", "yes", "0x70"),
    (HYGON, "x86_64", "Hygon", "yes", "HygonGenuine"),
    (ZHAOXIN_NEW, "x86_64", "Zhaoxin", "yes", "Shanghai"),
    (ZHAOXIN_OLD, "x86_64", "Zhaoxin", "yes", "CentaurHauls"),
    (LOONGARCH, "loongarch64", "Loongson", "yes", "Loongson-64bit"),
    (INTEL, "x86_64", "Intel", "no", "GenuineIntel"),
    (AMPERE, "aarch64", "Ampere", "no", "0xc0"),
    ("processor : 0\nCPU implementer : 0x99\n", "aarch64", "unknown", "unknown",
     "no rule for arm64 implementer 0x99"),
    ("", "riscv64", "unknown", "unknown", "no CPU rule"),
])
def test_cpu_rules(text: str, machine: str, vendor: str, domestic: str, rule_has: str) -> None:
    ident = classify_cpu(text, machine)
    assert (ident.vendor, ident.domestic) == (vendor, domestic)
    assert rule_has in ident.rule


def test_kunpeng_model_from_part_number() -> None:
    assert classify_cpu(KUNPENG, "aarch64").model == "Kunpeng-920"


@pytest.mark.parametrize(("text", "kernel", "vendor", "domestic"), [
    ('NAME="Kylin Linux Advanced Server"\nVERSION="V10 (Sword)"\nID=kylin\n', "",
     "Kylinsoft", "yes"),
    ('NAME="UnionTech OS Server 20"\nID="uos"\n', "", "UnionTech", "yes"),
    ('NAME="openEuler"\nVERSION="22.03 (LTS-SP3)"\nID="openEuler"\n', "", "openEuler", "yes"),
    ('NAME="Anolis OS"\nID="anolis"\n', "", "OpenAnolis", "yes"),
    ('NAME="Alibaba Cloud Linux"\nID="alinux"\n', "", "Alibaba Cloud", "yes"),
    ('NAME="TencentOS Server"\nID="tencentos"\n', "", "Tencent", "yes"),
    ('NAME="Ubuntu"\nID=ubuntu\n', "", "Canonical", "no"),
    ('NAME="Rocky Linux"\nID="rocky"\n', "", "Rocky Linux", "no"),
    ('NAME="SLES"\nID="sles"\n', "", "SUSE", "no"),
    ('NAME="Debian GNU/Linux"\nID=debian\n', "", "Debian", "no"),
    ('NAME="Mystery"\nID=mystery\n', "4.19.90-24.4.v2101.ky10.aarch64", "Kylinsoft", "yes"),
    ('NAME="Mystery"\nID=mystery\n', "5.10.0", "unknown", "unknown"),
])
def test_os_rules(text: str, kernel: str, vendor: str, domestic: str) -> None:
    ident = classify_os(text, kernel)
    assert (ident.vendor, ident.domestic) == (vendor, domestic)
    assert ident.rule


def test_openeuler_id_is_case_sensitive() -> None:
    # d.3: the os-release ID is "openEuler"; a lower-case "openeuler" is not that rule
    assert classify_os('ID="openeuler"\n').domestic == "unknown"


def test_host_and_servers_agree() -> None:
    """The same CPU and OS polled over SNMP/SSH (server_platform) and read on the agent's host
    (host_identity) get the same vendor, flag and rule."""
    from agent.shared import platforms
    for text, machine in ((HYGON, "x86_64"), (KUNPENG, "aarch64"), (INTEL, "x86_64")):
        v, ident = platforms.cpu_from_cpuinfo(text, machine), classify_cpu(text, machine)
        assert (ident.vendor, ident.model, ident.domestic, ident.rule) == (
            v.vendor, v.product, v.domestic, v.rule)
    release = 'NAME="Kylin"\nID=kylin\n'
    o, ident = platforms.os_from_release(release), classify_os(release)
    assert (ident.vendor, ident.domestic, ident.rule) == (o.vendor, o.domestic, o.rule)
