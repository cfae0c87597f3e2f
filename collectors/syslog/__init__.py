"""Syslog RFC 5424/3164 over UDP, TCP and TLS."""

from collectors.syslog.plugin import SPEC

__all__ = ["SPEC"]
