from collectors.ssh.plugin import SPEC

__all__ = ["SPEC"]
