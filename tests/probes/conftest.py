"""A dual-stack lab of network namespaces, built once per session.

    client ns C ── veth c1/s1 ── server ns S1   10.99.1.0/24, fd00:99:1::/64
               └── veth c2/s2 ── server ns S2   10.99.2.0/24, fd00:99:2::/64 (IPv6 dropped)

S1 runs dnsmasq (A, AAAA, NS records), Python http.server per address and family, and a TCP
listener on IPv6 only. In S2 a blackhole route for the client's IPv6 address silently drops
every IPv6 answer while IPv4 keeps working: the "IPv6 quietly broken" case.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.probes.netns import Lab, run_in
from tests.servers import require_binary, require_root

SYS_PY = "/usr/bin/python3"
ZONE = "campus.test"
HOSTS = {  # name → (A, AAAA)
    "both": ("10.99.1.2", "fd00:99:1::2"),
    "v6only": (None, "fd00:99:1::3"),
    "v4only": ("10.99.1.3", None),
    "deadv6": ("10.99.1.2", "fd00:99:1::99"),
    "www": ("10.99.1.4", "fd00:99:1::4"),
    "diff": ("10.99.1.5", "fd00:99:1::5"),
    "ns1": ("10.99.1.2", "fd00:99:1::2"),
    "dropped": ("10.99.2.2", "fd00:99:2::2"),
    "ns.legacy": ("10.99.1.2", None),
    "www.legacy": ("10.99.1.4", "fd00:99:1::4"),
}
RESOLVER4, RESOLVER6 = "10.99.1.2", "fd00:99:1::2"
V6ONLY_TCP_PORT = 8022
SLOW_V6_PORT = 8081
# answers IPv6 clients 300 ms late: IPv6 works but much slower than IPv4
SLOW_SERVER = """
import http.server, socket, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if ":" in self.client_address[0]:
            time.sleep(0.3)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
