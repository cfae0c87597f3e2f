from collectors.ssh.backup.plugin import SPEC

__all__ = ["SPEC"]
