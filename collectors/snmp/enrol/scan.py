"""The enrolment scan: sweep prefixes, try credential sets in order, identify, crawl LLDP/CDP.

Identification is the SNMP collector's own (`DevicePoller` → `identify()` over the vendor
catalogue); this module adds only what enrolment needs on top: which credential set works,
the chassis MAC, LLDP/CDP management addresses to crawl, and a paced, bounded sweep.
Every address a packet goes to is recorded in `ScanResult.contacted` (the traffic audit).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from agent.core.errors import CollectError
from agent.core.model import ErrorType
from collectors.snmp import oids as O
from collectors.snmp.collect import DevicePoller
from collectors.snmp.enrol.config import EnrolConfig, Network, parse_network
from collectors.snmp.oids import Obj
from collectors.snmp.records import DeviceData, Profile
from collectors.snmp.session import SnmpSession, VarBind, oid_to_str
from collectors.snmp.transport import SnmpCredential, TransportOptions, open_session
from collectors.snmp.values import display, inet_index, ip_of, mac, number, raw, rows, text
from config.credentials import Credential, SnmpV2cCredential, SnmpV3Credential

ENROL_PROFILES = (Profile.SYSTEM, Profile.ENTITY, Profile.IPV6, Profile.LLDP, Profile.FDB)

LLDP_LOC_CHASSIS_SUBTYPE = Obj("LLDP-MIB", "lldpLocChassisIdSubtype",
                               (1, 0, 8802, 1, 1, 2, 1, 3, 1))
LLDP_LOC_CHASSIS_ID = Obj("LLDP-MIB", "lldpLocChassisId", (1, 0, 8802, 1, 1, 2, 1, 3, 2))
# lldpRemManAddrIfSubtype: INDEX lldpRemTimeMark, LocalPortNum, RemIndex, ManAddrSubtype, ManAddr
LLDP_REM_MAN_ADDR_IF = Obj("LLDP-MIB", "lldpRemManAddrIfSubtype",
                           (1, 0, 8802, 1, 1, 2, 1, 4, 2, 1, 3))
CDP_ADDRESS = Obj("CISCO-CDP-MIB", "cdpCacheAddress", (1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1, 4))
CDP_DEVICE_ID = Obj("CISCO-CDP-MIB", "cdpCacheDeviceId",
                    (1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1, 6))
CDP_DEVICE_PORT = Obj("CISCO-CDP-MIB", "cdpCacheDevicePort",
                      (1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1, 7))
IF_NAME = Obj("IF-MIB", "ifName", (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1))
_MAX_NEIGHBOUR_ADDRS = 8  # management addresses kept per neighbour (bounded input)


class ScanError(ValueError):
    """The scan cannot start (bad prefix, too many addresses, a credential that is no SNMP
    set); the message names the argument or config key."""


@dataclass(frozen=True, slots=True)
class Attempt:
    credential: str  # the set's name, never its secret
    outcome: str  # "answered" or the error type (timeout, auth …)


@dataclass(frozen=True, slots=True)
class Neighbour:
    protocol: str  # lldp / cdp
    local_port: str
    remote_sys_name: str
    remote_chassis: str
    remote_port: str
    addresses: tuple[str, ...] = ()


@dataclass(slots=True)
class Found:
    """One device that answered SNMP, with what identified it."""

    address: str
    port: int
    credential: str
    attempts: tuple[Attempt, ...]
    via: str  # sweep / seed / "lldp from <device>"
    sys_name: str = ""
    sys_descr: str = ""
    sys_object_id: str = ""
    location: str = ""
    vendor: str = ""
    vendor_rule: str = ""
    detected: str = "unknown"  # agent.shared.vendors.DeviceClass value
    kind_rule: str = ""
    os: str = ""
    model: str = ""
    serial: str = ""
    firmware: str = ""
    chassis_mac: str | None = None
    ipv4: tuple[str, ...] = ()  # IP-MIB, link-local left out
    ipv6: tuple[str, ...] = ()
    ipv4_forwarding: int | None = None
    neighbours: tuple[Neighbour, ...] = ()
    fdb: tuple[tuple[str, str], ...] = ()  # (MAC, port name)
    icmp_rtt_s: float | None = None

    @property
    def all_addresses(self) -> frozenset[str]:
        return frozenset((self.address, *self.ipv4, *self.ipv6))


@dataclass(slots=True)
class ScanResult:
    found: list[Found] = field(default_factory=list)
    silent: list[str] = field(default_factory=list)  # no SNMP answer with any credential
    refused: dict[str, tuple[Attempt, ...]] = field(default_factory=dict)  # answered, no set fit
    pinged: set[str] = field(default_factory=set)  # echo replies
    contacted: set[str] = field(default_factory=set)  # every address a packet went to
    swept: list[Network] = field(default_factory=list)
    not_scanned: list[str] = field(default_factory=list)  # the deadline came first
    notes: list[str] = field(default_factory=list)
    requests: int = 0  # SNMP probe requests of the sweep (paced)
    duration_s: float = 0.0


class Pace:
    """A steady pace for packets: `take(n)` returns when n more may go (no burst allowance,
    so a sweep never floods a subnet)."""

    def __init__(self, per_sec: float) -> None:
        self.interval = 1.0 / per_sec
        self._next = 0.0

    async def take(self, n: int = 1) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        at = max(now, self._next)
        self._next = at + n * self.interval
        if at > now:
            await asyncio.sleep(at - now)


def ordered_credentials(cfg: EnrolConfig, credentials: Mapping[str, Credential]
                        ) -> list[SnmpCredential]:
    """The sets to try: the config's list as written, else every SNMP set, v3 first."""
    if cfg.credentials:
        out: list[SnmpCredential] = []
        for name in cfg.credentials:
            cred = credentials.get(name)
            if not isinstance(cred, SnmpV2cCredential | SnmpV3Credential):
                raise ScanError(f"credentials: '{name}' is not an snmp_v2c/snmp_v3 set of "
                                "this config")
            out.append(cred)
        return out
    snmp = [c for c in credentials.values() if isinstance(c, SnmpV2cCredential | SnmpV3Credential)]
    v3 = [c for c in snmp if isinstance(c, SnmpV3Credential)]
    return [*v3, *(c for c in snmp if isinstance(c, SnmpV2cCredential))]


