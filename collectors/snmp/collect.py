"""One poll of one device: read the selected profiles through an `SnmpSession`.

Failures are kept per walk: a walk that stopped early keeps what arrived, and the poll goes on
with the next walk. A timeout or an auth failure ends the poll (the device is gone or refuses
us; more requests would only add timeouts); what was collected is kept. So does a poll that
spends its time budget: the step in progress is dropped, the steps done are kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from agent.core.errors import CollectError
from agent.core.model import ErrorType
from collectors.snmp import oids as O
from collectors.snmp.identify import (
    Answer,
    Facts,
    Probe,
    identify,
    needs_answers,
    probes_needed,
)
from collectors.snmp.mibs import MibObject
from collectors.snmp.oids import Obj
from collectors.snmp.profiles.engine import Readings, evaluate
from collectors.snmp.profiles.engine import Row as ProfileRow
from collectors.snmp.profiles.load import ProfileSet
from collectors.snmp.records import (
    DeviceData,
    EntityInfo,
    Profile,
    parse_addresses,
    parse_entity,
    parse_fdb,
    parse_interfaces,
    parse_ip_stats,
    parse_lldp,
    parse_neighbors,
    parse_system,
)
from collectors.snmp.session import Oid, SnmpSession, VarBind
from collectors.snmp.values import number, rows, text
from collectors.snmp.walker import ColumnResult, PartialWalk
from collectors.snmp.wlan import ApField, Controller, WlanMap, build_controller, maps_for

_ENDS_POLL = frozenset({ErrorType.TIMEOUT, ErrorType.AUTH})
_GET_ROWS_MAX = 30  # a bigger table is as cheap to walk (25 rows a request) as to GET
_GET_VARBINDS = 30  # varbinds per profile GET: well under any agent's PDU size


_RECHECK_POLLS = 20  # a table found absent is looked for again after this many polls


@dataclass(slots=True)
class ProfileMemory:
    """What the plugin remembers of one device across polls: the tables it lacks (their first
    column came back empty), so steady-state polls do not ask again every time, and the poll
    count that spaces out profiles with `every: N`."""

    polls: int = 0
    absent: dict[str, int] = field(default_factory=dict)  # column → poll it was found absent
    # kind evidence the device answered, for (sysObjectID, sysDescr), and the poll it was read
    answers: tuple[tuple[Oid | None, str], frozenset[Answer], int] | None = None

    def known_absent(self, column: str) -> bool:
        seen = self.absent.get(column)
        return seen is not None and self.polls - seen < _RECHECK_POLLS


@dataclass(slots=True)
class _Reads:
    """What one poll has read of its profiles' columns, and the rows each table has."""

    done: set[str] = field(default_factory=set)
    rows: dict[str, list[Oid]] = field(default_factory=dict)  # row (MIB::entry) → indexes


@dataclass(frozen=True, slots=True)
class WalkFailure:
    what: str  # MIB::object
    error_type: ErrorType
    detail: str


class _PollEnded(Exception):
    pass


@dataclass(slots=True)
class PollResult:
    data: DeviceData
    failures: list[WalkFailure] = field(default_factory=list)
    out_of_time: bool = False  # the poll's budget ran out before every step was read