class S6(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
addr = sys.argv[1]
server = S6 if ":" in addr else http.server.ThreadingHTTPServer
server((addr, int(sys.argv[2])), H).serve_forever()
"""


def _wire(name: str) -> str:
    return "".join(f"{len(p):02x}" + p.encode().hex() for p in name.split(".")) + "00"


def _page(title: str, links: list[str], extra: str = "") -> str:
    items = "".join(f'<li><a href="{h}">{h}</a></li>' for h in links)
    return (f"<!doctype html><html><head><title>{title}</title></head><body>"
            f"<h1>{title}</h1>{extra}<ul>{items}</ul></body></html>\n")


def write_site(root: Path, *, skip: tuple[str, ...] = (), home_extra: str = "") -> None:
    """Homepage → 2 second-level pages → 2 third-level pages each, plus an external link."""
    pages = {
        "index.html": _page("Campus", ["/news/", "/about/", "http://elsewhere.example/x",
                                        "#top", "mailto:a@b.c"], home_extra),
        "news/index.html": _page("News", ["/news/1.html", "/news/2.html", "/"]),
        "about/index.html": _page("About", ["/about/history.html", "contact.html"]),
        "news/1.html": _page("N1", []), "news/2.html": _page("N2", []),
        "about/history.html": _page("History", []), "about/contact.html": _page("Contact", []),
    }
    for rel, text in pages.items():
        if rel in skip:
            continue
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


@dataclass
class DualStackLab:
    lab: Lab
    client: str
    s1: str
    s2: str

    def run(self, fn: Callable[..., Any], *args: Any, uid: int | None = None,
            prepare: Callable[[], None] | None = None, timeout: float = 60.0) -> Any:
        """fn(*args) inside the client namespace (see netns.run_in)."""
        return run_in(self.client, fn, *args, uid=uid, prepare=prepare, timeout=timeout)


def _wait_ports(targets: list[tuple[str, int]], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    pending = list(targets)
    while pending and time.monotonic() < deadline:
        host, port = pending[0]
        try:
            with socket.create_connection((host, port), timeout=0.5):
                pending.pop(0)
        except OSError:
            time.sleep(0.05)
    if pending:
        raise TimeoutError(f"not listening: {pending}")
    return True


@pytest.fixture(scope="session")
def dslab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DualStackLab]:
    require_root()
    dnsmasq = require_binary("dnsmasq")
    work = tmp_path_factory.mktemp("dslab")
    lab = Lab()
    try:
        c, s1, s2 = lab.ns("c"), lab.ns("s1"), lab.ns("s2")
        lab.veth(c, "c1", s1, "s1")
        lab.veth(c, "c2", s2, "s2")
        lab.addr(c, "c1", "10.99.1.1/24", "fd00:99:1::1/64")
        lab.addr(c, "c2", "10.99.2.1/24", "fd00:99:2::1/64")
        lab.addr(s1, "s1", *(f"10.99.1.{i}/24" for i in (2, 3, 4, 5)),
                 *(f"fd00:99:1::{i}/64" for i in (2, 3, 4, 5)))
        lab.addr(s2, "s2", "10.99.2.2/24", "fd00:99:2::2/64")
        for ns in (s1, s2):
            lab.sysctl(ns, "net.ipv4.icmp_ratelimit", "0")
            lab.sysctl(ns, "net.ipv6.icmp.ratelimit", "0")
        lab.exec(s2, "ip", "-6", "route", "add", "blackhole", "fd00:99:2::1/128")
        args = [dnsmasq, "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                "--bind-interfaces", f"--listen-address={RESOLVER4}",
                f"--listen-address={RESOLVER6}", "--port=53", "--user=root",
                f"--pid-file={work}/dnsmasq.pid", "--log-queries", f"--local=/{ZONE}/"]
        for host, (a, aaaa) in HOSTS.items():
            addrs = ",".join(x for x in (a, aaaa) if x)
            args.append(f"--host-record={host}.{ZONE},{addrs}")
        args.append(f"--dns-rr={ZONE},2,{_wire('ns1.' + ZONE)}")
        args.append(f"--dns-rr=legacy.{ZONE},2,{_wire('ns.legacy.' + ZONE)}")
        lab.spawn(s1, args, work / "dnsmasq.log")
        # web sites: www identical on both families except one missing page over IPv6;
        # diff serves another homepage over IPv6
        write_site(work / "www4")
        write_site(work / "www6", skip=("news/2.html",))
        write_site(work / "diff4")
        write_site(work / "diff6", home_extra="<p>IPv6 visitors get an old copy</p>")
        write_site(work / "both")
        for addr, root in (("10.99.1.4", "www4"), ("fd00:99:1::4", "www6"),
                           ("10.99.1.5", "diff4"), ("fd00:99:1::5", "diff6"),
                           ("10.99.1.2", "both"), ("fd00:99:1::2", "both"),
                           ("10.99.2.2", "both"), ("fd00:99:2::2", "both")):
            ns = s2 if addr.startswith(("10.99.2", "fd00:99:2")) else s1
            lab.spawn(ns, [SYS_PY, "-m", "http.server", "--bind", addr, "80",
                           "--directory", str(work / root)], work / f"http-{root}.log")
        lab.spawn(s1, [SYS_PY, "-m", "http.server", "--bind", "fd00:99:1::2",
                       str(V6ONLY_TCP_PORT), "--directory", str(work / "both")],
                  work / "tcp6.log")
        for addr in ("10.99.1.2", "fd00:99:1::2"):
            lab.spawn(s1, [SYS_PY, "-c", SLOW_SERVER, addr, str(SLOW_V6_PORT)],
                      work / "slow.log")
        run_in(c, _wait_ports, [("10.99.1.4", 80), ("fd00:99:1::4", 80), ("10.99.1.5", 80),
                                ("fd00:99:1::5", 80), ("10.99.1.2", 80), ("fd00:99:1::2", 80),
                                ("10.99.2.2", 80), ("fd00:99:1::2", V6ONLY_TCP_PORT),
                                (RESOLVER4, 53), (RESOLVER6, 53), ("10.99.1.2", SLOW_V6_PORT),
                                ("fd00:99:1::2", SLOW_V6_PORT)])
        yield DualStackLab(lab, c, s1, s2)
    finally:
        lab.close()
