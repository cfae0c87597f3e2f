from probes.systems.plugin import SPEC

__all__ = ["SPEC"]
