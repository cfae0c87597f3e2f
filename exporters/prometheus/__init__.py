from exporters.prometheus.plugin import SPEC

__all__ = ["SPEC"]
