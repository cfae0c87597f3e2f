from exporters.webhook.plugin import SPEC

__all__ = ["SPEC"]