def within(address: str, nets: Sequence[Network]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip.version == n.version and ip in n for n in nets)


def expand(subnets: Sequence[Network], exclude: Sequence[Network], limit: int) -> list[str]:
    """Host addresses of the prefixes (network/broadcast left out for IPv4 /30 and wider),
    minus the exclusions; refuses more than `limit` (an IPv6 /64 is never swept whole)."""
    total = sum(n.num_addresses for n in subnets)
    if total > limit * 4 + 1024:
        raise ScanError(f"the prefixes hold {total} addresses, more than max_addresses "
                        f"({limit}); sweep smaller prefixes (IPv6: a /120 or seeds + crawl)")
    out: list[str] = []
    seen: set[str] = set()
    for net in subnets:
        hosts: Iterable[object] = net.hosts() if net.num_addresses > 2 else iter(net)
        for ip in hosts:
            s = str(ip)
            if s in seen or within(s, exclude):
                continue
            seen.add(s)
            out.append(s)
            if len(out) > limit:
                raise ScanError(f"more than max_addresses ({limit}) addresses to sweep")
    return out


Progress = Callable[[int, int, int], None]  # done, total, devices found


class Scanner:
    """One scan. `run(subnets, seeds)` sweeps, identifies and crawls within the allowed
    prefixes, paced and bounded by the config's deadline."""

    def __init__(self, cfg: EnrolConfig, credentials: Mapping[str, Credential],
                 progress: Progress | None = None) -> None:
        self.cfg = cfg
        self.creds = ordered_credentials(cfg, credentials)
        if not self.creds:
            raise ScanError("no snmp_v2c/snmp_v3 credential set to try (credentials:)")
        self.exclude = [parse_network(x) for x in cfg.exclude]
        self.options = TransportOptions(timeout_s=cfg.request_timeout_secs,
                                        retries=cfg.retries)
        self.identify_options = TransportOptions(
            timeout_s=max(3.0, 3 * cfg.request_timeout_secs), retries=max(2, cfg.retries))
        self.pace = Pace(cfg.rate_per_sec)
        # one try: every attempt's timeout, an SNMPv3 discovery round trip, and slack
        self._try_bound = cfg.request_timeout_secs * (cfg.retries + 1) * 3 + 2.0
        self.progress = progress
        self.result = ScanResult()
        self._visited: set[str] = set()
        # pysnmp shares USM users between the sessions of a loop, and closing one SNMPv3
        # session can unconfigure a user a concurrent session is still using ("unknown
        # security name" mid-walk): SNMPv3 sessions are closed when the scan ends
        self._deferred: list[SnmpSession] = []
        self._done = 0
        self._total = 0

    async def run(self, subnets: Sequence[str], seeds: Sequence[str] = ()) -> ScanResult:
        started = time.monotonic()
        nets = [parse_network(s) for s in subnets]
        allow = [parse_network(a) for a in self.cfg.allow] or nets
        for n in nets:
            if not any(n.version == a.version and n.subnet_of(a)  # type: ignore[arg-type]
                       for a in allow):
                raise ScanError(f"subnet {n} is outside the allowed prefixes "
                                f"({', '.join(map(str, allow))})")
        self.allow = allow
        for s in seeds:
            if not within(s, allow) or within(s, self.exclude):
                raise ScanError(f"seed {s} is outside the allowed prefixes or excluded")
        self.result.swept = nets
        addresses = expand(nets, self.exclude, self.cfg.max_addresses)
        queue = list(dict.fromkeys([*seeds, *addresses]))
        self._total = len(queue)
        try:
            async with asyncio.timeout(self.cfg.deadline_secs):
                if self.cfg.icmp:
                    await self._ping(queue)
                await self._probe_all([(a, "seed" if a in seeds else "sweep") for a in queue])
        except TimeoutError:
            done = {f.address for f in self.result.found} | set(self.result.silent) | set(
                self.result.refused)
            self.result.not_scanned = [a for a in queue if a not in done]
            self.result.notes.append(f"deadline of {self.cfg.deadline_secs:g}s reached: "
                                     f"{len(self.result.not_scanned)} addresses not scanned")
        finally:
            for session in self._deferred:
                await session.close()
            self._deferred.clear()
        self.result.found.sort(key=lambda f: ipaddress.ip_address(f.address).packed)
        self.result.duration_s = time.monotonic() - started
        return self.result

    async def _ping(self, addresses: list[str]) -> None:
        # probes/icmp.py is the project's one ICMP implementation (datagram or raw socket)
        from probes.icmp import IcmpUnavailable, Pinger

        pinger = Pinger()
        chunk = max(1, int(self.cfg.rate_per_sec))
        try:
            for i in range(0, len(addresses), chunk):
                part = addresses[i:i + chunk]
                await self.pace.take(len(part))
                self.result.contacted.update(part)
                rtts = await pinger.sweep(part, timeout_s=self.cfg.request_timeout_secs)
                self.result.pinged.update(a for a, r in zip(part, rtts, strict=True)
                                          if r is not None)
        except IcmpUnavailable as exc:
            self.result.notes.append(f"ICMP not used: {exc}")

    async def _probe_all(self, work: list[tuple[str, str]]) -> None:
        sem = asyncio.Semaphore(self.cfg.parallel_probes)
        pending: list[tuple[str, str]] = list(work)
        while pending:
            batch = [(a, via) for a, via in pending if a not in self._visited]
            pending = []
            self._visited.update(a for a, _ in batch)

            async def one(address: str, via: str) -> list[tuple[str, str]]:
                async with sem:
                    return await self._probe(address, via)

            for more in await asyncio.gather(*(one(a, v) for a, v in batch)):
                pending.extend(more)
            new = {a for a, _ in pending if a not in self._visited}
            room = self.cfg.max_addresses - len(self._visited)
            if len(new) > room:
                self.result.notes.append(f"crawl stopped at max_addresses "
                                         f"({self.cfg.max_addresses})")
                keep = set(sorted(new)[:max(room, 0)])
                pending = [(a, v) for a, v in pending if a in keep]
            self._total += len(new)

    async def _probe(self, address: str, via: str) -> list[tuple[str, str]]:
        """Try the sets in order; identify a responder; return crawl candidates."""
        attempts: list[Attempt] = []
        found: Found | None = None
        for cred in self.creds:
            await self.pace.take()
            self.result.requests += 1
            self.result.contacted.add(address)
            session = await open_session(address, self.cfg.port, cred, self.options)
            try:
                # bounded even if a transport forgot its own timeout
                async with asyncio.timeout(self._try_bound):
                    vbs = await session.get([O.SYS_OBJECT_ID.instance])
                if not vbs or vbs[0].value is None:
                    raise CollectError(ErrorType.PROTOCOL, "no sysObjectID")
            except CollectError as exc:
                attempts.append(Attempt(cred.name, exc.error_type.value))
                await self._close(session, cred)
                continue
            except TimeoutError:
                attempts.append(Attempt(cred.name, ErrorType.TIMEOUT.value))
                await self._close(session, cred)
                continue
            attempts.append(Attempt(cred.name, "answered"))
            await self._close(session, cred)
            # identification reads tables: a session with room for a slow agent
            session = await open_session(address, self.cfg.port, cred, self.identify_options)
            try:
                found = await self._identify(session, address, cred.name, tuple(attempts), via)
            except CollectError as exc:
                attempts.append(Attempt(cred.name, f"identification failed: "
                                                   f"{exc.error_type.value}"))
            finally:
                await self._close(session, cred)
            break
        self._done += 1
        if found is None:
            if any(a.outcome != ErrorType.TIMEOUT.value for a in attempts):
                self.result.refused[address] = tuple(attempts)
            else:
                self.result.silent.append(address)
            self._report()
            return []
        self.result.found.append(found)
        self._report()
        if not self.cfg.crawl:
            return []
        out = []
        for n in found.neighbours:
            for a in n.addresses:
                if within(a, self.allow) and not within(a, self.exclude):
                    out.append((a, f"{n.protocol} from {found.sys_name or address}"))
        return out

    async def _close(self, session: SnmpSession, cred: SnmpCredential) -> None:
        if isinstance(cred, SnmpV3Credential):
            self._deferred.append(session)
        else:
            await session.close()

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self._done, max(self._total, self._done), len(self.result.found))

    async def _identify(self, session: SnmpSession, address: str, credential: str,
                        attempts: tuple[Attempt, ...], via: str) -> Found:
        data = (await DevicePoller(session, ENROL_PROFILES).run()).data
        extra = await _extra(session)
        return _found(data, extra, address, self.cfg.port, credential, attempts, via)


