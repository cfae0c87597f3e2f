from exporters.alertlog.plugin import SPEC

__all__ = ["SPEC"]
