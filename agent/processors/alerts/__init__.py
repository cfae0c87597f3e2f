from agent.processors.alerts.plugin import SPEC

__all__ = ["SPEC"]
