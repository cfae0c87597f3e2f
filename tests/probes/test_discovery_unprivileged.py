"""The agent as the service runs it: an unprivileged user (nobody) whose only privilege is
CAP_NET_RAW as an ambient capability (what the systemd unit grants when discovery is on,
`AmbientCapabilities=CAP_NET_RAW`). LAN discovery works through the capability alone in a
namespace LAN; without it the listener says which capability it needs and the agent stays up.

nobody cannot run the venv's interpreter (pyenv under /root), so the agent runs on Debian's
Python 3.11 with the checkout and the venv's site-packages on PYTHONPATH (same CPython ABI).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.probes.netns import Lab
from tests.servers import REPO, require_binary, require_root, unavailable

pytestmark = [pytest.mark.root, pytest.mark.timeout(240)]

HOSTS = [("00:e0:fc:98:00:01", "10.98.10.11", True),
         ("00:e0:fc:98:00:02", "10.98.10.12", True),
         ("c0:56:e3:98:00:03", "10.98.10.13", False)]
NOBODY = 65534


@dataclass
class Lan:
    lab: Lab
    mon: str
    work: Path


@pytest.fixture(scope="module")
def lan() -> Iterator[Lan]:
    require_root()
    work = Path(tempfile.mkdtemp(prefix="campusmon-unpriv-"))
    work.chmod(0o755)
    lab = Lab()
    try:
        mon, sw = lab.ns("umon"), lab.ns("usw")
        lab.sysctl(sw, "net.ipv6.conf.all.disable_ipv6", "1")
        lab.sysctl(sw, "net.ipv6.conf.default.disable_ipv6", "1")
        lab.bridge(sw, "br0")
        lab.veth(mon, "m0", sw, "pm")
        lab.enslave(sw, "pm", "br0")
        lab.addr(mon, "m0", "10.98.10.1/24")
        for i, (mac, a4, _) in enumerate(HOSTS):
            h = lab.ns(f"uh{i}")
            lab.veth(h, "e0", sw, f"p{i}")
            lab.enslave(sw, f"p{i}", "br0")
            lab.mac(h, "e0", mac)
            lab.addr(h, "e0", f"{a4}/24")
        inv = work / "inventory.yaml"
        inv.write_text("campus: {code: lab, name: Lab}\ndevices:\n" + "".join(
            f"  - {{id: host{i}, kind: server, mac: '{m}', ipv4: {a4}}}\n"
            for i, (m, a4, reg) in enumerate(HOSTS) if reg))
        data = work / "data"
        data.mkdir()
        shutil.chown(data, NOBODY, NOBODY)
        (work / "agent.yaml").write_text(
            f"agent:\n  inventory: {inv}\n  data_dir: {data}\ninputs:\n"
            "  - type: lan_discovery\n    interfaces: [m0]\n    listen_secs: 4\n"
            "    sweep_interval_secs: 600\n")
        yield Lan(lab, mon, work)
    finally:
        lab.close()
        shutil.rmtree(work, ignore_errors=True)


def _as_nobody(lan: Lan, caps: bool) -> subprocess.CompletedProcess[str]:
    setpriv = require_binary("setpriv")
    python = Path("/usr/bin/python3")
    if not python.exists():
        unavailable("Debian's /usr/bin/python3 is missing (nobody cannot run the venv's)")
    site = next(Path(sys.prefix).glob("lib/python3*/site-packages"))
    priv = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    if caps:
        priv += ["--inh-caps=+net_raw", "--ambient-caps=+net_raw"]
    return subprocess.run(
        ["ip", "netns", "exec", lan.mon, *priv, "env", f"PYTHONPATH={REPO}:{site}",
         "HOME=/nonexistent", str(python), "-m", "agent.app.entry", "once", "--config",
         str(lan.work / "agent.yaml"), "--listen-secs", "12"],
        capture_output=True, text=True, cwd=lan.work, timeout=150)


def test_discovery_through_the_capability_alone(lan: Lan) -> None:
    r = _as_nobody(lan, caps=True)
    assert r.returncode == 0, r.stderr[-3000:]
    [hosts] = [ln for ln in r.stdout.splitlines() if ln.startswith("lan_hosts,")]
    assert "unregistered=1i" in hosts and "registered=2i" in hosts, hosts
    events = [ln for ln in r.stdout.splitlines() if ln.startswith("event,")]
    assert sum("event_kind=unregistered_device" in e for e in events) == 1, events


def test_without_the_capability_it_says_which(lan: Lan) -> None:
    r = _as_nobody(lan, caps=False)
    assert r.returncode == 0, r.stderr[-3000:]
    assert not [ln for ln in r.stdout.splitlines() if ln.startswith("lan_hosts,")]
    assert "CAP_NET_RAW" in r.stdout + r.stderr, (r.stdout[-2000:], r.stderr[-2000:])
