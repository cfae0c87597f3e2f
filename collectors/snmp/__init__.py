"""SNMP collector (pysnmp 7 asyncio, plus an optional v2c fast path)."""

from collectors.snmp.plugin import SPEC

__all__ = ["SPEC"]