@dataclass(slots=True)
class _Extra:
    chassis_mac: str | None
    neighbours: list[Neighbour]
    if_names: dict[int, str]


async def _walk(session: SnmpSession, obj: Obj) -> list[VarBind]:
    try:
        return await session.walk(obj.oid)
    except CollectError as exc:  # a partial walk keeps what arrived; an absent table is empty
        return list(getattr(exc, "varbinds", []))


async def _extra(session: SnmpSession) -> _Extra:
    """What the collector's profiles do not read: chassis MAC, neighbours' management
    addresses (LLDP, CDP) and interface names (for FDB ports)."""
    chassis: str | None = None
    with contextlib.suppress(CollectError):
        got = {vb.oid: vb for vb in await session.get(
            [LLDP_LOC_CHASSIS_SUBTYPE.instance, LLDP_LOC_CHASSIS_ID.instance])}
        sub = number(got.get(LLDP_LOC_CHASSIS_SUBTYPE.instance))
        cid = raw(got.get(LLDP_LOC_CHASSIS_ID.instance))
        if sub == 4 and len(cid) == 6:
            chassis = mac(cid)
    man: dict[tuple[int, ...], list[str]] = {}
    n = len(LLDP_REM_MAN_ADDR_IF.oid)
    for vb in await _walk(session, LLDP_REM_MAN_ADDR_IF):
        idx = vb.oid[n:]
        decoded = inet_index(idx[3:]) if len(idx) > 3 else None
        if decoded is not None:
            man.setdefault(idx[:3], []).append(decoded[1])
    neighbours: list[Neighbour] = []
    # LLDP rows again by index, to join their management addresses
    rem_cols = (O.LLDP_REM_CHASSIS_SUBTYPE, O.LLDP_REM_CHASSIS_ID, O.LLDP_REM_PORT_ID,
                O.LLDP_REM_SYS_NAME)
    walks = {c: await _walk(session, c) for c in rem_cols}
    loc = {c: await _walk(session, c) for c in (O.LLDP_LOC_PORT_ID, O.LLDP_LOC_PORT_DESC)}
    ports = {idx[0]: text(r.get(O.LLDP_LOC_PORT_DESC)) or display(raw(r.get(O.LLDP_LOC_PORT_ID)))
             for idx, r in rows(loc).items() if len(idx) == 1}
    for idx, r in rows(walks).items():
        if len(idx) != 3:
            continue
        cid = raw(r.get(O.LLDP_REM_CHASSIS_ID))
        chassis_s = mac(cid) if number(r.get(O.LLDP_REM_CHASSIS_SUBTYPE)) == 4 and len(
            cid) == 6 else display(cid)
        neighbours.append(Neighbour(
            "lldp", clean(ports.get(idx[1]) or str(idx[1])),
            clean(text(r.get(O.LLDP_REM_SYS_NAME))), clean(chassis_s),
            clean(display(raw(r.get(O.LLDP_REM_PORT_ID)))),
            tuple(man.get(idx, ())[:_MAX_NEIGHBOUR_ADDRS])))
    if_names = {vb.oid[-1]: clean(text(vb)) for vb in await _walk(session, IF_NAME)
                if len(vb.oid) == len(IF_NAME.oid) + 1}
    cdp = {c: await _walk(session, c) for c in (CDP_ADDRESS, CDP_DEVICE_ID, CDP_DEVICE_PORT)}
    for idx, r in rows(cdp).items():
        if len(idx) != 2:
            continue
        addr = ip_of(r.get(CDP_ADDRESS))
        neighbours.append(Neighbour("cdp", clean(if_names.get(idx[0], str(idx[0]))),
                                    clean(text(r.get(CDP_DEVICE_ID))), "",
                                    clean(text(r.get(CDP_DEVICE_PORT))),
                                    (addr,) if addr else ()))
    return _Extra(chassis, neighbours, if_names)


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_MAX_TEXT = 200


