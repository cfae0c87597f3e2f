from collectors.host.plugin import SPEC

__all__ = ["SPEC"]
