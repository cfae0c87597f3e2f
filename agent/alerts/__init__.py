from agent.alerts.plugin import SPEC

__all__ = ["SPEC"]
