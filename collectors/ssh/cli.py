"""Commands for whoever adds a platform or checks a device's output against our templates:

    campusmon ssh-templates                          platform → command → template, as JSON
    campusmon ssh-parse PLATFORM KIND FILE           parse saved CLI output, print the rows

Exit status of ssh-parse: 0 parsed, 1 the output does not parse (message names the command),
2 bad input.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from agent.core.plugin import CliContext
from collectors.ssh.normalize import NORMALIZERS, NormalizeError
from collectors.ssh.parsing import ParseFailure, parse, template_path
from collectors.ssh.platforms import COMMAND_SETS, CommandKind, Platform


def _dump(doc: Any) -> None:
    json.dump(doc, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


def cmd_templates(args: argparse.Namespace) -> int:
    _dump({p.value: [{"kind": c.kind.value, "command": c.cli, "source": c.source.value,
                      "template": str(template_path(c.source, c.template)),
                      "device_kinds": sorted(k.value for k in c.kinds) if c.kinds else None}
                     for c in cmds] for p, cmds in COMMAND_SETS.items()})
    return 0


def cmd_parse(args: argparse.Namespace) -> int:
    platform, kind = Platform(args.platform), CommandKind(args.kind)
    cmd = next((c for c in COMMAND_SETS[platform] if c.kind is kind), None)
    if cmd is None:
        print(f"campusmon: {platform.value} has no {kind.value} command", file=sys.stderr)
        return 2
    try:
        text = Path(args.file).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        print(f"campusmon: {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        rows = NORMALIZERS[cmd.template](parse(cmd, text))
    except (ParseFailure, NormalizeError) as exc:
        print(f"campusmon: {args.file}: {cmd.cli}: {exc}", file=sys.stderr)
        return 1
    _dump({"command": cmd.cli, "template": cmd.template,
           "rows": [{"type": type(r).__name__, **dataclasses.asdict(r)} for r in rows]})
    return 0


def register(sub: Any, ctx: CliContext | None = None) -> None:
    p = sub.add_parser("ssh-templates", help="SSH collector: commands and templates per platform")
    p.set_defaults(func=cmd_templates)
    p = sub.add_parser("ssh-parse", help="SSH collector: parse saved CLI output with our template")
    p.add_argument("platform", choices=[x.value for x in Platform])
    p.add_argument("kind", choices=[x.value for x in CommandKind])
    p.add_argument("file")
    p.set_defaults(func=cmd_parse)
