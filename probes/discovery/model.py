"""What discovery observes on the wire, as plain typed data (no scapy types past client.py)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class AddressSeen:
    """A host answered or spoke with this MAC and address (ARP, NA/NS, echo reply)."""

    mac: str
    address: str
    via: str  # arp | ndp | echo6 | dhcp


@dataclass(frozen=True, slots=True)
class RouterAdvert:
    mac: str
    address: str  # link-local source of the RA
    prefixes: tuple[str, ...] = ()
    lifetime_s: int = 0


@dataclass(frozen=True, slots=True)
class DhcpServer:
    kind: str  # dhcp | dhcpv6
    mac: str
    address: str
    server_id: str = ""  # DHCP option 54 / DHCPv6 server DUID (hex)
    offered: str = ""  # address offered, when any


@dataclass(frozen=True, slots=True)
class DhcpClient:
    """A DHCP DISCOVER/REQUEST a client broadcast: its fingerprint (option 55 in order, option
    60 vendor class, option 12 host name), for the terminal OS census."""

    mac: str
    param_list: tuple[int, ...] = ()
    vendor_class: str = ""
    hostname: str = ""


@dataclass(frozen=True, slots=True)
class HostName:
    """A name a host announced for itself (mDNS response: `<name>.local`; NetBIOS name
    registration or positive query response: via netbios)."""

    mac: str
    name: str
    via: str = "mdns"


@dataclass(frozen=True, slots=True)
class LldpMed:
    """What an endpoint announced of itself in LLDP-MED (system description, inventory)."""

    mac: str
    system_descr: str = ""
    software_rev: str = ""
    manufacturer: str = ""
    model: str = ""


Observation = AddressSeen | RouterAdvert | DhcpServer | DhcpClient | HostName | LldpMed


@dataclass(slots=True)
class Host:
    mac: str
    ipv4: set[str] = field(default_factory=set)
    ipv6: set[str] = field(default_factory=set)
    via: set[str] = field(default_factory=set)
