"""Bad answers get a typed ErrorType and never crash: HTTP, TLS, DNS, ICMP and sniffed frames.

Loopback servers written for the occasion (asyncio), no root needed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from agent.core.model import ErrorType, EventState, ProbeResult
from probes.clients import dns as dnsclient
from probes.common import Endpoint, Family, ProbeFailure
from probes.http import fetch
from probes.icmp import _HEADER, _PAYLOAD, FamilySocket, _checksum
from probes.regression import assess

pytestmark = pytest.mark.timeout(60)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _serve(handler: Handler, ssl_ctx: ssl.SSLContext | None = None) -> asyncio.Server:
    return await asyncio.start_server(handler, "127.0.0.1", 0, ssl=ssl_ctx)


def _port(srv: asyncio.Server) -> int:
    return int(srv.sockets[0].getsockname()[1])


async def _no_resolve(host: str, family: Family) -> str:
    raise ProbeFailure(ErrorType.DNS, "no lookups in this test")


def _reply(raw: bytes) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(raw)
        await writer.drain()
        writer.close()
    return handler


EP = Endpoint(Family.IPV4, "127.0.0.1")


@pytest.mark.parametrize(("raw", "error"), [
    (b"HELLO THERE\r\n\r\n", ErrorType.PARSE),
    (b"", ErrorType.PROTOCOL),
    (b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\nxx", ErrorType.PARSE),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", ErrorType.PROTOCOL),
    (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", ErrorType.PARSE),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", ErrorType.PARSE),
    (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70000 + b"\r\n\r\n", ErrorType.PROTOCOL),
])
async def test_malformed_http_answers_are_typed(raw: bytes, error: ErrorType) -> None:
    srv = await _serve(_reply(raw))
    async with srv:
        with pytest.raises(ProbeFailure) as ei:
            await fetch(f"http://127.0.0.1:{_port(srv)}/", EP, _no_resolve, timeout_s=3)
    assert ei.value.error_type is error, ei.value.detail


async def test_redirects_are_followed_and_counted_and_loops_stop() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = (await reader.readuntil(b"\r\n\r\n")).split(b" ")[1]
        if line == b"/":
            writer.write(b"HTTP/1.1 301 Moved\r\nLocation: /a\r\nContent-Length: 0\r\n\r\n")
        elif line == b"/a":
            writer.write(b"HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n")
        elif line == b"/loop":
            writer.write(b"HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"5\r\nhello\r\n0\r\n\r\n")
        await writer.drain()
        writer.close()
    srv = await _serve(handler)
    async with srv:
        res = await fetch(f"http://127.0.0.1:{_port(srv)}/", EP, _no_resolve)
        assert (res.status, res.redirects, res.body) == (200, 2, b"hello")
        assert res.url.endswith("/b")
        with pytest.raises(ProbeFailure) as ei:
            await fetch(f"http://127.0.0.1:{_port(srv)}/loop", EP, _no_resolve,
                        max_redirects=3)
        assert ei.value.error_type is ErrorType.PROTOCOL


def _self_signed(tmp: Path, days: int) -> ssl.SSLContext:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "probe.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=days)).sign(key, hashes.SHA256()))
    (tmp / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "k.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(tmp / "c.pem", tmp / "k.pem")
    return ctx


async def test_https_reports_certificate_expiry_and_tls_errors(tmp_path: Path) -> None:
    srv = await _serve(_reply(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
                       _self_signed(tmp_path, days=30))
    async with srv:
        url = f"https://127.0.0.1:{_port(srv)}/"
        res = await fetch(url, EP, _no_resolve, verify_tls=False)
        assert res.status == 200 and res.phases["tls"] > 0
        assert res.tls_expiry_s is not None
        assert 29 * 86400 < res.tls_expiry_s <= 30 * 86400
        with pytest.raises(ProbeFailure) as ei:  # self-signed: verification fails, typed
            await fetch(url, EP, _no_resolve, verify_tls=True)
        assert ei.value.error_type is ErrorType.TLS


async def test_refused_and_timeout_are_typed() -> None:
    srv = await _serve(_reply(b""))
    port = _port(srv)
    srv.close()
    await srv.wait_closed()
    with pytest.raises(ProbeFailure) as ei:
        await fetch(f"http://127.0.0.1:{port}/", EP, _no_resolve)
    assert ei.value.error_type is ErrorType.REFUSED

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
    srv = await _serve(silent)
    async with srv:
        with pytest.raises(ProbeFailure) as ei:
            await fetch(f"http://127.0.0.1:{_port(srv)}/", EP, _no_resolve, timeout_s=0.3)
    assert ei.value.error_type is ErrorType.TIMEOUT


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, answer: Callable[[bytes], bytes]) -> None:
        self.answer = answer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.DatagramTransport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.transport.sendto(self.answer(data), addr)


@pytest.fixture
async def bad_dns() -> AsyncIterator[Callable[[Callable[[bytes], bytes]], Awaitable[int]]]:
    transports: list[asyncio.DatagramTransport] = []

    async def start(answer: Callable[[bytes], bytes]) -> int:
        loop = asyncio.get_running_loop()
        tr, _ = await loop.create_datagram_endpoint(lambda: _Udp(answer),
                                                    local_addr=("127.0.0.1", 0))
        transports.append(tr)
        return int(tr.get_extra_info("sockname")[1])
    yield start
    for tr in transports:
        tr.close()


async def test_malformed_dns_answers_are_typed(
        bad_dns: Callable[[Callable[[bytes], bytes]], Awaitable[int]]) -> None:
    # same id and flags as the query, then garbage where the records should be
    port = await bad_dns(lambda q: q[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\xff")
    with pytest.raises(ProbeFailure) as ei:
        await dnsclient.query("a.test", "A", "127.0.0.1", port=port, timeout_s=1.0)
    assert ei.value.error_type is ErrorType.PARSE
    # our own query echoed back with another id: not an answer to us
    port = await bad_dns(lambda q: bytes([q[0] ^ 0xFF, q[1]]) + q[2:])
    with pytest.raises(ProbeFailure) as ei:
        await dnsclient.query("a.test", "A", "127.0.0.1", port=port, timeout_s=0.5)
    assert ei.value.error_type is ErrorType.PROTOCOL
    # SERVFAIL is an answer with an rcode, not an exception
    port = await bad_dns(lambda q: q[:2] + b"\x81\x82" + q[4:])
    ans = await dnsclient.query("a.test", "A", "127.0.0.1", port=port, timeout_s=1.0)
    assert ans.rcode == "SERVFAIL" and ans.answers == ()
    with pytest.raises(ProbeFailure) as ei:
        await dnsclient.lookup("a.test", "A", ["127.0.0.1"], timeout_s=1.0)
    assert ei.value.error_type in (ErrorType.DNS, ErrorType.TIMEOUT)


def test_incremental_icmp_checksum_matches_the_full_one() -> None:
    fs = FamilySocket.__new__(FamilySocket)
    fs.family, fs.ident = Family.IPV4, 0xBEEF
    fs._base_sum = sum(int.from_bytes(b[i:i + 2], "big") for b in [
        _HEADER.pack(8, 0, 0, 0xBEEF, 0) + _PAYLOAD] for i in range(0, len(b), 2))
    for seq in (0, 1, 0x7FFF, 0xFFFE, 0xFFFF):
        assert _checksum(fs._packet(seq)) == 0  # a correct checksum sums to zero


def _r(probe: str, fam: str, ok: bool, **values: float) -> ProbeResult:
    return ProbeResult(probe, ok, 0.01, {"family": fam, "address": fam}, values=values)


def test_regression_reasons() -> None:
    kw = {"has_a": None, "has_aaaa": None, "slow_ratio": 2.0, "slow_min_secs": 0.02}
    fine = [_r("icmp", "ipv4", True, rtt_avg_seconds=0.010),
            _r("icmp", "ipv6", True, rtt_avg_seconds=0.012)]
    assert assess(fine, **kw).reason == "none"  # type: ignore[arg-type]
    slow = [fine[0], _r("icmp", "ipv6", True, rtt_avg_seconds=0.100)]
    assert assess(slow, **kw).reason == "ipv6_slow"  # type: ignore[arg-type]
    jitter = [fine[0], _r("icmp", "ipv6", True, rtt_avg_seconds=0.025)]  # 2.5× but +15 ms
    assert assess(jitter, **kw).reason == "none"  # type: ignore[arg-type]
    down = [fine[0], _r("icmp", "ipv6", False)]
    assert assess(down, **kw).reason == "ipv6_failed"  # type: ignore[arg-type]
    outage = [_r("icmp", "ipv4", False), _r("icmp", "ipv6", False)]
    assert assess(outage, **kw).reason == "none"  # type: ignore[arg-type]


def test_sniffed_frames_parse_or_are_ignored() -> None:
    from scapy.layers.dhcp import BOOTP, DHCP
    from scapy.layers.inet import IP, UDP
    from scapy.layers.inet6 import ICMPv6ND_RA, ICMPv6NDOptPrefixInfo, IPv6
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw

    from probes.discovery.client import parse
    from probes.discovery.model import DhcpServer, RouterAdvert

    own = "02:00:00:00:00:01"
    ra = Ether(src="02:00:00:00:00:aa") / IPv6(src="fe80::1", dst="ff02::1") / \
        ICMPv6ND_RA(routerlifetime=1800) / ICMPv6NDOptPrefixInfo(prefix="2001:db8:1::",
                                                                  prefixlen=64)
    [obs] = parse(Ether(bytes(ra)), own)
    assert obs == RouterAdvert("02:00:00:00:00:aa", "fe80::1", ("2001:db8:1::/64",), 1800)
    offer = Ether(src="02:00:00:00:00:bb") / IP(src="10.0.0.1", dst="255.255.255.255") / \
        UDP(sport=67, dport=68) / BOOTP(op=2, yiaddr="10.0.0.50") / \
        DHCP(options=[("message-type", "offer"), ("server_id", "10.0.0.1"), "end"])
    [obs2] = parse(Ether(bytes(offer)), own)
    assert obs2 == DhcpServer("dhcp", "02:00:00:00:00:bb", "10.0.0.1", "10.0.0.1", "10.0.0.50")
    # truncated RA, garbage DHCP, our own frame: nothing, and no exception
    junk = [Ether(bytes(ra)[:60]), Ether(bytes(offer)[:300]),
            Ether(src="02:00:00:00:00:cc") / IP() / UDP(sport=67, dport=68) / Raw(b"\x02" * 3),
            Ether(bytes(Ether(src=own) / IPv6() / ICMPv6ND_RA()))]
    for frame in junk:
        out = parse(frame, own)
        assert all(isinstance(o, RouterAdvert | DhcpServer) for o in out)
    assert parse(junk[-1], own) == []


def test_discovery_events_raise_once_and_resolve_later() -> None:
    from agent.core.model import Event, Severity
    from inventory.models import Inventory
    from probes.discovery.plugin import DiscoveryConfig, LanDiscovery

    ld = LanDiscovery(DiscoveryConfig(interfaces=["x"], resolve_after_passes=2),
                      Inventory.empty())
    e = Event("unregistered:aa", "unregistered_device", EventState.RAISED, Severity.WARNING, "s")
    assert [x.state for x in ld._transitions([e])] == [EventState.RAISED]
    assert ld._transitions([e]) == []  # still there: nothing new
    assert ld._transitions([]) == []  # missed once
    [resolved] = ld._transitions([])
    assert resolved.state is EventState.RESOLVED and resolved.key == "unregistered:aa"


async def test_icmp_socket_that_cannot_open_is_a_typed_result(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """IPv6 switched off in the kernel (EAFNOSUPPORT): UNREACHABLE with the reason, no crash."""
    import errno
    import socket as socketmod

    from probes.dualstack.config import DualStackConfig
    from probes.dualstack.engine import Engine
    from probes.dualstack.plan import Plan

    real = socketmod.socket

    def fake(family: int = -1, *args: object, **kw: object) -> socketmod.socket:
        if family == socketmod.AF_INET6 and args and args[0] in (
                socketmod.SOCK_DGRAM, socketmod.SOCK_RAW) and args[1:2] == (
                socketmod.IPPROTO_ICMPV6,):
            raise OSError(errno.EAFNOSUPPORT, "Address family not supported by protocol")
        return real(family, *args, **kw)  # type: ignore[arg-type]
    monkeypatch.setattr("probes.icmp.socket.socket", fake)
    eng = Engine(DualStackConfig.model_validate({"icmp": {"count": 1, "timeout_secs": 0.5}}))
    try:
        rep = await eng.run(Plan("lo", ipv4="127.0.0.1", ipv6="::1"))
        rep2 = await eng.run(Plan("lo", ipv4="127.0.0.1", ipv6="::1"))  # cached reason
    finally:
        eng.close()
    for r in (rep, rep2):
        [v6] = [x for x in r.results if x.tags["family"] == "ipv6"]
        assert not v6.ok and v6.error is ErrorType.UNREACHABLE
        assert "not supported" in v6.detail


async def test_internationalised_names_and_paths_are_encoded() -> None:
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()
    srv = await _serve(handler)
    port = _port(srv)
    async with srv:
        res = await fetch(f"http://校园.cn:{port}/新闻/", EP, _no_resolve)
    assert res.status == 200
    assert seen[0].startswith(b"GET /%E6%96%B0%E9%97%BB/ HTTP/1.1\r\n")
    assert f"Host: xn--fcs331b.cn:{port}\r\n".encode() in seen[0]


def test_pinger_survives_a_new_event_loop() -> None:
    """One Pinger used from two asyncio.run() calls: the reader follows the running loop."""
    from probes.icmp import Pinger

    p = Pinger()

    async def once() -> bool:
        try:
            return (await p.ping("127.0.0.1", count=1, timeout_s=1.0)).ok
        except Exception as exc:  # ICMP not allowed here: nothing to test
            pytest.skip(f"no ICMP socket: {exc}")
    try:
        assert asyncio.run(once()) and asyncio.run(once())
    finally:
        p.close()
