"""SNMP session options: which transport, timeouts, repetitions, in-flight bounds.

Their own module so the transports (`collectors/snmp/fast/`) and the factory that picks one
(`transport.py`) both read them without importing each other.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class TransportKind(enum.StrEnum):
    AUTO = "auto"
    PYSNMP = "pysnmp"
    FAST = "fast"


class AesKeyExtension(enum.StrEnum):
    """How AES-192/256 stretch the localized key: no RFC fixes it, vendors differ."""

    REEDER = "reeder"  # Cisco and most network vendors (net-snmp calls it AES192C/AES256C)
    BLUMENTHAL = "blumenthal"  # net-snmp's own AES192/AES256 (Linux-based boxes)


@dataclass(frozen=True, slots=True)
class TransportOptions:
    timeout_s: float = 2.0  # per request attempt
    retries: int = 1
    max_repetitions: int = 25
    min_repetitions: int = 1
    max_inflight_per_device: int = 1
    max_inflight_global: int = 256
    transport: TransportKind = TransportKind.AUTO
    aes_key_extension: AesKeyExtension = AesKeyExtension.REEDER
