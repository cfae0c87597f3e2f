"""SNMP traps and informs."""

from collectors.snmp_trap.plugin import SPEC

__all__ = ["SPEC"]
