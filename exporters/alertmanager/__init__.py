from exporters.alertmanager.plugin import SPEC

__all__ = ["SPEC"]
