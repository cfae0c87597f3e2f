"""Numeric OIDs the collector reads, each with its MIB and object name beside it.

Like snmp_exporter's generated modules, the MIBs were resolved offline: the numbers below are
checked against the objects of docs/standards.md#e-1 (and the WLAN MIBs of #e-2 … #e-5), or,
where noted, against the recordings in ../shared/fixtures/snmprec. Nothing here loads a MIB
at runtime.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.snmp.session import Oid, oid_from_str


@dataclass(frozen=True, slots=True)
class Obj:
    """One MIB object: a scalar (read with `.0`) or a table column (walked)."""

    mib: str
    name: str
    oid: Oid

    @property
    def instance(self) -> Oid:
        return (*self.oid, 0)


def _o(mib: str, name: str, oid: str) -> Obj:
    return Obj(mib, name, oid_from_str(oid))


# SNMPv2-MIB system group [V e.1]
SYS_DESCR = _o("SNMPv2-MIB", "sysDescr", "1.3.6.1.2.1.1.1")
SYS_OBJECT_ID = _o("SNMPv2-MIB", "sysObjectID", "1.3.6.1.2.1.1.2")
SYS_UPTIME = _o("SNMPv2-MIB", "sysUpTime", "1.3.6.1.2.1.1.3")
SYS_NAME = _o("SNMPv2-MIB", "sysName", "1.3.6.1.2.1.1.5")
SYS_LOCATION = _o("SNMPv2-MIB", "sysLocation", "1.3.6.1.2.1.1.6")
SYSTEM = (SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME, SYS_LOCATION)

# IF-MIB ifTable (RFC 2863)
IF_INDEX = _o("IF-MIB", "ifIndex", "1.3.6.1.2.1.2.2.1.1")
IF_DESCR = _o("IF-MIB", "ifDescr", "1.3.6.1.2.1.2.2.1.2")
IF_TYPE = _o("IF-MIB", "ifType", "1.3.6.1.2.1.2.2.1.3")
IF_SPEED = _o("IF-MIB", "ifSpeed", "1.3.6.1.2.1.2.2.1.5")
IF_ADMIN_STATUS = _o("IF-MIB", "ifAdminStatus", "1.3.6.1.2.1.2.2.1.7")
IF_OPER_STATUS = _o("IF-MIB", "ifOperStatus", "1.3.6.1.2.1.2.2.1.8")
IF_IN_OCTETS = _o("IF-MIB", "ifInOctets", "1.3.6.1.2.1.2.2.1.10")
IF_IN_UCAST = _o("IF-MIB", "ifInUcastPkts", "1.3.6.1.2.1.2.2.1.11")
IF_IN_DISCARDS = _o("IF-MIB", "ifInDiscards", "1.3.6.1.2.1.2.2.1.13")
IF_IN_ERRORS = _o("IF-MIB", "ifInErrors", "1.3.6.1.2.1.2.2.1.14")
IF_OUT_OCTETS = _o("IF-MIB", "ifOutOctets", "1.3.6.1.2.1.2.2.1.16")
IF_OUT_UCAST = _o("IF-MIB", "ifOutUcastPkts", "1.3.6.1.2.1.2.2.1.17")
IF_OUT_DISCARDS = _o("IF-MIB", "ifOutDiscards", "1.3.6.1.2.1.2.2.1.19")
IF_OUT_ERRORS = _o("IF-MIB", "ifOutErrors", "1.3.6.1.2.1.2.2.1.20")
# IF-MIB ifXTable
IF_NAME = _o("IF-MIB", "ifName", "1.3.6.1.2.1.31.1.1.1.1")
IF_HC_IN_OCTETS = _o("IF-MIB", "ifHCInOctets", "1.3.6.1.2.1.31.1.1.1.6")
IF_HC_IN_UCAST = _o("IF-MIB", "ifHCInUcastPkts", "1.3.6.1.2.1.31.1.1.1.7")
IF_HC_OUT_OCTETS = _o("IF-MIB", "ifHCOutOctets", "1.3.6.1.2.1.31.1.1.1.10")
IF_HC_OUT_UCAST = _o("IF-MIB", "ifHCOutUcastPkts", "1.3.6.1.2.1.31.1.1.1.11")
IF_HIGH_SPEED = _o("IF-MIB", "ifHighSpeed", "1.3.6.1.2.1.31.1.1.1.15")
IF_ALIAS = _o("IF-MIB", "ifAlias", "1.3.6.1.2.1.31.1.1.1.18")
IF_DISCONTINUITY = _o("IF-MIB", "ifCounterDiscontinuityTime", "1.3.6.1.2.1.31.1.1.1.19")
INTERFACES = (
    IF_INDEX, IF_DESCR, IF_TYPE, IF_SPEED, IF_ADMIN_STATUS, IF_OPER_STATUS, IF_IN_OCTETS,
    IF_IN_UCAST, IF_IN_DISCARDS, IF_IN_ERRORS, IF_OUT_OCTETS, IF_OUT_UCAST, IF_OUT_DISCARDS,
    IF_OUT_ERRORS, IF_NAME, IF_HC_IN_OCTETS, IF_HC_IN_UCAST, IF_HC_OUT_OCTETS, IF_HC_OUT_UCAST,
    IF_HIGH_SPEED, IF_ALIAS, IF_DISCONTINUITY,
)

# ENTITY-MIB entPhysicalTable [V e.1]
ENT_DESCR = _o("ENTITY-MIB", "entPhysicalDescr", "1.3.6.1.2.1.47.1.1.1.1.2")
ENT_CLASS = _o("ENTITY-MIB", "entPhysicalClass", "1.3.6.1.2.1.47.1.1.1.1.5")
ENT_FIRMWARE_REV = _o("ENTITY-MIB", "entPhysicalFirmwareRev", "1.3.6.1.2.1.47.1.1.1.1.9")
ENT_SOFTWARE_REV = _o("ENTITY-MIB", "entPhysicalSoftwareRev", "1.3.6.1.2.1.47.1.1.1.1.10")
ENT_SERIAL = _o("ENTITY-MIB", "entPhysicalSerialNum", "1.3.6.1.2.1.47.1.1.1.1.11")
ENT_MFG_NAME = _o("ENTITY-MIB", "entPhysicalMfgName", "1.3.6.1.2.1.47.1.1.1.1.12")
ENT_MODEL = _o("ENTITY-MIB", "entPhysicalModelName", "1.3.6.1.2.1.47.1.1.1.1.13")
ENTITY = (ENT_CLASS, ENT_SOFTWARE_REV, ENT_FIRMWARE_REV, ENT_SERIAL, ENT_MFG_NAME, ENT_MODEL)

# IP-MIB (RFC 4293) [V e.1]
IP_FORWARDING = _o("IP-MIB", "ipForwarding", "1.3.6.1.2.1.4.1")
IPV6_FORWARDING = _o("IP-MIB", "ipv6IpForwarding", "1.3.6.1.2.1.4.25")
IP_ADDRESS_IFINDEX = _o("IP-MIB", "ipAddressIfIndex", "1.3.6.1.2.1.4.34.1.3")
IP_ADDRESS_TYPE = _o("IP-MIB", "ipAddressType", "1.3.6.1.2.1.4.34.1.4")
IP_SYS_HC_IN_RECEIVES = _o("IP-MIB", "ipSystemStatsHCInReceives", "1.3.6.1.2.1.4.31.1.1.4")
IP_SYS_HC_IN_OCTETS = _o("IP-MIB", "ipSystemStatsHCInOctets", "1.3.6.1.2.1.4.31.1.1.6")
IP_SYS_HC_IN_FORW = _o("IP-MIB", "ipSystemStatsHCInForwDatagrams", "1.3.6.1.2.1.4.31.1.1.13")
IP_SYS_HC_OUT_TRANSMITS = _o("IP-MIB", "ipSystemStatsHCOutTransmits", "1.3.6.1.2.1.4.31.1.1.31")
IP_SYS_HC_OUT_OCTETS = _o("IP-MIB", "ipSystemStatsHCOutOctets", "1.3.6.1.2.1.4.31.1.1.33")
IP_SYS_DISCONTINUITY = _o("IP-MIB", "ipSystemStatsDiscontinuityTime", "1.3.6.1.2.1.4.31.1.1.46")
IP_SYSTEM_STATS = (IP_SYS_HC_IN_RECEIVES, IP_SYS_HC_IN_OCTETS, IP_SYS_HC_IN_FORW,
                   IP_SYS_HC_OUT_TRANSMITS, IP_SYS_HC_OUT_OCTETS, IP_SYS_DISCONTINUITY)
IP_IF_HC_IN_OCTETS = _o("IP-MIB", "ipIfStatsHCInOctets", "1.3.6.1.2.1.4.31.3.1.6")
IP_IF_HC_OUT_OCTETS = _o("IP-MIB", "ipIfStatsHCOutOctets", "1.3.6.1.2.1.4.31.3.1.33")
IP_IF_DISCONTINUITY = _o("IP-MIB", "ipIfStatsDiscontinuityTime", "1.3.6.1.2.1.4.31.3.1.46")
IP_IF_STATS = (IP_IF_HC_IN_OCTETS, IP_IF_HC_OUT_OCTETS, IP_IF_DISCONTINUITY)
IP_NET_TO_PHYS_ADDR = _o("IP-MIB", "ipNetToPhysicalPhysAddress", "1.3.6.1.2.1.4.35.1.4")
IP_NET_TO_MEDIA_ADDR = _o("IP-MIB", "ipNetToMediaPhysAddress", "1.3.6.1.2.1.4.22.1.2")

# LLDP-MIB (IEEE 802.1AB)
LLDP_LOC_PORT_ID = _o("LLDP-MIB", "lldpLocPortId", "1.0.8802.1.1.2.1.3.7.1.3")
LLDP_LOC_PORT_DESC = _o("LLDP-MIB", "lldpLocPortDesc", "1.0.8802.1.1.2.1.3.7.1.4")
LLDP_REM_CHASSIS_ID = _o("LLDP-MIB", "lldpRemChassisId", "1.0.8802.1.1.2.1.4.1.1.5")
LLDP_REM_PORT_ID = _o("LLDP-MIB", "lldpRemPortId", "1.0.8802.1.1.2.1.4.1.1.7")
LLDP_REM_SYS_NAME = _o("LLDP-MIB", "lldpRemSysName", "1.0.8802.1.1.2.1.4.1.1.9")
LLDP_REM_CHASSIS_SUBTYPE = _o("LLDP-MIB", "lldpRemChassisIdSubtype",
                              "1.0.8802.1.1.2.1.4.1.1.4")

# BRIDGE-MIB (RFC 4188) and Q-BRIDGE-MIB (RFC 4363)
DOT1D_BASE_PORT_IFINDEX = _o("BRIDGE-MIB", "dot1dBasePortIfIndex", "1.3.6.1.2.1.17.1.4.1.2")
DOT1D_TP_FDB_PORT = _o("BRIDGE-MIB", "dot1dTpFdbPort", "1.3.6.1.2.1.17.4.3.1.2")
DOT1Q_TP_FDB_PORT = _o("Q-BRIDGE-MIB", "dot1qTpFdbPort", "1.3.6.1.2.1.17.7.1.2.2.1.2")

# Vendor subtrees used for identification when the system group is missing or generic.
# docs/standards.md#d-1
HIK_DEVICE_TYPE = _o("HIK-DEVICE-MIB", "deviceType", "1.3.6.1.4.1.39165.1.1")
HIK_SOFTWARE_VERSION = _o("HIK-DEVICE-MIB", "softwVersion", "1.3.6.1.4.1.39165.1.3")  # recording
UBNT_RADIO_MODE = _o("UBNT-UniFi-MIB", "unifiRadioName", "1.3.6.1.4.1.41112.1.6.1.1.1.3")

# Kind evidence: what a device answers (read only when its system group does not decide).
UPS_IDENT_MODEL = _o("UPS-MIB", "upsIdentModel", "1.3.6.1.2.1.33.1.1.2")  # rfc/UPS-MIB.txt
# PowerNet-MIB (APC) upsBasicIdentModel: not in ../shared/reference/mibs; the number is the one
# recording apc_smt750x-nmc2 answers with the model ("Smart-UPS X 750").
APC_UPS_MODEL = _o("PowerNet-MIB", "upsBasicIdentModel", "1.3.6.1.4.1.318.1.1.1.1.1.1")
PRT_GENERAL_PRINTER_NAME = _o("Printer-MIB", "prtGeneralPrinterName",
                              "1.3.6.1.2.1.43.5.1.1.16")  # rfc/Printer-MIB.txt
HR_PRINTER_STATUS = _o("HOST-RESOURCES-MIB", "hrPrinterStatus", "1.3.6.1.2.1.25.3.5.1.1")
