"""`campusmon install-service`: write the systemd unit (and create the service user).

The unit is the packaged template (campusmon.service beside this file) filled in: capabilities
only for the features the config turns on, one `LoadCredential=` per secret file so the
service reads them from $CREDENTIALS_DIRECTORY, never from the YAML.
"""

from __future__ import annotations

import argparse
import os
import pwd
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

DEFAULT_UNIT = Path("/etc/systemd/system/campusmon.service")
DEFAULT_CONFIG = Path("/etc/campusmon/campusmon.yaml")
CRED_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# a secret file named as `${CREDENTIALS_DIRECTORY:-DIR}/NAME`: systemd's copy under the
# service (LoadCredential=NAME:DIR/NAME), the file itself when run by hand
CRED_REF = re.compile(r"^\$\{CREDENTIALS_DIRECTORY:-([^}]+)\}/([A-Za-z0-9_.-]{1,64})$")


@dataclass
class UnitOptions:
    exec_path: str
    config: str = str(DEFAULT_CONFIG)
    user: str = "campusmon"
    discovery: bool = False          # CAP_NET_RAW
    low_ports: bool = False          # CAP_NET_BIND_SERVICE
    json_logs: bool = False
    watchdog_secs: int = 60
    credentials: dict[str, str] = field(default_factory=dict)  # name -> secret file


def template() -> str:
    return (resources.files("agent.app.service") / "campusmon.service").read_text("utf-8")


def capabilities(opts: UnitOptions) -> list[str]:
    caps = []
    if opts.discovery:
        caps.append("CAP_NET_RAW")
    if opts.low_ports:
        caps.append("CAP_NET_BIND_SERVICE")
    return caps


def render(opts: UnitOptions) -> str:
    for name in opts.credentials:
        if not CRED_NAME.match(name):
            raise ValueError(f"credential name '{name}': letters, digits, '.', '_', '-' only")
    caps = capabilities(opts)
    note = ", ".join(caps) if caps else "none granted (no discovery, no port below 1024)"
    creds = "\n".join(f"LoadCredential={n}:{p}" for n, p in sorted(opts.credentials.items()))
    values = {"@EXEC@": opts.exec_path, "@CONFIG@": opts.config, "@USER@": opts.user,
              "@LOG_FORMAT@": "json" if opts.json_logs else "text",
              "@WATCHDOG@": str(opts.watchdog_secs), "@CAPS@": " ".join(caps),
              "@CAPS_NOTE@": note, "@CREDENTIALS@": creds}
    text = template()
    for k, v in values.items():
        text = text.replace(k, v)
    return text


def features_of(config: Path) -> tuple[bool, bool]:
    """(discovery on, a listener on a port below 1024) from the config's inputs."""
    try:
        raw: Any = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return False, False
    inputs = raw.get("inputs") or [] if isinstance(raw, dict) else []
    discovery = low = False
    for item in inputs:
        if not isinstance(item, dict):
            continue
        discovery |= item.get("type") == "lan_discovery"
        for key in ("port", "listen_port"):
            port = item.get(key)
            if isinstance(port, int) and 0 < port < 1024:
                low = True
        if item.get("type") in ("syslog", "snmp_trap") and not any(
                k in item for k in ("port", "listen_port")):
            low = True  # their defaults are 514 / 162
    return discovery, low


def secret_files_of(config: Path) -> dict[str, str]:
    """Every `*_file:` credential path under credentials: → a LoadCredential name."""
    try:
        raw: Any = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    out: dict[str, str] = {}
    for cred in (raw.get("credentials") or []) if isinstance(raw, dict) else []:
        if not isinstance(cred, dict):
            continue
        for k, v in cred.items():
            if not (k.endswith("_file") and isinstance(v, str)):
                continue
            m = CRED_REF.match(v)  # how `campusmon init` writes them
            if m:
                out[m.group(2)] = str(Path(m.group(1)) / m.group(2))
            elif "${" not in v:
                out[Path(v).name] = v
    return out


def _ensure_user(user: str) -> None:
    try:
        pwd.getpwnam(user)
        return
    except KeyError:
        pass
    subprocess.run(["useradd", "--system", "--home-dir", "/var/lib/campusmon", "--no-create-home",
                    "--shell", "/usr/sbin/nologin", user], check=True)


def _cmd(args: argparse.Namespace) -> int:
    config = Path(args.config)
    discovery, low = features_of(config)
    creds = secret_files_of(config)
    for item in args.credential or []:
        name, sep, path = item.partition("=")
        if not sep:
            print(f"campusmon: --credential takes NAME=FILE, got '{item}'", file=sys.stderr)
            return 2
        creds[name] = path
    exec_path = args.exec_path or shutil.which("campusmon") or str(
        Path(sys.executable).parent / "campusmon")
    opts = UnitOptions(exec_path=str(Path(exec_path).absolute()), config=str(config.absolute()),
                       user=args.user, discovery=discovery if args.discovery is None
                       else args.discovery, low_ports=low, json_logs=args.json_logs,
                       watchdog_secs=args.watchdog_secs, credentials=creds)
    try:
        text = render(opts)
    except ValueError as exc:
        print(f"campusmon: install-service: {exc}", file=sys.stderr)
        return 2
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    out.chmod(0o644)
    print(f"wrote {out} (capabilities: {', '.join(capabilities(opts)) or 'none'})")
    if args.create_user and os.geteuid() == 0:
        _ensure_user(args.user)
    if out == DEFAULT_UNIT:
        print("next: systemctl daemon-reload && systemctl enable --now campusmon")
    return 0


def register(sub: Any) -> None:
    sp = sub.add_parser("install-service", help="write the hardened systemd unit for the agent")
    sp.add_argument("--config", "-c", default=str(DEFAULT_CONFIG),
                    help="agent config the unit runs")
    sp.add_argument("--output", "-o", default=str(DEFAULT_UNIT), help="unit file ('-': stdout)")
    sp.add_argument("--user", default="campusmon", help="dedicated service user")
    sp.add_argument("--create-user", action="store_true", help="useradd --system if missing")
    sp.add_argument("--exec", dest="exec_path", help="campusmon executable (default: this one)")
    sp.add_argument("--discovery", action=argparse.BooleanOptionalAction, default=None,
                    help="grant CAP_NET_RAW (default: when the config has lan_discovery)")
    sp.add_argument("--json-logs", action="store_true", help="journal lines as JSON")
    sp.add_argument("--watchdog-secs", type=int, default=60)
    sp.add_argument("--credential", action="append", metavar="NAME=FILE",
                    help="extra secret file for LoadCredential= (repeatable)")
    sp.set_defaults(func=_cmd)
