"""`campusmon init`: the first run on a campus — asks (or takes flags) for the campus, its
management subnets, credential sets and the central store; sweeps the subnets; writes a config
and an inventory that `check-config` accepts, and prints the next command.

Secrets go to files (0600) in the secrets folder beside the config, named in the YAML as
`${CREDENTIALS_DIRECTORY:-<folder>}/<name>`: the file itself when run by hand, systemd's copy
under the service (`campusmon install-service` adds the matching LoadCredential=).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import ipaddress
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# bounded sweep: a /20 at most, so a mistyped /8 cannot run for hours
MAX_ADDRESSES = 4096
SWEEP_CONCURRENCY = 64
SYS_DESCR = (1, 3, 6, 1, 2, 1, 1, 1, 0)
SYS_OBJECT_ID = (1, 3, 6, 1, 2, 1, 1, 2, 0)
SYS_NAME = (1, 3, 6, 1, 2, 1, 1, 5, 0)
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# identification's device class → the inventory kind to start from (the admin refines it)
KIND_OF_CLASS = {"switch": "access_switch", "router": "router", "firewall": "firewall",
                 "wlan_controller": "wlan_controller", "ap": "ap", "camera": "camera",
                 "nvr": "nvr", "ups": "ups", "printer": "printer", "server": "server"}


class InitError(ValueError):
    """A bad answer or flag; the message names it."""


@dataclass
class Community:
    name: str
    secret: str


@dataclass
class Answers:
    name: str
    code: str
    province: str
    students: int
    staff: int
    subnets: list[ipaddress.IPv4Network]
    communities: list[Community]
    central_url: str | None
    directory: Path
    data_dir: Path
    snmp_port: int = 161
    sweep_timeout: float = 1.0
    force: bool = False


@dataclass
class Found:
    address: str
    credential: str
    sys_name: str
    sys_descr: str
    vendor: str | None
    kind: str


@dataclass
class Sweep:
    found: list[Found] = field(default_factory=list)
    asked: int = 0


def parse_subnets(raw: list[str]) -> list[ipaddress.IPv4Network]:
    nets: list[ipaddress.IPv4Network] = []
    for item in raw:
        for part in item.split(","):
            if not part.strip():
                continue
            try:
                net = ipaddress.IPv4Network(part.strip(), strict=False)
            except ValueError as exc:
                raise InitError(f"management subnet '{part.strip()}': {exc}") from None
            nets.append(net)
    total = sum(n.num_addresses for n in nets)
    if total > MAX_ADDRESSES:
        raise InitError(f"management subnets cover {total} addresses; at most {MAX_ADDRESSES} "
                        "(give the switch management VLANs, not the campus)")
    return nets


def _hosts(nets: list[ipaddress.IPv4Network]) -> list[str]:
    out: list[str] = []
    for n in nets:
        out.extend(str(h) for h in (n.hosts() if n.num_addresses > 2 else n))
    return out


def _identify(descr: str, oid: tuple[int, ...] | None) -> tuple[str | None, str]:
    from agent.shared.vendors import Evidence, match_kind, match_vendor

    e = Evidence(sys_object_id=oid, sys_descr=descr)
    v = match_vendor(e)
    vendor = v.vendor if v is not None and v.vendor != "unknown" else None
    k = match_kind(e, v.vendor if v is not None else "unknown")
    kind = KIND_OF_CLASS.get(str(k.kind), "terminal") if k is not None else "terminal"
    return vendor, kind


class _Probe(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if not self.answer.done():
            self.answer.set_result(data)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable: nothing listens there, no need to wait for the timeout
        if not self.answer.done():
            self.answer.set_exception(exc)


async def _ask(address: str, port: int, community: Community, wait: float) -> Found | None:
    from collectors.snmp.fast.ber import GET, BerError, RequestEncoder, decode_response

    loop = asyncio.get_running_loop()
    payload = RequestEncoder(community.secret.encode()).encode(
        GET, 1, [SYS_DESCR, SYS_OBJECT_ID, SYS_NAME])
    transport, proto = await loop.create_datagram_endpoint(_Probe, remote_addr=(address, port))
    try:
        transport.sendto(payload)
        data = await asyncio.wait_for(proto.answer, wait)
        resp = decode_response(data, community.secret.encode())
    except (TimeoutError, BerError, OSError):
        return None
    finally:
        transport.close()
    if resp.error_status != 0:
        return None
    values = {tuple(vb.oid): vb.value for vb in resp.varbinds}
    descr_raw = values.get(SYS_DESCR)
    descr = descr_raw.decode("utf-8", "replace")[:300] if isinstance(descr_raw, bytes) else ""
    name_raw = values.get(SYS_NAME)
    name = name_raw.decode("utf-8", "replace")[:64] if isinstance(name_raw, bytes) else ""
    oid_raw = values.get(SYS_OBJECT_ID)
    oid = tuple(oid_raw) if isinstance(oid_raw, tuple) else None
    vendor, kind = _identify(descr, oid)
    return Found(address, community.name, name, descr, vendor, kind)


async def sweep(a: Answers) -> Sweep:
    """SNMP GET of the system group on every address with every credential set. Bounded:
    MAX_ADDRESSES × sets asks, SWEEP_CONCURRENCY at a time."""
    result = Sweep()
    gate = asyncio.Semaphore(SWEEP_CONCURRENCY)
    answers: list[Found] = []

    async def one(address: str, c: Community) -> None:
        async with gate:
            result.asked += 1
            f = await _ask(address, a.snmp_port, c, a.sweep_timeout)
            if f is not None:
                answers.append(f)

    await asyncio.gather(*(one(h, c) for h in _hosts(a.subnets) for c in a.communities))
    result.found = place(answers, [c.name for c in a.communities])
    return result


def place(answers: list[Found], order: list[str]) -> list[Found]:
    """One device per identity and one identity per address. A router answers on every
    interface address: it is kept once, at its lowest address. Addresses go in ascending order,
    each taking the first credential set (in the order given) whose device is not placed yet."""
    by_addr: dict[str, list[Found]] = {}
    for f in answers:
        by_addr.setdefault(f.address, []).append(f)
    placed: set[tuple[str, str, str]] = set()
    out: list[Found] = []
    for addr in sorted(by_addr, key=ipaddress.IPv4Address):
        for f in sorted(by_addr[addr], key=lambda f: order.index(f.credential)):
            ident = (f.credential, f.sys_name, f.sys_descr)
            if ident not in placed:
                placed.add(ident)
                out.append(f)
                break
    return out


def _device_id(f: Found, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9-]+", "-", f.sys_name.lower()).strip("-")[:40]
    if not base:
        base = "dev-" + f.address.replace(".", "-")
    ident, n = base, 2
    while ident in taken:
        ident, n = f"{base}-{n}", n + 1
    taken.add(ident)
    return ident


def inventory_doc(a: Answers, found: list[Found]) -> dict[str, Any]:
    taken: set[str] = set()
    devices = []
    for f in found:
        d: dict[str, Any] = {"id": _device_id(f, taken), "kind": f.kind, "ipv4": f.address,
                             "credential": f.credential}
        if f.vendor:
            d["vendor"] = f.vendor
        devices.append(d)
    return {"campus": {"code": a.code, "name": a.name, "province": a.province,
                       "students": a.students, "staff": a.staff},
            "devices": devices}


def config_doc(a: Answers, found: list[Found], secrets_dir: Path) -> dict[str, Any]:
    creds = [{"name": c.name, "type": "snmp_v2c",
              "community_file": f"${{CREDENTIALS_DIRECTORY:-{secrets_dir}}}/{c.name}"}
             for c in a.communities]
    inputs: list[dict[str, Any]] = [{"type": "host"}]
    if found:
        port = {"port": a.snmp_port} if a.snmp_port != 161 else {}
        inputs.append({"type": "snmp", "name": "network", "interval_secs": 60, **port,
                       "profiles": ["system", "interfaces", "ip", "ipv6", "lldp"],
                       "targets": {"kinds": sorted({f.kind for f in found})}})
    doc: dict[str, Any] = {"agent": {"inventory": "inventory.yaml", "data_dir": str(a.data_dir),
                                     "interval_secs": 60},
                           "credentials": creds, "inputs": inputs}
    if a.central_url:
        doc["outputs"] = [{"type": "influxdb", "name": "central", "url": a.central_url,
                           "gzip": True}]
    return doc


def _write_secret(path: Path, value: str) -> None:
    # created 0600 (no window where another user could read it), then written
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    path.chmod(0o600)


def write_all(a: Answers, found: list[Found]) -> tuple[Path, Path]:
    a.directory.mkdir(parents=True, exist_ok=True)
    config, inventory = a.directory / "campusmon.yaml", a.directory / "inventory.yaml"
    for p in (config, inventory):
        if p.exists() and not a.force:
            raise InitError(f"{p} exists (give --force to overwrite)")
    secrets_dir = a.directory / "secrets"
    secrets_dir.mkdir(mode=0o700, exist_ok=True)
    secrets_dir.chmod(0o700)
    for c in a.communities:
        _write_secret(secrets_dir / c.name, c.secret)
    head = (f"# Written by `campusmon init` for {a.name} ({a.code}). Secrets live in "
            f"{secrets_dir} (0600), never here.\n")
    inventory.write_text(head + "# Kinds come from SNMP identification: refine core/"
                         "aggregation switches, add buildings and rooms.\n"
                         + yaml.safe_dump(inventory_doc(a, found), allow_unicode=True,
                                          sort_keys=False), encoding="utf-8")
    config.write_text(head + yaml.safe_dump(config_doc(a, found, secrets_dir),
                                            allow_unicode=True, sort_keys=False),
                      encoding="utf-8")
    return config, inventory


def _community(raw: str) -> Community:
    """NAME=FILE or NAME=env:VAR — never the secret itself on the command line (ps shows it)."""
    name, sep, src = raw.partition("=")
    if not sep or not NAME_RE.match(name):
        raise InitError(f"--snmp-community '{name}': give NAME=FILE or NAME=env:VAR")
    if src.startswith("env:"):
        value = os.environ.get(src[4:])
        if not value:
            raise InitError(f"--snmp-community {name}: environment variable {src[4:]} is unset")
        return Community(name, value.strip())
    try:
        value = Path(src).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise InitError(f"--snmp-community {name}: cannot read {src}: {exc.strerror}") from None
    if not value:
        raise InitError(f"--snmp-community {name}: {src} is empty")
    return Community(name, value)


def _ask_text(prompt: str, default: str | None = None) -> str:
    shown = f"{prompt} [{default}]: " if default else f"{prompt}: "
    while True:
        value = input(shown).strip() or (default or "")
        if value:
            return value


def _interactive(args: argparse.Namespace) -> None:
    args.name = args.name or _ask_text("Campus name")
    args.code = args.code or _ask_text("Campus code (lowercase, e.g. hn-cs-01)")
    args.province = args.province or _ask_text("Province", "Hunan")
    args.students = args.students if args.students is not None else int(
        _ask_text("Students", "0"))
    args.staff = args.staff if args.staff is not None else int(_ask_text("Staff", "0"))
    if not args.subnet:
        args.subnet = [_ask_text("Management subnets (comma-separated CIDRs)")]
    if not args.snmp_community:
        comms = []
        while True:
            name = input("SNMP v2c credential set name (empty to finish): ").strip()
            if not name:
                break
            comms.append(Community(name, getpass.getpass(f"community for {name}: ").strip()))
        args.communities = comms
    if args.central_url is None:
        args.central_url = input("Central store URL (empty: local store only): ").strip() or ""


def answers(args: argparse.Namespace) -> Answers:
    comms = getattr(args, "communities", None) or [
        _community(c) for c in args.snmp_community or []]
    missing = [n for n, v in (("--name", args.name), ("--code", args.code),
                              ("--subnet", args.subnet)) if not v]
    if missing:
        raise InitError(f"--non-interactive needs {', '.join(missing)}")
    if not CODE_RE.match(args.code):
        raise InitError(f"--code '{args.code}': lowercase letters, digits and '-' (≤ 32)")
    if not comms:
        raise InitError("give at least one credential set (--snmp-community NAME=FILE)")
    names = [c.name for c in comms]
    if len(set(names)) != len(names):
        raise InitError("credential set names repeat")
    if (args.students or 0) < 0 or (args.staff or 0) < 0:
        raise InitError("--students / --staff cannot be negative")
    directory = Path(args.dir).absolute()
    data_dir = (Path(args.data_dir).absolute() if args.data_dir
                else Path("/var/lib/campusmon") if directory == Path("/etc/campusmon")
                else directory / "data")
    return Answers(name=args.name, code=args.code, province=args.province or "",
                   students=args.students or 0, staff=args.staff or 0,
                   subnets=parse_subnets(args.subnet), communities=comms,
                   central_url=args.central_url or None, directory=directory,
                   data_dir=data_dir, snmp_port=args.snmp_port,
                   sweep_timeout=args.sweep_timeout, force=args.force)


def _cmd(args: argparse.Namespace) -> int:
    try:
        if not args.non_interactive:
            _interactive(args)
        a = answers(args)
    except (InitError, ValueError, EOFError) as exc:
        print(f"campusmon: init: {exc}", file=sys.stderr)
        return 2
    hosts = sum(n.num_addresses for n in a.subnets)
    print(f"sweeping {hosts} addresses with {len(a.communities)} credential set(s) "
          f"(SNMP port {a.snmp_port}) …")
    result = asyncio.run(sweep(a))
    for f in result.found:
        print(f"  {f.address:15} {f.kind:16} {f.vendor or '-':10} {f.sys_name or '-'} "
              f"(credential {f.credential})")
    try:
        config, inventory = write_all(a, result.found)
    except InitError as exc:
        print(f"campusmon: init: {exc}", file=sys.stderr)
        return 2
    print(f"{len(result.found)} devices answered; wrote {config} and {inventory}")
    print(f"next: campusmon check-config {config} && campusmon run --config {config}\n"
          f"  (as a service: campusmon install-service --config {config})")
    return 0


def register(sub: Any) -> None:
    sp = sub.add_parser("init", help="first run: ask for the campus, sweep it, write the config")
    sp.add_argument("--non-interactive", action="store_true", help="take everything from flags")
    sp.add_argument("--name", help="campus name")
    sp.add_argument("--code", help="campus code (lowercase, the `campus` tag)")
    sp.add_argument("--province")
    sp.add_argument("--students", type=int)
    sp.add_argument("--staff", type=int)
    sp.add_argument("--subnet", action="append", help="management subnet CIDR (repeatable)")
    sp.add_argument("--snmp-community", action="append", metavar="NAME=FILE|NAME=env:VAR",
                    help="an SNMPv2c credential set; the secret from a file or variable")
    sp.add_argument("--snmp-port", type=int, default=161)
    sp.add_argument("--sweep-timeout", type=float, default=1.0, help="seconds per SNMP ask")
    sp.add_argument("--central-url", help="central store (VictoriaMetrics / vmagent) URL")
    sp.add_argument("--dir", default="/etc/campusmon", help="where config and inventory go")
    sp.add_argument("--data-dir", help="agent data dir (default: DIR/data)")
    sp.add_argument("--force", action="store_true", help="overwrite an existing config")
    sp.set_defaults(func=_cmd)
