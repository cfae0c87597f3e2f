"""The website IPv6-support test (docs/standards.md#b-4), run once for one site.

Steps: A/AAAA lookups (timed) → the zone's NS names and their AAAA → `tries` homepage fetches
over each family → content comparison of the two homepages → 2nd-level links (in-site links of
the homepage) and 3rd-level links (in-site links of those pages) fetched over IPv6 →
IPv6/IPv4 latency from the medians. Nothing here raises on a bad site: every failure is
recorded in the result with its typed reason.
"""

from __future__ import annotations

import asyncio
import ipaddress
import statistics
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from agent.core.model import ErrorType
from probes.common import Endpoint, Family, ProbeFailure, is_ip, normalise_ip
from probes.http import HttpResult, fetch
from probes.resolve import Resolver
from probes.web_ipv6 import html
from probes.web_ipv6.config import WebIpv6Options
from probes.web_ipv6.result import LinksItem, NameServer, WebIpv6Result


def _ok(res: HttpResult | ProbeFailure) -> bool:
    return isinstance(res, HttpResult) and 200 <= res.status < 400


def _latency(res: HttpResult) -> float:
    return res.phases.get("connect", 0.0) + res.phases.get("tls", 0.0) + \
        res.phases.get("first_byte", 0.0)


class SiteCheck:
    def __init__(self, url: str, opts: WebIpv6Options, resolver: Resolver | None = None) -> None:
        self.url = url if "://" in url else f"http://{url}/"
        self.opts = opts
        self.resolver = resolver or Resolver(opts.resolvers, opts.dns_timeout_secs)
        self.host = urlsplit(self.url).hostname or ""
        self.addr: dict[Family, str | None] = {Family.IPV4: None, Family.IPV6: None}
        self._sem = asyncio.Semaphore(opts.concurrency)

    async def _get(self, url: str, family: Family) -> HttpResult | ProbeFailure:
        addr = self.addr[family]
        if addr is None:
            return ProbeFailure(ErrorType.DNS,
                                f"no {'A' if family is Family.IPV4 else 'AAAA'} address")
        host = urlsplit(url).hostname or self.host
        try:
            async with self._sem:
                if host != self.host:
                    addr = host if is_ip(host) else await self.resolver.resolve(host, family)
                return await fetch(url, Endpoint(family, addr, host), self.resolver.resolve,
                                   timeout_s=self.opts.timeout_secs,
                                   verify_tls=self.opts.verify_tls)
        except ProbeFailure as exc:
            return exc

    async def _lookup(self, res: WebIpv6Result, family: Family) -> float | None:
        if is_ip(self.host):
            if Family.of(self.host) is family:
                self.addr[family] = normalise_ip(self.host)
            return None
        t0 = time.perf_counter()
        try:
            addrs = await self.resolver.lookup(self.host, family)
        except ProbeFailure as exc:
            res.aaaa.detail += f"{family.value} lookup failed: {exc.detail}. "
            return None
        took = time.perf_counter() - t0
        if family is Family.IPV4:
            res.aaaa.a_addresses = addrs
        else:
            res.aaaa.addresses = addrs
        self.addr[family] = addrs[0] if addrs else None
        return took

    async def _ns(self, res: WebIpv6Result) -> None:
        if is_ip(self.host):
            res.ns.detail = "the site is an address: no name servers to test"
            return
        try:
            zone, names = await self.resolver.nameservers(self.host)
        except ProbeFailure as exc:
            res.ns.detail = f"NS lookup failed: {exc.detail}"
            return
        res.ns.zone = zone
        if not names:
            res.ns.detail = "no NS records found for the name or its parents"
            return

        async def one(name: str) -> NameServer:
            try:
                return NameServer(name, await self.resolver.lookup(name, Family.IPV6))
            except ProbeFailure:
                return NameServer(name, [])
        res.ns.servers = list(await asyncio.gather(*(one(n) for n in sorted(names))))
        missing = [s.name for s in res.ns.servers if not s.ipv6]
        res.ns.passed = not missing
        res.ns.detail = f"no AAAA for {', '.join(missing)}" if missing else \
            "every authoritative name server has an IPv6 address"

    async def run(self) -> WebIpv6Result:
        o = self.opts
        res = WebIpv6Result(self.host, self.url, datetime.now(UTC).isoformat(timespec="seconds"))
        dns4, dns6 = await asyncio.gather(self._lookup(res, Family.IPV4),
                                          self._lookup(res, Family.IPV6))
        res.latency.dns_ipv4_seconds, res.latency.dns_ipv6_seconds = dns4, dns6
        bad = [a for a in res.aaaa.addresses if not _usable_v6(a)]
        res.aaaa.passed = bool(res.aaaa.addresses) and not bad
        if not res.aaaa.addresses:
            res.aaaa.detail += "no AAAA record"
        elif bad:
            res.aaaa.detail += f"AAAA not usable: {', '.join(bad)}"
        await self._ns(res)

        # homepage, `tries` times per family
        res.homepage.tries, res.homepage.min_success_ratio = o.tries, o.min_success_ratio
        v4: list[HttpResult | ProbeFailure] = []
        v6: list[HttpResult | ProbeFailure] = []
        for i in range(o.tries):
            if i and o.try_interval_secs:
                await asyncio.sleep(o.try_interval_secs)
            r4, r6 = await asyncio.gather(self._get(self.url, Family.IPV4),
                                          self._get(self.url, Family.IPV6))
            v4.append(r4)
            v6.append(r6)
        ok6 = [r for r in v6 if _ok(r) and isinstance(r, HttpResult)]
        ok4 = [r for r in v4 if _ok(r) and isinstance(r, HttpResult)]
        res.homepage.successes = len(ok6)
        res.homepage.success_ratio = len(ok6) / o.tries
        res.homepage.passed = bool(ok6) and res.homepage.success_ratio >= o.min_success_ratio
        first6 = next((r for r in v6 if isinstance(r, HttpResult)), None)
        res.homepage.status = first6.status if first6 else None
        errs = {f"{r.error_type.value}: {r.detail}" if isinstance(r, ProbeFailure)
                else f"HTTP {r.status}" for r in v6 if not _ok(r)}
        res.homepage.errors = sorted(errs)

        # content consistency
        c = res.content
        c.min_similarity = o.min_similarity
        home4, home6 = (ok4[0] if ok4 else None), (ok6[0] if ok6 else None)
        if home4 and home6:
            # parsing and comparing 2 MiB pages is CPU work: off the event loop
            fp4, fp6, sim = await asyncio.to_thread(_compare, home4, home6)
            c.ipv4_fingerprint, c.ipv6_fingerprint = fp4, fp6
            c.similarity = round(sim, 4)
            c.passed = c.similarity >= o.min_similarity
            c.detail = "same page over both families" if c.similarity == 1.0 else (
                f"pages differ (similarity {c.similarity:.3f})")
        else:
            c.detail = "homepage not fetched over " + " and ".join(
                f for f, h in (("IPv4", home4), ("IPv6", home6)) if h is None)

        # 2nd- and 3rd-level in-site links over IPv6
        base = home6 or home4
        seen: set[str] = {self.url}
        if base is not None:
            seen.add(base.url)
            l2 = await asyncio.to_thread(self._new_links, base, seen)
            r2 = await self._check_links(l2, res.links_l2)
            pages = [r for r in r2 if _ok(r) and isinstance(r, HttpResult)]
            if home4 is not None:  # pages IPv6 could not fetch: find their links over IPv4
                missing = [u for u, r in zip(l2, r2, strict=True) if not _ok(r)]
                alts = await asyncio.gather(*(self._get(u, Family.IPV4) for u in missing))
                pages += [r for r in alts if _ok(r) and isinstance(r, HttpResult)]
            l3: list[str] = []
            for page in pages:
                for link in await asyncio.to_thread(self._new_links, page, seen):
                    if len(l3) < o.max_links_per_level:
                        l3.append(link)
            await self._check_links(l3, res.links_l3)
        res.links_l2.min_ratio = res.links_l3.min_ratio = o.min_link_ratio

        # latency
        lat = res.latency
        lat.max_ratio = o.max_latency_ratio
        if ok4:
            lat.ipv4_seconds = statistics.median(_latency(r) for r in ok4)
        if ok6:
            lat.ipv6_seconds = statistics.median(_latency(r) for r in ok6)
        if lat.ipv4_seconds is not None and lat.ipv6_seconds is not None:
            lat.ratio = round(lat.ipv6_seconds / max(lat.ipv4_seconds, 1e-6), 3)
            lat.passed = (lat.ratio <= o.max_latency_ratio
                          or lat.ipv6_seconds - lat.ipv4_seconds <= o.latency_slack_secs)
            lat.detail = f"IPv6 {lat.ipv6_seconds * 1000:.2f} ms, IPv4 " \
                         f"{lat.ipv4_seconds * 1000:.2f} ms (median connect + first byte)"
        elif lat.ipv6_seconds is not None:
            lat.passed, lat.detail = True, "no IPv4 to compare with (IPv6-only site)"
        else:
            lat.detail = "homepage not reachable over IPv6"
        return res

    def _new_links(self, page: HttpResult, seen: set[str]) -> list[str]:
        reader = html.read(page.body, html.charset_of(page.headers.get("content-type", "")))
        out: list[str] = []
        for link in html.in_site_links(page.url, reader.links):
            if link not in seen and len(out) < self.opts.max_links_per_level:
                seen.add(link)
                out.append(link)
        return out

    async def _check_links(self, urls: list[str],
                           item: LinksItem) -> list[HttpResult | ProbeFailure]:
        results = list(await asyncio.gather(*(self._get(u, Family.IPV6) for u in urls)))
        item.total = len(urls)
        item.reachable = sum(1 for r in results if _ok(r))
        item.failed = [u for u, r in zip(urls, results, strict=True) if not _ok(r)]
        if urls:
            item.ratio = round(item.reachable / item.total, 4)
            item.passed = item.ratio >= self.opts.min_link_ratio
        return results


def _compare(home4: HttpResult, home6: HttpResult) -> tuple[str, str, float]:
    """(IPv4 fingerprint, IPv6 fingerprint, similarity) of the two homepages; in a thread."""
    t4 = html.read(home4.body, html.charset_of(home4.headers.get("content-type", "")))
    t6 = html.read(home6.body, html.charset_of(home6.headers.get("content-type", "")))
    return html.fingerprint(t4.tokens), html.fingerprint(t6.tokens), \
        html.similarity(t4.tokens, t6.tokens)


def _usable_v6(addr: str) -> bool:
    """A 'valid IPv6 address' for the AAAA item: not loopback, unspecified, link-local,
    multicast or an IPv4-mapped address."""
    a = ipaddress.IPv6Address(addr)
    return not (a.is_loopback or a.is_unspecified or a.is_link_local or a.is_multicast
                or a.ipv4_mapped is not None)


async def check_site(url: str, opts: WebIpv6Options) -> WebIpv6Result:
    return await SiteCheck(url, opts).run()
