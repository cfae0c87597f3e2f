"""Modbus TCP devices by register maps in YAML."""

from collectors.modbus.plugin import SPEC

__all__ = ["SPEC"]
