"""RTSP stream health (RFC 2326), in plain asyncio: is there video, not only a TCP port?

DESCRIBE (Basic or Digest authentication, RFC 2617), the SDP's video track, SETUP with RTP
interleaved on the RTSP connection (no UDP ports to open through campus firewalls), PLAY, then
wait for the first complete frame: the first RTP packet of the video channel with the marker
bit set (RFC 3550 5.1; every RTP video payload format marks a frame's last packet). A camera
whose RTSP port takes the connection but that does not describe the stream in time, or sends
no frame within `frame_timeout_s` of PLAY, is "no video" (`tcp_ok` says TCP still answers).

Bounded: a header block ≤ 16 kB, a body ≤ 64 kB, an interleaved frame ≤ 64 kB (its length is
16 bits), everything under the caller's deadlines. Anything else on the connection is a
malformed frame: counted, and the check ends there.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from agent.core.model import ErrorType

MAX_HEADER = 16 * 1024
MAX_BODY = 64 * 1024


@dataclass(slots=True)
class StreamCheck:
    tcp_ok: bool = False
    describe_status: int | None = None
    describe_seconds: float | None = None
    codec: str = ""
    first_packet_seconds: float | None = None  # from PLAY
    first_frame_seconds: float | None = None  # from PLAY
    packets: int = 0
    malformed: int = 0
    error_type: ErrorType | None = None
    reason: str = ""  # unreachable, refused, timeout, auth, not_found, protocol, no_video
    detail: str = ""

    @property
    def video(self) -> bool:
        return self.first_frame_seconds is not None


class _Fail(Exception):
    def __init__(self, error_type: ErrorType, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.error_type, self.reason, self.detail = error_type, reason, detail


@dataclass(slots=True)
class _Response:
    status: int
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str:
        return (self.headers.get(name.lower()) or [""])[0]


def _md5(s: str) -> str:
    return hashlib.md5(s.encode(), usedforsecurity=False).hexdigest()


class _Auth:
    """Answers a 401 challenge; keeps answering later requests the same way."""

    def __init__(self, username: str | None, password: str | None) -> None:
        self.username, self.password = username, password
        self.scheme = ""
        self.params: dict[str, str] = {}
        self.nc = 0

    def challenge(self, values: list[str]) -> bool:
        if self.username is None:
            return False
        for scheme in ("digest", "basic"):  # the stronger one when both are offered
            for v in values:
                if v.lower().startswith(scheme):
                    self.scheme = scheme
                    self.params = {k.lower(): a or b for k, a, b in re.findall(
                        r'(\w+)=(?:"([^"]*)"|([^\s,]+))', v[len(scheme):])}
                    return True
        return False

    def header(self, method: str, uri: str) -> str | None:
        if not self.scheme or self.username is None:
            return None
        user, pw = self.username, self.password or ""
        if self.scheme == "basic":
            return "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()
        realm, nonce = self.params.get("realm", ""), self.params.get("nonce", "")
        ha1, ha2 = _md5(f"{user}:{realm}:{pw}"), _md5(f"{method}:{uri}")
        parts = [f'username="{user}"', f'realm="{realm}"', f'nonce="{nonce}"',
                 f'uri="{uri}"']
        if "auth" in self.params.get("qop", "").split(","):
            self.nc += 1
            cnonce = os.urandom(8).hex()
            resp = _md5(f"{ha1}:{nonce}:{self.nc:08x}:{cnonce}:auth:{ha2}")
            parts += ["qop=auth", f"nc={self.nc:08x}", f'cnonce="{cnonce}"']
        else:
            resp = _md5(f"{ha1}:{nonce}:{ha2}")
        parts.append(f'response="{resp}"')
        if "opaque" in self.params:
            parts.append(f'opaque="{self.params["opaque"]}"')
        return "Digest " + ", ".join(parts)


class _Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 auth: _Auth) -> None:
        self.r, self.w, self.auth = reader, writer, auth
        self.cseq = 0
        self.session = ""

    async def send(self, method: str, uri: str, headers: dict[str, str] | None = None) -> None:
        self.cseq += 1
        lines = [f"{method} {uri} RTSP/1.0", f"CSeq: {self.cseq}", "User-Agent: campusmon"]
        if self.session:
            lines.append(f"Session: {self.session}")
        a = self.auth.header(method, uri)
        if a:
            lines.append(f"Authorization: {a}")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.w.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.w.drain()

    async def read_response(self, first: bytes = b"") -> _Response:
        head = first
        while b"\r\n\r\n" not in head:
            chunk = await self.r.read(1) if len(head) < 4 else await self.r.readuntil(b"\n")
            if not chunk:
                raise _Fail(ErrorType.PROTOCOL, "protocol", "connection closed mid-answer")
            head += chunk
            if len(head) > MAX_HEADER:
                raise _Fail(ErrorType.PROTOCOL, "protocol", "answer header over 16 kB")
        text = head.decode("latin-1")
        lines = text.split("\r\n")
        m = re.match(r"^RTSP/1\.\d (\d{3})", lines[0])
        if m is None:
            raise _Fail(ErrorType.PROTOCOL, "protocol", f"not an RTSP answer: {lines[0][:60]!r}")
        resp = _Response(int(m.group(1)))
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                resp.headers.setdefault(k.strip().lower(), []).append(v.strip())
        try:
            n = int(resp.header("content-length") or 0)
        except ValueError:
            raise _Fail(ErrorType.PROTOCOL, "protocol", "bad Content-Length") from None
        if not 0 <= n <= MAX_BODY:
            raise _Fail(ErrorType.PROTOCOL, "protocol", f"body of {n} bytes")
        if n:
            resp.body = await self.r.readexactly(n)
        return resp

    async def request(self, method: str, uri: str,
                      headers: dict[str, str] | None = None) -> _Response:
        await self.send(method, uri, headers)
        resp = await self.read_response()
        if resp.status == 401 and not self.auth.scheme and \
                self.auth.challenge(resp.headers.get("www-authenticate", [])):
            await self.send(method, uri, headers)
            resp = await self.read_response()
        if resp.status == 401:
            raise _Fail(ErrorType.AUTH, "auth", f"{method}: 401 Unauthorized")
        return resp


@dataclass(frozen=True, slots=True)
class _Track:
    control: str
    codec: str


def video_track(sdp: str, base: str) -> _Track | None:
    """The first video media section's control URL (absolute) and codec."""
    session_control = ""
    in_video = False
    seen_video = False
    control, codec = "", ""
    for raw in sdp.splitlines()[:2000]:
        line = raw.strip()
        if line.startswith("m="):
            if seen_video:
                break
            in_video = line.startswith("m=video")
            seen_video = seen_video or in_video
        elif line.startswith("a=control:"):
            if in_video:
                control = line[len("a=control:"):]
            elif not seen_video:
                session_control = line[len("a=control:"):]
        elif in_video and line.startswith("a=rtpmap:") and not codec:
            parts = line.split(None, 1)
            codec = parts[1].split("/")[0].lower() if len(parts) == 2 else ""
    if not seen_video:
        return None
    if session_control and session_control != "*" and not session_control.startswith("rtsp"):
        base = _join(base, session_control)
    elif session_control.startswith("rtsp"):
        base = session_control
    if not control or control == "*":
        return _Track(base, codec)
    return _Track(control if control.startswith("rtsp") else _join(base, control), codec)


