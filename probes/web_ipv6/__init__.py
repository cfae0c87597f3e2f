from probes.web_ipv6.plugin import SPEC

__all__ = ["SPEC"]
