"""Runs every applicable probe of one target over IPv4 and IPv6 in the same cycle.

A `Plan` says what to probe (built from an inventory device, a static target, or the command
line); `Engine.run(plan)` resolves the name per family, runs the probers concurrently, and
returns the paired `ProbeResult`s plus the regression signal. The name → prober map is
`PROBERS`; each prober takes one `Endpoint` so IPv4 and IPv6 share all code.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from agent.core.model import ErrorType, ProbeResult, make_probe_result
from probes.clients import dns as dnsclient
from probes.common import Endpoint, Family, ProbeFailure, families, normalise_ip
from probes.dualstack.config import DualStackConfig
from probes.dualstack.plan import Plan
from probes.http import fetch
from probes.icmp import IcmpUnavailable, Pinger
from probes.regression import Regression, assess
from probes.resolve import Resolver
from probes.tcp import tcp_connect


@dataclass(slots=True)
class Report:
    plan: Plan
    addresses: dict[Family, str | None] = field(default_factory=dict)
    resolution: dict[Family, str] = field(default_factory=dict)  # why an address is missing
    results: list[ProbeResult] = field(default_factory=list)
    regression: Regression | None = None
    has_a: bool | None = None
    has_aaaa: bool | None = None

    def to_json(self) -> dict[str, object]:
        fams: dict[str, object] = {}
        for fam, addr in self.addresses.items():
            fams[fam.value] = {
                "address": addr,
                "note": self.resolution.get(fam, ""),
                "probes": [result_json(r) for r in self.results
                           if r.tags.get("family") == fam.value],
            }
        return {"target": self.plan.target, "hostname": self.plan.hostname,
                "families": fams,
                "ipv6_regression": self.regression.to_json() if self.regression else None}


def result_json(r: ProbeResult) -> dict[str, object]:
    m = r.to_metric()
    return {"probe": r.probe, "ok": r.ok, "tags": dict(r.tags),
            "error_type": r.error.value if r.error else None, "detail": r.detail,
            "fields": dict(m.fields)}


def failed(probe: str, tags: dict[str, str], t0: float, exc: ProbeFailure) -> ProbeResult:
    return ProbeResult(probe, False, time.perf_counter() - t0, tags, error=exc.error_type,
                       detail=exc.detail)


Prober = Callable[["Engine", Endpoint, Plan], Awaitable[list[ProbeResult]]]
# run_many's callback: (plan index, its results or the exception that broke it, regression)
Done = Callable[[int, "list[ProbeResult] | BaseException", "Regression | None"], None]


# run_many: how long the tick's ICMP burst waits for host names to resolve; a name answering
# later is probed on its own (a slow resolver delays the other targets by this, not by its
# timeout and retries)
RESOLVE_WAIT_S = 0.5


@dataclass(frozen=True, slots=True)
class _Prepared:
    names: tuple[str, ...]  # probers (keys of PROBERS)
    icmp: bool
    others: tuple[str, ...]  # the probers besides ICMP
    addresses: dict[Family, str | None] | None  # canonical; None: a host name, looked up


async def probe_icmp(eng: Engine, ep: Endpoint, plan: Plan) -> list[ProbeResult]:
    o = eng.cfg.icmp
    tags = {"family": ep.family.value, "address": ep.address}
    t0 = time.perf_counter()
    try:
        # batched: every target of this tick joins one burst (one sweep per round)
        stats = await eng.pinger.ping_batched(ep.address, count=o.count,
                                              interval_s=o.interval_secs,
                                              timeout_s=o.timeout_secs)
    except IcmpUnavailable as exc:
        return [ProbeResult("icmp", False, 0.0, tags, error=exc.error_type,
                            detail=str(exc), values={"loss_ratio": 1.0})]
    return [ProbeResult("icmp", stats.ok, time.perf_counter() - t0, tags, error=stats.error,
                        detail=stats.detail, values=stats.summary())]


async def probe_tcp(eng: Engine, ep: Endpoint, plan: Plan) -> list[ProbeResult]:
    async def one(port: int) -> ProbeResult:
        tags = {"family": ep.family.value, "address": ep.address, "port": str(port)}
        t0 = time.perf_counter()
        try:
            secs = await tcp_connect(ep, port, eng.cfg.tcp.timeout_secs)
        except ProbeFailure as exc:
            return failed("tcp", tags, t0, exc)
        return ProbeResult("tcp", True, time.perf_counter() - t0, tags,
                           values={"connect_seconds": secs})
    return list(await asyncio.gather(*(one(p) for p in plan.tcp_ports)))


async def probe_dns(eng: Engine, ep: Endpoint, plan: Plan) -> list[ProbeResult]:
    """The target is a resolver: ask it every name × type × transport over this family."""
    o = eng.cfg.dns

    async def one(name: str, qtype: str, transport: str) -> ProbeResult:
        tags = {"family": ep.family.value, "address": ep.address, "transport": transport,
                "qtype": qtype, "name": name}
        t0 = time.perf_counter()
        try:
            ans = await dnsclient.query(name, qtype, ep.address, transport=transport,
                                        timeout_s=o.timeout_secs)
        except ProbeFailure as exc:
            return failed("dns", tags, t0, exc)
        # like blackbox_exporter: the resolver works when it answers NOERROR; how many
        # records came back is the `answers` field (0 = NODATA), for alerting on content
        ok = ans.rcode == "NOERROR"
        return ProbeResult("dns", ok, ans.duration_s, tags,
                           error=None if ok else ErrorType.DNS,
                           detail="" if ok else f"rcode {ans.rcode}",
                           values={"answers": len(ans.answers)})
    return list(await asyncio.gather(*(one(n, q, t) for n in plan.dns_names
                                       for q in o.qtypes for t in o.transports)))


async def probe_http(eng: Engine, ep: Endpoint, plan: Plan) -> list[ProbeResult]:
    o = eng.cfg.http

    async def one(url: str) -> ProbeResult:
        tags = {"family": ep.family.value, "address": ep.address, "url": url}
        t0 = time.perf_counter()
        try:
            res = await fetch(url, ep, eng.resolve, timeout_s=o.timeout_secs,
                              max_redirects=o.max_redirects, verify_tls=o.verify_tls)
        except ProbeFailure as exc:
            return failed("http", tags, t0, exc)
        values: dict[str, int | float] = {"status_code": res.status, "redirects": res.redirects}
        if res.tls_expiry_s is not None:
            values["tls_expiry_seconds"] = res.tls_expiry_s
        ok = 200 <= res.status < 400
        return ProbeResult("http", ok, time.perf_counter() - t0, tags, phases=res.phases,
                           error=None if ok else ErrorType.PROTOCOL,
                           detail="" if ok else f"HTTP {res.status}", values=values)
    return list(await asyncio.gather(*(one(u) for u in plan.urls)))


PROBERS: dict[str, Prober] = {"icmp": probe_icmp, "tcp": probe_tcp, "dns": probe_dns,
                              "http": probe_http}


class Engine:
    def __init__(self, cfg: DualStackConfig, pinger: Pinger | None = None) -> None:
        self.cfg = cfg
        self.pinger = pinger or Pinger(cfg.icmp.socket)
        self.resolver = Resolver(cfg.resolvers, cfg.dns.timeout_secs)
        self.lookup = self.resolver.lookup
        self.resolve = self.resolver.resolve
        self._prep: dict[int, tuple[Plan, _Prepared]] = {}  # id(plan) → (plan, prepared)

    def applicable(self, plan: Plan) -> list[str]:
        """The probers (keys of PROBERS) this plan needs and the config enables."""
        c = self.cfg
        wanted = {"icmp": plan.icmp and c.icmp.enabled,
                  "tcp": bool(plan.tcp_ports) and c.tcp.enabled,
                  "dns": bool(plan.dns_names) and c.dns.enabled,
                  "http": bool(plan.urls) and c.http.enabled}
        return [name for name in PROBERS if wanted[name]]

    def _wanted(self, plan: Plan) -> Sequence[Family]:
        return families(self.cfg.family.value)

    @staticmethod
    def _given(plan: Plan, fam: Family) -> str | None:
        """The plan's literal address of `fam`, canonical; None when it gives none."""
        given = plan.ipv4 if fam is Family.IPV4 else plan.ipv6
        return normalise_ip(given) if given else None

    async def _address(self, plan: Plan, fam: Family, rep: Report) -> None:
        given = self._given(plan, fam)
        if given is not None:
            rep.addresses[fam] = given
            return
        if not plan.hostname:
            rep.addresses[fam] = None
            rep.resolution[fam] = "no address of this family configured"
            return
        try:
            addrs = await self.lookup(plan.hostname, fam)
        except ProbeFailure as exc:
            rep.addresses[fam] = None
            rep.resolution[fam] = f"lookup failed: {exc.detail}"
            return
        if fam is Family.IPV4:
            rep.has_a = bool(addrs)
        else:
            rep.has_aaaa = bool(addrs)
        rep.addresses[fam] = addrs[0] if addrs else None
        if not addrs:
            rep.resolution[fam] = f"no {'A' if fam is Family.IPV4 else 'AAAA'} record"

    async def run(self, plan: Plan) -> Report:
        rep = Report(plan)
        fams = self._wanted(plan)
        # a task per step only where something waits: with literal addresses (the common
        # case) and one job, no gather; this runs for every target every tick
        if plan.hostname:
            await asyncio.gather(*(self._address(plan, f, rep) for f in fams))
        else:
            for f in fams:
                await self._address(plan, f, rep)  # never waits without a hostname
        jobs = self._jobs(plan, fams, rep.addresses, self.applicable(plan))
        if len(jobs) == 1:
            rep.results.extend(await jobs[0])
        else:
            for batch in await asyncio.gather(*jobs):
                rep.results.extend(batch)
        if len(fams) == 2:
            r = self.cfg.regression
            rep.regression = assess(rep.results, has_a=rep.has_a, has_aaaa=rep.has_aaaa,
                                    slow_ratio=r.slow_ratio, slow_min_secs=r.slow_min_secs)
        return rep

    def _jobs(self, plan: Plan, fams: Sequence[Family], addresses: Mapping[Family, str | None],
              names: Iterable[str]) -> list[Awaitable[list[ProbeResult]]]:
        """One prober call per (family with an address, prober name)."""
        names = tuple(names)
        jobs: list[Awaitable[list[ProbeResult]]] = []
        for fam in fams:
            addr = addresses.get(fam)
            if addr is not None:
                ep = Endpoint(fam, addr, plan.hostname)
                jobs.extend(PROBERS[name](self, ep, plan) for name in names)
        return jobs

    def _prepared(self, plan: Plan) -> _Prepared:
        """What `run` works out again for every plan every tick, once per plan object: the
        probers it needs and, for literal addresses, the canonical ones (no lookups)."""
        hit = self._prep.get(id(plan))
        if hit is not None and hit[0] is plan:  # id reused by another object: recomputed
            return hit[1]
        names = tuple(self.applicable(plan))
        addresses: dict[Family, str | None] | None = None
        if not plan.hostname:  # as `_address` without a host name: never a lookup
            addresses = {fam: self._given(plan, fam) for fam in families(self.cfg.family.value)}
        prep = _Prepared(names, "icmp" in names, tuple(n for n in names if n != "icmp"),
                         addresses)
        if len(self._prep) >= 100_000:  # plans replaced over a long life: start over
            self._prep.clear()
        self._prep[id(plan)] = (plan, prep)
        return prep

    async def run_many(self, plans: Sequence[Plan], done: Done) -> None:
        """`run` for many plans (a batch poller's tick): the ICMP probes of every plan and
        family go out in one burst (`Pinger.ping_many`) with no task per target; the other
        probers run per plan, concurrently. `done(index, results, regression)` as soon as a
        plan is complete (results in `run`'s order: by family, then prober), or
        `done(index, exception, None)` for a plan that broke (the others go on).
        Host names are looked up first, all at once; the burst waits for them at most
        RESOLVE_WAIT_S: a name still unanswered then (a slow or dead resolver) does not hold
        the other targets' ICMP back. Such a plan runs as `run` does once its lookup ends."""
        fams = families(self.cfg.family.value)
        two = len(fams) == 2
        n = len(plans)
        broken: dict[int, BaseException] = {}
        preps: list[_Prepared | None] = [None] * n
        named: dict[int, Report] = {}  # plans with a host name: resolved now, every run
        for k, plan in enumerate(plans):
            try:
                prep = preps[k] = self._prepared(plan)
            except Exception as exc:
                broken[k] = exc
                continue
            if prep.addresses is None:
                named[k] = Report(plan)
        results: list[list[ProbeResult]] = [[] for _ in range(n)]
        reported: set[int] = set()
        icmp_first: set[int] = set()  # ICMP from the burst, the rest later: to be re-sorted

        def finish(k: int) -> None:
            if k in reported:
                return
            reported.add(k)
            if k in broken:
                done(k, broken[k], None)
                return
            got = results[k]
            if not two:
                done(k, got, None)
                return
            try:
                if k in icmp_first:  # back to family, then prober order
                    got.sort(key=lambda r: r.tags.get("family") != fams[0].value)
                rep = named.get(k)
                r = self.cfg.regression
                reg = assess(got, has_a=rep.has_a if rep else None,
                             has_aaaa=rep.has_aaaa if rep else None,
                             slow_ratio=r.slow_ratio, slow_min_secs=r.slow_min_secs)
            except Exception as exc:
                done(k, exc, None)
                return
            done(k, got, reg)

        async def resolve(k: int, rep: Report) -> None:
            try:
                await asyncio.gather(*(self._address(rep.plan, f, rep) for f in fams))
            except Exception as exc:
                broken[k] = exc
        lookups = {k: asyncio.ensure_future(resolve(k, rep)) for k, rep in named.items()}
        try:
            if lookups:
                await asyncio.wait(lookups.values(), timeout=RESOLVE_WAIT_S)
            late = [k for k, task in lookups.items() if not task.done()]
            late_set = set(late)
            pings: list[tuple[int, Family, str]] = []
            rest: list[int] = []
            for k, pr in enumerate(preps):
                if pr is None or k in broken or k in late_set:
                    continue
                addrs = pr.addresses if pr.addresses is not None else named[k].addresses
                if pr.icmp:
                    for f in fams:
                        a = addrs.get(f)
                        if a is not None:
                            pings.append((k, f, a))
                if pr.others:
                    rest.append(k)
            icmp_first.update(rest)
            waiting = {*rest, *late}  # finished by `others` / `after_lookup`, not the burst
            burst_done = False

            async def burst() -> None:
                nonlocal burst_done
                if pings:
                    await self._icmp_many(pings, results)
                burst_done = True
                if not waiting and not lookups and not two:  # one family's ICMP (a sweep)
                    for k in range(n):
                        done(k, broken[k] if k in broken else results[k], None)
                    return
                for k in range(n):
                    if k not in waiting:
                        finish(k)

            async def others(k: int) -> None:
                plan, prep = plans[k], preps[k]
                assert prep is not None
                addrs = prep.addresses if prep.addresses is not None else named[k].addresses
                try:
                    jobs = self._jobs(plan, fams, addrs, prep.others)
                    for batch in await asyncio.gather(*jobs):
                        results[k].extend(batch)
                except Exception as exc:
                    broken[k] = exc
                waiting.discard(k)
                if burst_done:
                    finish(k)

            async def after_lookup(k: int) -> None:
                """A plan whose name answered late: every prober as `run` runs them (its
                ICMP through `ping_batched`, joining other late names' echoes)."""
                await lookups[k]
                plan, prep, rep = plans[k], preps[k], named[k]
                assert prep is not None
                if k not in broken:
                    try:
                        jobs = self._jobs(plan, fams, rep.addresses, prep.names)
                        for batch in await asyncio.gather(*jobs):
                            results[k].extend(batch)
                    except Exception as exc:
                        broken[k] = exc
                waiting.discard(k)
                finish(k)  # its results are all its own: no need to wait for the burst

            if rest or late:
                await asyncio.gather(burst(), *(others(k) for k in rest),
                                     *(after_lookup(k) for k in late))
            else:
                await burst()
        finally:
            for task in lookups.values():  # cancelled (the tick's timeout): no lookup outlives it
                if not task.done():
                    task.cancel()

    async def _icmp_many(self, pings: Sequence[tuple[int, Family, str]],
                         into: list[list[ProbeResult]]) -> None:
        o = self.cfg.icmp
        t0 = time.perf_counter()
        stats = await self.pinger.ping_many([a for _k, _f, a in pings], count=o.count,
                                            interval_s=o.interval_secs,
                                            timeout_s=o.timeout_secs)
        took = time.perf_counter() - t0
        ts = time.time_ns()  # one burst, one time stamp (as fping's one sweep)
        value = {f: f.value for f in Family}  # Enum.value is a descriptor call; once here
        # make_probe_result: the same ProbeResult as the constructor, cheaper (one per target)
        for (k, fam, addr), st in zip(pings, stats, strict=True):
            tags = {"family": value[fam], "address": addr}
            if isinstance(st, IcmpUnavailable):
                into[k].append(make_probe_result("icmp", False, 0.0, tags, {}, st.error_type,
                                                 str(st), {"loss_ratio": 1.0}, ts))
            else:
                into[k].append(make_probe_result("icmp", bool(st.rtts), took, tags, {},
                                                 st.error, st.detail, st.summary(), ts))

    def close(self) -> None:
        self.pinger.close()
