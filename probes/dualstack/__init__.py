from probes.dualstack.plugin import SPEC

__all__ = ["SPEC"]
