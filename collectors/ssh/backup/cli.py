"""`campusmon config history|diff|show DEVICE`: read the configuration repository.

    campusmon config history DEVICE [-n 20]          commits of one device, newest first
    campusmon config diff DEVICE [REV [REV]]         last change, or REV..HEAD, or REV..REV
    campusmon config show DEVICE [REV]               the stored configuration (masked)

The repository is found from the agent config (`--config FILE`: its config_backup instance's
data dir and `repository`) or given (`--repo DIR`). Exit status: 0 done, 1 nothing stored for
that device or revision, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from collectors.ssh.backup.config import ConfigBackupConfig
from collectors.ssh.backup.repo import ConfigRepo, RepoError


def _fail(message: str, code: int = 2) -> int:
    print(f"campusmon: {message}", file=sys.stderr)
    return code


def _repo(args: argparse.Namespace, registry: Any) -> ConfigRepo:
    if args.repo:
        return ConfigRepo(Path(args.repo))
    if not args.config:
        raise ValueError("give --config FILE (the agent config) or --repo DIR")
    from config.loader import load_config  # the CLI only: plugins never load configs

    cfg = load_config(Path(args.config), registry)
    found = [i for i in cfg.inputs if i.spec.name == "config_backup"
             and (args.instance is None or i.name == args.instance)]
    if not found:
        raise ValueError(f"{args.config}: no config_backup input"
                         + (f" named {args.instance!r}" if args.instance else ""))
    inst = found[0].config
    assert isinstance(inst, ConfigBackupConfig)
    return ConfigRepo(cfg.data_dir / inst.repository)


def cmd_config(args: argparse.Namespace, registry: Any) -> int:
    if len(getattr(args, "revs", [])) > 2:
        return _fail("diff takes at most two revisions")
    try:
        repo = _repo(args, registry)
    except ValueError as exc:
        return _fail(str(exc))
    if not (repo.path / ".git").is_dir():
        return _fail(f"no configuration repository at {repo.path}", 1)
    try:
        if args.action == "history":
            entries = repo.history(args.device, args.limit)
            if not entries:
                return _fail(f"no backup of {args.device} in {repo.path}", 1)
            for e in entries:
                print(f"{e.commit[:12]}  {e.time}  {e.subject}")
            return 0
        if not repo.history(args.device, 1):
            return _fail(f"no backup of {args.device} in {repo.path}", 1)
        lines = (repo.show(args.device, args.revs[0] if args.revs else "HEAD")
                 if args.action == "show" else repo.diff(args.device, args.revs))
        wrote = False
        for line in lines:  # streamed: a 10 MB configuration is never held here
            sys.stdout.write(line)
            wrote = True
        if args.action == "show" and not wrote:
            return _fail(f"{args.device} has no configuration at {args.revs or ['HEAD']}", 1)
        return 0
    except RepoError as exc:
        return _fail(str(exc))


def register(sub: Any, ctx: Any) -> None:
    registry = getattr(ctx, "registry", None)
    p = sub.add_parser("config", help="config_backup: history, diffs and stored configurations "
                                      "of a device")
    actions = p.add_subparsers(dest="action", required=True)
    for name, text in (("history", "commits of one device, newest first"),
                       ("diff", "last change, REV..HEAD, or REV..REV"),
                       ("show", "the stored (masked) configuration, at HEAD or REV")):
        a = actions.add_parser(name, help=text)
        a.add_argument("device")
        if name == "history":
            a.add_argument("-n", "--limit", type=int, default=20)
        elif name == "diff":
            a.add_argument("revs", nargs="*", metavar="REV")
        else:
            a.add_argument("revs", nargs="?", metavar="REV", type=lambda v: [v], default=[])
        where = a.add_mutually_exclusive_group()
        where.add_argument("--config", help="agent config with a config_backup input")
        where.add_argument("--repo", help="the repository directory itself")
        a.add_argument("--instance", help="config_backup input name (several in one config)")
        a.set_defaults(func=lambda args: cmd_config(args, registry))