def clean(s: str) -> str:
    """What a device says goes into YAML values and comments: one line, bounded (a newline in
    a serial must not become a key of the inventory)."""
    return _CONTROL.sub(" ", s).strip()[:_MAX_TEXT]


def _found(data: DeviceData, extra: _Extra, address: str, port: int, credential: str,
           attempts: tuple[Attempt, ...], via: str) -> Found:
    ident, system, entity = data.identity, data.system, data.entity
    v4 = tuple(dict.fromkeys(a.address for a in data.addresses
                             if a.family == "ipv4" and a.scope != "linklocal"))
    v6 = tuple(dict.fromkeys(a.address for a in data.addresses
                             if a.family == "ipv6" and a.scope in ("global", "ula")))
    fdb = tuple((e.mac, extra.if_names.get(e.if_index or -1, str(e.if_index or e.bridge_port)))
                for e in data.fdb)
    return Found(
        address=address, port=port, credential=credential, attempts=attempts, via=via,
        sys_name=clean(system.name), sys_descr=clean(system.descr),
        sys_object_id=oid_to_str(system.object_id) if system.object_id else "",
        location=clean(system.location), vendor=ident.vendor, vendor_rule=ident.domestic_rule,
        detected=ident.kind.value, kind_rule=ident.kind_rule, os=ident.os,
        model=clean(entity.model), serial=clean(entity.serial),
        firmware=clean(entity.firmware),
        chassis_mac=extra.chassis_mac, ipv4=v4, ipv6=v6,
        ipv4_forwarding=data.ipv4_forwarding, neighbours=tuple(extra.neighbours), fdb=fdb)
