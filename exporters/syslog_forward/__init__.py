"""Received syslog lines relayed to the central log system."""

from exporters.syslog_forward.plugin import SPEC

__all__ = ["SPEC"]
