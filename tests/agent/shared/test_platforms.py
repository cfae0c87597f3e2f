"""The catalogue's CPU / OS / database / middleware rules (agent/shared/platforms.py): each
family on the strings real systems print, each verdict naming its rule and a catalogue vendor."""

from __future__ import annotations

import pytest

from agent.shared import platforms as P
from agent.shared.vendors import by_name


@pytest.mark.parametrize(("cpuinfo", "machine", "vendor", "rule"), [
    ("vendor_id\t: HygonGenuine\nmodel name\t: Hygon C86 7285 32-core Processor\n", "",
     "Hygon", "d.2 x86 vendor_id HygonGenuine"),
    ("vendor_id\t:   Shanghai  \nmodel name\t: ZHAOXIN KaiXian KX-U6780A@2.7GHz\n", "",
     "Zhaoxin", "d.2 x86 vendor_id '  Shanghai  '"),
    ("CPU implementer\t: 0x70\nCPU part\t: 0x662\n", "", "Phytium",
     "d.2 arm64 CPU implementer 0x70"),
    ("CPU implementer\t: 0x48\nCPU part\t: 0xd01\n", "", "HiSilicon",
     "d.2 arm64 CPU implementer 0x48"),
    ("CPU Family\t\t: Loongson-64bit\nModel Name\t\t: Loongson-3A5000\n", "loongarch64",
     "Loongson", "d.2 LoongArch CPU Family Loongson-64bit"),
    ("cpu\t: SW3231\n", "sw_64", "Sunway", "d.2 sw_64 / SW model (low confidence)"),
    ("vendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold 6248R\n", "", "Intel",
     "d.2 x86 vendor_id GenuineIntel"),
    ("vendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7763\n", "", "AMD",
     "d.2 x86 vendor_id AuthenticAMD"),
])
def test_cpu_families(cpuinfo: str, machine: str, vendor: str, rule: str) -> None:
    v = P.cpu_from_cpuinfo(cpuinfo, machine)
    assert (v.vendor, v.rule) == (vendor, rule)
    assert v.domestic == by_name(vendor).domestic.value  # type: ignore[union-attr]


def test_cpu_model_strings_from_host_resources() -> None:
    # Windows' SNMP service: hrDeviceDescr gives the x86 family; 24 (0x18) is Hygon Dhyana
    assert P.cpu_from_model("AMD64 Family 24 Model 0 Stepping 1").vendor == "Hygon"
    assert P.cpu_from_model("AMD64 Family 23 Model 49 Stepping 0").vendor == "AMD"
    assert P.cpu_from_model("Intel64 Family 6 Model 85 Stepping 7").vendor == "Intel"
    assert P.cpu_from_model("Phytium,FT-2000+/64").vendor == "Phytium"
    v = P.cpu_from_model("AArch64 Processor rev 0 (aarch64)")
    assert (v.vendor, v.domestic) == ("unknown", "unknown")  # never guessed


@pytest.mark.parametrize(("os_release", "vendor", "domestic"), [
    ('ID=uos\nPRETTY_NAME="UnionTech OS Server 20"\n', "UnionTech", "yes"),
    ('ID=openEuler\nPRETTY_NAME="openEuler 22.03 (LTS-SP4)"\n', "openEuler", "yes"),
    ('ID="anolis"\nPRETTY_NAME="Anolis OS 8.8"\n', "OpenAnolis", "yes"),
    ('ID=deepin\nPRETTY_NAME="Deepin 20.9"\n', "Deepin", "yes"),
    ('ID="rhel"\nPRETTY_NAME="Red Hat Enterprise Linux 9.0 (Plow)"\n', "Red Hat", "no"),
    ('ID="centos"\nPRETTY_NAME="CentOS Linux 7 (Core)"\n', "Red Hat", "no"),
])
def test_os_release(os_release: str, vendor: str, domestic: str) -> None:
    v = P.os_from_release(os_release)
    assert (v.vendor, v.domestic) == (vendor, domestic) and v.rule.startswith("d.3 os-release")


def test_os_from_sysdescr_and_packages() -> None:
    win = ("Hardware: Intel64 Family 6 Model 85 Stepping 7 AT/AT COMPATIBLE - Software: Windows "
           "Version 6.3 (Build 17763 Multiprocessor Free)")
    assert (P.os_from_text(win).vendor, P.os_from_text(win).domestic) == ("Microsoft", "no")
    v = P.os_from_packages(["bash-5.1", "openEuler-release-22.03LTS_SP4-1.oe2203sp4"])
    assert v is not None and (v.vendor, v.rule) == ("openEuler",
                                                    "d.3 package openEuler-release")
    assert P.os_from_packages(["bash"]) is None


@pytest.mark.parametrize(("name", "path", "args", "product", "domestic"), [
    ("kingbase", "/opt/Kingbase/ES/V8/Server/bin/kingbase", "-D /data", "KingbaseES", "yes"),
    ("gbased", "/opt/gbase/bin/gbased", "--defaults-file=/etc/gbase.cnf", "GBase", "yes"),
    ("observer", "/home/admin/oceanbase/bin/observer", "", "OceanBase", "yes"),
    ("java", "/opt/apusic/jdk/bin/java", "com.apusic.aas.admin.AdminMain", "Apusic AAS",
     "yes"),
    ("sqlservr.exe", "C:\\Program Files\\Microsoft SQL Server\\sqlservr.exe", "",
     "SQL Server", "no"),
    ("mysqld", "/usr/sbin/mysqld", "", "MySQL", "no"),
    ("postgres", "/usr/lib/postgresql/15/bin/postgres", "-D /var/lib/pg", "PostgreSQL", "no"),
    ("java", "/usr/bin/java", "org.apache.catalina.startup.Bootstrap start", "Tomcat", "no"),
])
def test_database_and_middleware_processes(name: str, path: str, args: str, product: str,
                                           domestic: str) -> None:
    v = P.software_from_process(name, path, args)
    assert v is not None and (v.product, v.domestic) == (product, domestic)
    assert v.rule.startswith("d.4 ")


def test_processes_that_are_no_product_and_http_headers() -> None:
    assert P.software_from_process("sshd", "/usr/sbin/sshd", "-D") is None
    # an openGauss server is not counted as PostgreSQL (domestic derivative first)
    v = P.software_from_process("gaussdb", "/opt/og/bin/gaussdb", "-D /data")
    assert v is not None and v.product == "openGauss"
    h = P.software_from_http("Server: Apache-Coyote/1.1")
    assert h is not None and (h.product, h.domestic) == ("Tomcat", "no")
    assert P.software_from_http("Server: nginx") is None
    assert P.software_from_http("x" * 100_000) is None  # bounded