class DevicePoller:
    """Reads one device; `run()` returns typed data plus the failures met on the way."""

    def __init__(self, session: SnmpSession, profiles: Iterable[Profile],
                 device_profiles: ProfileSet | None = None,
                 profile_names: Sequence[str] | None = None,
                 memory: ProfileMemory | None = None) -> None:
        """`device_profiles`: the YAML profiles to choose from (None: none are read);
        `profile_names`: read exactly these, else every one whose `match` holds; `memory`:
        the device's state across polls (None: a one-off poll reads everything)."""
        self.session = session
        self.profiles = frozenset(profiles) | {Profile.SYSTEM}
        self.device_profiles = device_profiles
        self.profile_names = profile_names
        self.memory = memory
        self.failures: list[WalkFailure] = []
        self._facts: Facts | None = None

    def _fail(self, what: str, exc: CollectError) -> None:
        self.failures.append(WalkFailure(what, exc.error_type, str(exc)))
        if exc.error_type in _ENDS_POLL:
            raise _PollEnded from exc

    async def _walk(self, objs: Sequence[Obj]) -> dict[Obj, list[VarBind]]:
        out: dict[Obj, list[VarBind]] = {}
        # A transport that walks several columns per GETBULK (the fast one) gets them all at
        # once; the failures are then kept in column order, as one walk after another would.
        walk_many = getattr(self.session, "walk_many", None) if len(objs) > 1 else None
        if walk_many is not None:
            results: list[ColumnResult] = await walk_many([o.oid for o in objs])
            for obj, (vbs, _) in zip(objs, results, strict=True):
                out[obj] = vbs
            for obj, (_, exc) in zip(objs, results, strict=True):
                if exc is not None:
                    self._fail(f"{obj.mib}::{obj.name}", exc)
            return out
        for obj in objs:
            try:
                out[obj] = await self.session.walk(obj.oid)
            except CollectError as exc:
                # A walk that stopped early carries what arrived as `varbinds` (walker's
                # PartialWalk, and the fast transport's own).
                arrived = exc.varbinds if isinstance(exc, PartialWalk) else getattr(
                    exc, "varbinds", [])
                out[obj] = list(arrived)
                self._fail(f"{obj.mib}::{obj.name}", exc)
        return out

    async def _get(self, objs: Sequence[Obj]) -> dict[Obj, VarBind]:
        try:
            vbs = await self.session.get([o.instance for o in objs])
        except CollectError as exc:
            self._fail(", ".join(f"{o.mib}::{o.name}" for o in objs), exc)
            return {}
        by_oid = {vb.oid: vb for vb in vbs}
        return {o: by_oid[o.instance] for o in objs if o.instance in by_oid}

    async def run(self, deadline: float | None = None) -> PollResult:
        """Raises CollectError only when nothing at all arrived (the system GET failed).
        `deadline` (event loop time): then the poll stops and returns what it has (a TIMEOUT
        failure says so); None: no limit but the requests' own timeouts."""
        vbs = await self.session.get([o.instance for o in O.SYSTEM])
        system = parse_system({vb.oid: vb for vb in vbs})
        # Identity from the system group alone until the vendor probes refine it.
        data = DeviceData(system=system,
                          identity=identify(Facts(system.object_id, system.descr)),
                          profiles=self.profiles)
        budget = asyncio.timeout_at(deadline)
        try:
            async with budget:
                await self._identify(data)
                await self._profiles(data)
                self._wlan_answer(data)
                await self._device_profiles(data)
        except _PollEnded:
            pass
        except TimeoutError:
            if not budget.expired():
                raise
            # `data` is filled step by step, so what the finished steps read is in it
            self.failures.append(WalkFailure(
                "poll budget", ErrorType.TIMEOUT,
                "the poll's time ran out; kept what the finished steps read"))
            return PollResult(data, self.failures, out_of_time=True)
        return PollResult(data, self.failures)

    async def _identify(self, data: DeviceData) -> None:
        system = data.system
        probes: set[Probe] = set()
        hik_model = hik_firmware = ""
        if probes_needed(system.object_id, system.descr):
            hik = await self._get([O.HIK_DEVICE_TYPE, O.HIK_SOFTWARE_VERSION])
            hik_model = text(hik.get(O.HIK_DEVICE_TYPE))
            hik_firmware = text(hik.get(O.HIK_SOFTWARE_VERSION))
            if hik_model:
                probes.add(Probe.HIKVISION)
            if (await self._walk([O.UBNT_RADIO_MODE]))[O.UBNT_RADIO_MODE]:
                probes.add(Probe.UBIQUITI)
        facts = Facts(system.object_id, system.descr, frozenset(probes))
        data.identity = identify(facts)
        # A system-group-only poll stays one GET: what the device answers is read when the
        # poll reads more than the system group anyway.
        if needs_answers(data.identity) and self.profiles - {Profile.SYSTEM}:
            answers = await self._remembered_answers((system.object_id, system.descr),
                                                     hik_model)
            facts = Facts(system.object_id, system.descr, frozenset(probes), answers)
            data.identity = identify(facts)
        self._facts = facts
        entity = EntityInfo()
        if Profile.ENTITY in self.profiles:
            try:
                entity = parse_entity(await self._walk(O.ENTITY))
            except (ValueError, TypeError, KeyError, IndexError) as exc:
                self.failures.append(WalkFailure("profile entity", ErrorType.PARSE,
                                                 f"{type(exc).__name__}: {exc}"))
        data.entity = EntityInfo(
            model=entity.model or hik_model,
            serial=entity.serial,
            firmware=entity.firmware or hik_firmware,
            manufacturer=entity.manufacturer,
        )

    async def _remembered_answers(self, system: tuple[Oid | None, str],
                                  hik_model: str) -> frozenset[Answer]:
        """What the device answers changes with its software, not between polls: read again
        when the system group changed or after a while."""
        mem = self.memory
        if mem is not None and mem.answers is not None:
            key, answers, at = mem.answers
            if key == system and mem.polls - at < _RECHECK_POLLS:
                return answers
        answers = await self._answers(hik_model)
        if mem is not None:
            mem.answers = (system, answers, mem.polls)
        return answers

    async def _answers(self, hik_model: str) -> frozenset[Answer]:
        """Kind evidence from what the device answers (a few GETs and two short walks)."""
        out: set[Answer] = set()
        got = await self._get([O.UPS_IDENT_MODEL, O.APC_UPS_MODEL, O.IP_FORWARDING])
        if text(got.get(O.UPS_IDENT_MODEL)):
            out.add(Answer.UPS_MIB)
        if text(got.get(O.APC_UPS_MODEL)):
            out.add(Answer.APC_UPS)
        if number(got.get(O.IP_FORWARDING)) == 1:  # forwarding(1)
            out.add(Answer.IP_FORWARDING)
        if hik_model.upper().startswith("DS-2CD"):
            out.add(Answer.HIK_IPC)
        printer = await self._walk([O.PRT_GENERAL_PRINTER_NAME, O.HR_PRINTER_STATUS])
        if any(printer.values()):
            out.add(Answer.PRINTER_MIB)
        ports = await self._walk([O.DOT1D_BASE_PORT_IFINDEX])
        if len(ports[O.DOT1D_BASE_PORT_IFINDEX]) >= 2:
            out.add(Answer.BRIDGE_PORTS)
        return frozenset(out)

    def _wlan_answer(self, data: DeviceData) -> None:
        """An AP table is evidence too; it is read with the wlan profile, after identity."""
        facts = self._facts
        if (facts is None or data.wlan is None or not data.wlan.aps
                or not needs_answers(data.identity) or Answer.WLAN_APS in facts.answers):
            return
        self._facts = Facts(facts.sys_object_id, facts.sys_descr, facts.probes,
                            facts.answers | {Answer.WLAN_APS})
        data.identity = identify(self._facts)

    async def _profiles(self, data: DeviceData) -> None:
        steps = ((Profile.INTERFACES, self._interfaces), (Profile.IPV6, self._ipv6),
                 (Profile.IP, self._ip), (Profile.LLDP, self._lldp), (Profile.FDB, self._fdb),
                 (Profile.WLAN, self._wlan_step))
        for profile, step in steps:
            if profile not in self.profiles:
                continue
            try:
                await step(data)
            except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
                # Values no parser expected: this profile is lost, the rest of the poll is kept.
                self.failures.append(WalkFailure(f"profile {profile.value}", ErrorType.PARSE,
                                                 f"{type(exc).__name__}: {exc}"))

    async def _device_profiles(self, data: DeviceData) -> None:
        """The YAML profiles the identity selects: each object read once per poll."""
        if self.device_profiles is None:
            return
        system = data.system
        chosen = self.device_profiles.select(system.object_id, system.descr,
                                             data.identity.vendor, self.profile_names)
        data.matched_profiles = tuple(p.name for p in chosen)
        mem = self.memory
        if mem is not None:
            mem.polls += 1
            chosen = [p for p in chosen if (mem.polls - 1) % p.every == 0]
        readings = Readings()
        reads = _Reads()
        # every profile's scalars in one GET (UPS-MIB, STP …)
        scalars = {o.qualified: o for p in chosen for m in p.metrics for o in m.objects()
                   if o.node == "scalar"}
        if scalars:
            oids = [(*o.oid, 0) for o in scalars.values()]
            by_oid = {vb.oid: vb for vb in await self._get_raw(oids)}
            for q, o in scalars.items():
                vb = by_oid.get((*o.oid, 0))
                if vb is not None:
                    readings.scalars[q] = vb
        for prof in chosen:
            for m in prof.metrics:
                if not m.scalar:
                    # The rows come from the first field's column: when the device has none,
                    # the metric's other columns are not read at all (most devices lack most
                    # tables), and the next polls do not ask for a while.
                    base = m.base.qualified
                    if mem is not None and mem.known_absent(base):
                        continue
                    await self._columns([m.base], readings, reads)
                    if not readings.columns.get(base):
                        if mem is not None and base not in mem.absent:
                            mem.absent[base] = mem.polls
                        continue
                    if mem is not None:
                        mem.absent.pop(base, None)
                    await self._columns([o for o in m.objects() if o.node == "column"],
                                        readings, reads)
                try:
                    data.health.extend(evaluate(m, readings))
                except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
                    self.failures.append(WalkFailure(f"profile {prof.name}", ErrorType.PARSE,
                                                     f"{type(exc).__name__}: {exc}"))
        data.health = _merged(data.health)

    async def _columns(self, objs: Sequence[MibObject], readings: Readings,
                       reads: _Reads) -> None:
        """Read columns not read yet. A column of a table whose rows are already known (another
        of its columns was walked) and small is fetched by GET of exactly those rows, many
        columns per request; otherwise it is walked. (A row missing from the first column read
        but present in a later one is not seen: vendor health tables are dense.)"""
        gets: list[tuple[MibObject, Oid]] = []
        for o in objs:
            if o.qualified in reads.done:
                continue
            reads.done.add(o.qualified)
            rows = reads.rows.get(o.row)
            if rows is not None and len(rows) <= _GET_ROWS_MAX:
                gets.extend((o, idx) for idx in rows)
                continue
            obj = Obj(o.mib, o.name, o.oid)
            readings.add_column(o, (await self._walk([obj]))[obj])
            found = readings.columns.get(o.qualified)
            if found and o.row:
                reads.rows.setdefault(o.row, sorted(found))
        for i in range(0, len(gets), _GET_VARBINDS):
            chunk = gets[i:i + _GET_VARBINDS]
            by_col: dict[str, list[VarBind]] = {}
            got = {vb.oid: vb for vb in await self._get_raw([(*o.oid, *idx)
                                                             for o, idx in chunk])}
            for o, idx in chunk:
                vb = got.get((*o.oid, *idx))
                if vb is not None:
                    by_col.setdefault(o.qualified, []).append(vb)
            for o, _ in chunk:
                if o.qualified in by_col:
                    readings.add_column(o, by_col.pop(o.qualified))

    async def _get_raw(self, oids: Sequence[Oid]) -> list[VarBind]:
        try:
            return await self.session.get(list(oids))
        except CollectError as exc:
            self._fail(f"GET of {len(oids)} profile objects", exc)
            return []

    async def _interfaces(self, data: DeviceData) -> None:
        data.interfaces, data.interface_indexes = parse_interfaces(
            await self._walk(O.INTERFACES))

    async def _ipv6(self, data: DeviceData) -> None:
        data.addresses = parse_addresses(await self._walk(
            [O.IP_ADDRESS_IFINDEX, O.IP_ADDRESS_TYPE]))
        fwd = await self._get([O.IP_FORWARDING, O.IPV6_FORWARDING])
        data.ipv4_forwarding = number(fwd.get(O.IP_FORWARDING))
        data.ipv6_forwarding = number(fwd.get(O.IPV6_FORWARDING))
        await self._neighbors(data)

    async def _neighbors(self, data: DeviceData) -> None:
        """ipNetToPhysicalTable, read once per poll (IPv6 clients count, FDB IPs)."""
        if data.neighbors is None:
            data.neighbors = parse_neighbors(await self._walk([O.IP_NET_TO_PHYS_ADDR]))

    async def _ip(self, data: DeviceData) -> None:
        data.ip_stats = parse_ip_stats(await self._walk(O.IP_SYSTEM_STATS),
                                       await self._walk(O.IP_IF_STATS))

    async def _lldp(self, data: DeviceData) -> None:
        data.lldp = parse_lldp(
            await self._walk([O.LLDP_LOC_PORT_ID, O.LLDP_LOC_PORT_DESC]),
            await self._walk([O.LLDP_REM_CHASSIS_SUBTYPE, O.LLDP_REM_CHASSIS_ID,
                              O.LLDP_REM_PORT_ID, O.LLDP_REM_SYS_NAME]))

    async def _fdb(self, data: DeviceData) -> None:
        await self._neighbors(data)
        data.fdb = parse_fdb(
            await self._walk([O.DOT1D_BASE_PORT_IFINDEX]),
            await self._walk([O.DOT1Q_TP_FDB_PORT]),
            await self._walk([O.DOT1D_TP_FDB_PORT]),
            data.neighbors or [],
            await self._walk([O.IP_NET_TO_MEDIA_ADDR]))

    async def _wlan_step(self, data: DeviceData) -> None:
        data.wlan = await self._wlan(data.identity.vendor)

    async def _wlan(self, vendor: str) -> Controller | None:
        """Only the vendor's own maps are read; an empty AP-name column means no AP table."""
        found: list[Controller] = []
        for m in maps_for(vendor):
            controller = await self._wlan_map(m)
            if controller is not None:
                found.append(controller)
        if not found:
            return None
        return Controller(
            aps=tuple(ap for c in found for ap in c.aps),
            aps_total=_sum_known(c.aps_total for c in found),
            clients_total=_sum_known(c.clients_total for c in found),
        )

    async def _wlan_map(self, m: WlanMap) -> Controller | None:
        name_col = m.ap[ApField.NAME]
        names = await self._walk([name_col])
        if not names[name_col]:
            return None
        ap_walks = {**names, **await self._walk([c for c in m.ap.values() if c != name_col])}
        radio_walks = await self._walk(list(m.radio.values())) if m.radio else {}
        totals = await self._get([o for o in (m.aps_total, m.clients_total) if o is not None])
        return build_controller(
            m, rows(ap_walks), rows(radio_walks),
            number(totals.get(m.aps_total)) if m.aps_total else None,
            number(totals.get(m.clients_total)) if m.clients_total else None,
        )


def _merged(rows: list[ProfileRow]) -> list[ProfileRow]:
    """Rows of one series (a transceiver's sensors, each its own table row, all joined on the
    port) become one point with all their fields."""
    out: dict[tuple[str, tuple[tuple[str, str], ...]], ProfileRow] = {}
    for r in rows:
        key = (r.measurement, tuple(sorted(r.tags.items())))
        have = out.get(key)
        if have is None:
            out[key] = ProfileRow(r.measurement, dict(r.tags), dict(r.fields))
        else:
            have.fields.update(r.fields)
    return list(out.values())


def _sum_known(values: Iterable[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None
