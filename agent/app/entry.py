"""The `campusmon` console script: `--version` answers before the plugins are imported.

Importing the CLI imports every built-in plugin's SPEC (pydantic models, catalogue; the
client libraries load where their plugin works, tests/agent/app/test_lazy_imports.py): still
~50 MiB and most of a second; a package manager's or an admin's `campusmon --version` should
not pay for that.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def wants_version(argv: Sequence[str]) -> bool:
    """`--version` (or -V) given before any subcommand; global options may precede it."""
    for arg in argv:
        if arg in ("--version", "-V"):
            return True
        if not arg.startswith("-"):
            return False
    return False


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if wants_version(args):
        from agent import __version__

        print(f"campusmon {__version__}")
        return 0
    from agent.app.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
