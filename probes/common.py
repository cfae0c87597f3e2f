"""Shared IPv4/IPv6 logic for every prober: the family, addresses, OS errors → `ErrorType`.

Every prober takes an `Endpoint` (one family, one literal address) so the same code runs over
both families; the dual-stack plugin builds one endpoint per family and compares the results.
"""

from __future__ import annotations

import enum
import errno
import ipaddress
import socket
import ssl
from dataclasses import dataclass

from agent.core.model import ErrorType


class Family(enum.StrEnum):
    IPV4 = "ipv4"
    IPV6 = "ipv6"

    @property
    def af(self) -> socket.AddressFamily:
        return socket.AF_INET if self is Family.IPV4 else socket.AF_INET6

    @staticmethod
    def of(address: str) -> Family:
        return Family.IPV6 if ipaddress.ip_address(address.split("%", 1)[0]).version == 6 \
            else Family.IPV4


def families(choice: str) -> tuple[Family, ...]:
    """'ipv4' | 'ipv6' | 'both' → the families to probe, IPv4 first."""
    if choice == "both":
        return (Family.IPV4, Family.IPV6)
    return (Family(choice),)


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


def normalise_ip(text: str, *, keep_scope: bool = False) -> str:
    """Canonical text form (compressed IPv6) so replies match requests; the scope id
    ("%eth0", needed to reach a link-local address) is dropped unless `keep_scope`."""
    addr, sep, scope = text.partition("%")
    af = socket.AF_INET6 if ":" in addr else socket.AF_INET
    try:  # inet_pton/ntop: the kernel's canonical form, ~10x cheaper than ipaddress
        canon = socket.inet_ntop(af, socket.inet_pton(af, addr))
    except OSError:
        raise ValueError(f"not an IP address: {text!r}") from None
    return f"{canon}%{scope}" if keep_scope and sep and scope else canon


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One address of one family; `name` is the host name it came from, if any."""

    family: Family
    address: str
    name: str | None = None

    def url_host(self) -> str:
        return f"[{self.address}]" if self.family is Family.IPV6 else self.address


_ERRNO_TYPES: dict[int, ErrorType] = {
    errno.ECONNREFUSED: ErrorType.REFUSED,
    errno.ECONNRESET: ErrorType.PROTOCOL,
    errno.EHOSTUNREACH: ErrorType.UNREACHABLE,
    errno.ENETUNREACH: ErrorType.UNREACHABLE,
    errno.EADDRNOTAVAIL: ErrorType.UNREACHABLE,
    errno.EAFNOSUPPORT: ErrorType.UNREACHABLE,
    errno.EINVAL: ErrorType.UNREACHABLE,  # e.g. a link-local address without a scope
    errno.ETIMEDOUT: ErrorType.TIMEOUT,
    errno.EACCES: ErrorType.PERMISSION,
    errno.EPERM: ErrorType.PERMISSION,
}


def error_type_of(exc: BaseException) -> ErrorType:
    """The one place that maps library/OS exceptions of the stdlib probers to an ErrorType."""
    if isinstance(exc, TimeoutError):
        return ErrorType.TIMEOUT
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return ErrorType.TLS
    if isinstance(exc, socket.gaierror):
        return ErrorType.DNS
    if isinstance(exc, OSError) and exc.errno is not None:
        return _ERRNO_TYPES.get(exc.errno, ErrorType.UNREACHABLE)
    if isinstance(exc, UnicodeError | ValueError):
        return ErrorType.PARSE
    return ErrorType.INTERNAL


def describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


class ProbeFailure(Exception):
    """A prober's typed failure; the caller turns it into a failed `ProbeResult`."""

    def __init__(self, error_type: ErrorType, detail: str = "") -> None:
        super().__init__(detail or error_type.value)
        self.error_type = error_type
        self.detail = detail or error_type.value