def _join(base: str, rel: str) -> str:
    return base.rstrip("/") + "/" + rel.lstrip("/")


def _strip_credentials(url: str) -> tuple[str, str | None, str | None]:
    u = urlsplit(url)
    host = u.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{u.port}" if u.port else host
    return urlunsplit((u.scheme, netloc, u.path, u.query, "")), u.username, u.password


async def check_stream(url: str, username: str | None, password: str | None,
                       connect_timeout_s: float, frame_timeout_s: float) -> StreamCheck:
    """Never raises for what the camera does: the result says what happened."""
    out = StreamCheck()
    clean, url_user, url_pass = _strip_credentials(url)
    u = urlsplit(clean)
    host, port = u.hostname or "", u.port or 554
    auth = _Auth(username or url_user, password if username else url_pass)
    writer: asyncio.StreamWriter | None = None
    conn: _Conn | None = None
    try:
        try:
            async with asyncio.timeout(connect_timeout_s):
                reader, writer = await asyncio.open_connection(host, port)
        except TimeoutError:
            raise _Fail(ErrorType.TIMEOUT, "timeout", f"{host}:{port}: no TCP answer") from None
        except ConnectionRefusedError:
            raise _Fail(ErrorType.REFUSED, "refused", f"{host}:{port}: refused") from None
        except OSError as exc:
            raise _Fail(ErrorType.UNREACHABLE, "unreachable", f"{host}:{port}: {exc}") from None
        out.tcp_ok = True
        conn = _Conn(reader, writer, auth)
        t0 = time.monotonic()
        async with asyncio.timeout(connect_timeout_s):
            d = await conn.request("DESCRIBE", clean, {"Accept": "application/sdp"})
        out.describe_status = d.status
        out.describe_seconds = time.monotonic() - t0
        if d.status == 404:
            raise _Fail(ErrorType.PROTOCOL, "not_found", "DESCRIBE: 404 (no such stream)")
        if d.status != 200:
            raise _Fail(ErrorType.PROTOCOL, "protocol", f"DESCRIBE: {d.status}")
        base = d.header("content-base") or d.header("content-location") or clean
        track = video_track(d.body.decode("utf-8", "replace"), base)
        if track is None:
            raise _Fail(ErrorType.PROTOCOL, "protocol", "the SDP has no video track")
        out.codec = track.codec[:32]
        async with asyncio.timeout(connect_timeout_s):
            s = await conn.request("SETUP", track.control,
                                   {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"})
        if s.status != 200:
            raise _Fail(ErrorType.PROTOCOL, "protocol", f"SETUP: {s.status}")
        conn.session = s.header("session").split(";")[0]
        m = re.search(r"interleaved=(\d+)", s.header("transport"))
        channel = int(m.group(1)) if m else 0
        await conn.send("PLAY", clean, {"Range": "npt=0.000-"})
        t_play = time.monotonic()
        try:
            async with asyncio.timeout(frame_timeout_s):
                await _until_frame(conn, channel, out, t_play)
        except TimeoutError:
            raise _Fail(ErrorType.TIMEOUT, "no_video",
                        f"no video frame within {frame_timeout_s:g}s of PLAY "
                        f"({out.packets} RTP packets)") from None
    except _Fail as f:
        out.error_type, out.reason, out.detail = f.error_type, f.reason, f.detail
    except TimeoutError:
        # the RTSP port took the connection but the stream did not come (a camera whose
        # encoder or streaming service hangs answers TCP and nothing else)
        out.error_type, out.reason = ErrorType.TIMEOUT, "no_video"
        out.detail = "the RTSP server accepted TCP but did not answer in time"
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError) as exc:
        out.error_type, out.reason = ErrorType.PROTOCOL, "protocol"
        out.detail = f"connection broke: {type(exc).__name__}"
    finally:
        if writer is not None:
            if conn is not None and conn.session:
                with contextlib.suppress(Exception):
                    await conn.send("TEARDOWN", clean)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
    return out


async def _until_frame(conn: _Conn, channel: int, out: StreamCheck, t_play: float) -> None:
    while True:
        b = await conn.r.readexactly(1)
        if b == b"$":
            head = await conn.r.readexactly(3)
            ch, n = head[0], int.from_bytes(head[1:], "big")
            data = await conn.r.readexactly(n)
            if ch != channel:
                continue  # RTCP, other tracks
            if n < 12 or data[0] >> 6 != 2:
                out.malformed += 1  # not RTP version 2: counted, and we keep reading
                continue
            out.packets += 1
            if out.first_packet_seconds is None:
                out.first_packet_seconds = time.monotonic() - t_play
            if data[1] & 0x80:
                out.first_frame_seconds = time.monotonic() - t_play
                return
        elif b == b"R":
            resp = await conn.read_response(b)  # the PLAY answer (or another)
            if resp.status != 200:
                raise _Fail(ErrorType.PROTOCOL, "protocol", f"PLAY: {resp.status}")
        else:
            out.malformed += 1
            raise _Fail(ErrorType.PROTOCOL, "protocol",
                        f"byte {b!r} is neither an interleaved frame nor an RTSP answer")
