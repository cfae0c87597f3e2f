"""Audits against cited national indicators, and the inspector report (issue 7)."""

from agent.audit.plugin import SPEC

__all__ = ["SPEC"]
