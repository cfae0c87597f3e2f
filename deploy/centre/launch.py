#!/usr/bin/env python3
"""Start the province centre described by centre.yaml (pilot / test), or print its systemd units.

    python3 deploy/centre/launch.py --print-units            # one unit per component
    python3 deploy/centre/launch.py --set DATA=/tmp/c ...    # run everything in the foreground

The tests import `argv_for` to start the same processes on free loopback ports.
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
SPEC = HERE / "centre.yaml"
ORDER = ("vm-a", "vm-b", "vmagent", "alertmanager", "vmalert")
_VAR = re.compile(r"\$\{([A-Z_]+)\}")


def load(overrides: dict[str, str] | None = None) -> tuple[dict[str, str], dict[str, Any]]:
    doc = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    values = {k: str(v) for k, v in doc["vars"].items()}
    values.update(overrides or {})
    return values, doc["components"]


def argv_for(name: str, overrides: dict[str, str] | None = None) -> list[str]:
    values, comps = load(overrides)
    comp = comps[name]
    binary = shutil.which(comp["binary"]) or comp["binary"]

    def sub(text: str) -> str:
        return _VAR.sub(lambda m: values[m.group(1)], text)

    return [binary, *(sub(a) for a in comp["args"])]


def unit(name: str) -> str:
    argv = argv_for(name)
    return (f"[Unit]\nDescription=campusmon province centre: {name}\nAfter=network-online.target\n"
            f"\n[Service]\nExecStart={' '.join(argv)}\nRestart=always\nRestartSec=5\n"
            "User=campusmon-centre\nStateDirectory=campusmon-centre\nProtectSystem=strict\n"
            "ProtectHome=yes\nNoNewPrivileges=yes\nLimitNOFILE=65536\n"
            "\n[Install]\nWantedBy=multi-user.target\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--print-units", action="store_true")
    args = ap.parse_args()
    overrides = dict(s.split("=", 1) for s in args.set)
    if args.print_units:
        for name in ORDER:
            print(f"# /etc/systemd/system/campusmon-centre-{name}.service\n{unit(name)}")
        return 0
    procs = [subprocess.Popen(argv_for(n, overrides)) for n in ORDER]
    stop = False

    def on_signal(*_: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stop and all(p.poll() is None for p in procs):
        time.sleep(0.5)
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
