"""HTTP(S) probe on asyncio streams + ssl, timed per phase.

No HTTP client library: we need the address pinned per family (aiohttp/httpx pick one
themselves), the connect / TLS / first-byte boundaries (hidden inside those clients), and the
certificate of an unverifiable server. HTTP/1.1 with `Connection: close` is all a probe needs.

Phases (seconds, summed over redirects like blackbox_exporter): `resolve` (the caller's lookup of
a redirect's host), `connect`, `tls`, `first_byte` (request sent → first response byte),
`transfer` (rest of the body).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import ssl
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, urljoin, urlsplit

from agent.core.model import ErrorType
from probes.common import Endpoint, Family, ProbeFailure, describe, error_type_of, is_ip

Resolve = Callable[[str, Family], Awaitable[str]]
_X509 = "probes.clients.x509"  # certificate reading (cryptography): loaded on first use
_MAX_HEADER_BYTES = 64 * 1024
USER_AGENT = "campusmon-probe/0.1"


@dataclass(slots=True)
class HttpResult:
    url: str  # the last URL fetched
    status: int
    headers: dict[str, str]
    body: bytes
    redirects: int
    phases: dict[str, float] = field(default_factory=dict)
    tls_expiry_s: float | None = None  # seconds until the first TLS certificate expires
    address: str = ""
    tls_issuer: str = ""  # issuer DN of the first TLS certificate (RFC 4514)
    tls_sm2: bool = False  # that certificate has an SM2 key or SM3withSM2 signature (国密)


def _split(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProbeFailure(ErrorType.PARSE, f"not an http(s) URL: {url!r}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ProbeFailure(ErrorType.PARSE, f"bad port in {url!r}") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    host = parts.hostname
    if not host.isascii():  # 校园.cn → xn--... for Host and SNI (and for DNS, equivalently)
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ProbeFailure(ErrorType.PARSE, f"bad internationalised name in {url!r}") \
                from None
    if not path.isascii():
        path = quote(path, safe="/?&=%:@!$'()*+,;~")
    return parts.scheme, host, port, path


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise ProbeFailure(ErrorType.PROTOCOL, "response header too large") from None
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise ProbeFailure(ErrorType.PROTOCOL, "connection closed before a response") \
                from None
        raise ProbeFailure(ErrorType.PROTOCOL, "response header cut short") from None
    lines = head.decode("iso-8859-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/") \
            or not status_line[1].isdigit():
        raise ProbeFailure(ErrorType.PARSE, f"bad status line {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        k, sep, v = line.partition(":")
        if not sep:
            raise ProbeFailure(ErrorType.PARSE, f"bad header line {line[:80]!r}")
        headers[k.strip().lower()] = v.strip()
    return int(status_line[1]), headers


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str],
                     max_bytes: int) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        out = bytearray()
        while True:
            size_line = await reader.readline()
            try:
                size = int(size_line.split(b";", 1)[0].strip() or b"x", 16)
            except ValueError:
                raise ProbeFailure(ErrorType.PARSE, "bad chunk size") from None
            if size == 0:
                return bytes(out)
            if len(out) + size > max_bytes:
                raise ProbeFailure(ErrorType.PROTOCOL, f"body larger than {max_bytes} bytes")
            out += await reader.readexactly(size)
            await reader.readline()
    length = headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise ProbeFailure(ErrorType.PARSE, f"bad Content-Length {length[:40]!r}")
        n = int(length)
        if n > max_bytes:
            raise ProbeFailure(ErrorType.PROTOCOL, f"body larger than {max_bytes} bytes")
        return await reader.readexactly(n)
    data = await reader.read(max_bytes + 1)
    chunks = [data]
    total = len(data)
    while data and total <= max_bytes:
        data = await reader.read(max_bytes + 1 - total)
        chunks.append(data)
        total += len(data)
    if total > max_bytes:
        raise ProbeFailure(ErrorType.PROTOCOL, f"body larger than {max_bytes} bytes")
    return b"".join(chunks)


def _tls_context(verify: bool) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def _one(url: str, ep: Endpoint, *, verify_tls: bool, max_body: int,
               phases: dict[str, float], tls: dict[str, object] | None = None
               ) -> tuple[int, dict[str, str], bytes, float | None]:
    scheme, host, port, path = _split(url)
    if scheme == "https" and _X509 not in sys.modules:
        # cryptography (~9 MiB, 35 modules, ~0.16 s) loads with the first HTTPS fetch, not
        # with every plugin importing this module; in a thread and before the clock starts,
        # so it neither stalls the loop nor lands in a measured phase
        await asyncio.to_thread(importlib.import_module, _X509)
    t0 = time.perf_counter()
    reader, writer = await asyncio.open_connection(ep.address, port, limit=_MAX_HEADER_BYTES)
    t1 = time.perf_counter()
    phases["connect"] = phases.get("connect", 0.0) + t1 - t0
    expiry: float | None = None
    try:
        if scheme == "https":
            await writer.start_tls(_tls_context(verify_tls),
                                   server_hostname=None if is_ip(host) else host)
            t2 = time.perf_counter()
            phases["tls"] = phases.get("tls", 0.0) + t2 - t1
            t1 = t2
            sslobj = writer.get_extra_info("ssl_object")
            der = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
            from probes.clients.x509 import is_sm2, issuer_of, not_after  # loaded above
            end = not_after(der) if der else None
            if der and tls is not None and not tls:
                tls.update(issuer=issuer_of(der), sm2=is_sm2(der))
            if end is not None:
                expiry = (end - datetime.now(UTC)).total_seconds()
        host_header = f"[{host}]" if ":" in host else host
        if port not in (80, 443):
            host_header += f":{port}"
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {USER_AGENT}"
                     "\r\nAccept: */*\r\nConnection: close\r\n\r\n".encode("ascii", "replace"))
        await writer.drain()
        status, headers = await _read_head(reader)
        t3 = time.perf_counter()
        phases["first_byte"] = phases.get("first_byte", 0.0) + t3 - t1
        body = await _read_body(reader, headers, max_body)
        phases["transfer"] = phases.get("transfer", 0.0) + time.perf_counter() - t3
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(0.5):
                await writer.wait_closed()
    return status, headers, body, expiry


async def fetch(url: str, ep: Endpoint, resolve: Resolve, *, timeout_s: float = 5.0,
                max_redirects: int = 5, verify_tls: bool = True,
                max_body_bytes: int = 2 * 2**20) -> HttpResult:
    """GET `url` at `ep.address` (the host name stays in Host/SNI); follow redirects, resolving
    new hosts in the same family. Raises ProbeFailure."""
    phases: dict[str, float] = {}
    tls: dict[str, object] = {}  # the first certificate's issuer and SM2 flag
    redirects = 0
    expiry: float | None = None
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                status, headers, body, exp = await _one(
                    url, ep, verify_tls=verify_tls, max_body=max_body_bytes, phases=phases,
                    tls=tls)
                if expiry is None:
                    expiry = exp
                location = headers.get("location")
                if status not in (301, 302, 303, 307, 308) or not location:
                    return HttpResult(url, status, headers, body, redirects, phases, expiry,
                                      ep.address, str(tls.get("issuer", "")),
                                      bool(tls.get("sm2", False)))
                if redirects >= max_redirects:
                    raise ProbeFailure(ErrorType.PROTOCOL, f"more than {max_redirects} redirects")
                redirects += 1
                new_url = urljoin(url, location)
                new_host = _split(new_url)[1]
                if new_host != _split(url)[1]:
                    t = time.perf_counter()
                    addr = new_host if is_ip(new_host) else await resolve(new_host, ep.family)
                    phases["resolve"] = phases.get("resolve", 0.0) + time.perf_counter() - t
                    ep = Endpoint(ep.family, addr, new_host)
                url = new_url
    except ProbeFailure:
        raise
    except TimeoutError:
        raise ProbeFailure(ErrorType.TIMEOUT, f"no complete answer within {timeout_s}s") \
            from None
    except asyncio.IncompleteReadError:
        raise ProbeFailure(ErrorType.PROTOCOL, "connection closed mid-response") from None
    except (OSError, ssl.SSLError, ValueError, UnicodeError) as exc:
        raise ProbeFailure(error_type_of(exc), describe(exc)) from None
