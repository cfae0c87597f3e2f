from probes.discovery.plugin import SPEC

__all__ = ["SPEC"]
