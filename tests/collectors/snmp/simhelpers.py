"""Helpers for the fast-path and simulated-campus tests: reference encodings, snmprec parsing,
and a scriptable in-process UDP agent for failure cases. (snmpsim and snmpd come from the
session fixtures in conftest.py.)"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyasn1.codec.ber import decoder, encoder  # type: ignore[import-untyped]
from pysnmp.proto.api import v2c

from collectors.snmp.fast import FastOptions, FastSession
from collectors.snmp.session import Oid, SnmpType, VarBind, oid_from_str
from tests.servers import require_binary

PYSNMP_TYPES: dict[SnmpType, Any] = {
    SnmpType.INTEGER: v2c.Integer,
    SnmpType.OCTET_STRING: v2c.OctetString,
    SnmpType.NULL: lambda _v: v2c.Null(""),
    SnmpType.OBJECT_IDENTIFIER: v2c.ObjectIdentifier,
    SnmpType.IP_ADDRESS: v2c.IpAddress,
    SnmpType.COUNTER32: v2c.Counter32,
    SnmpType.GAUGE32: v2c.Gauge32,
    SnmpType.TIMETICKS: v2c.TimeTicks,
    SnmpType.OPAQUE: v2c.Opaque,
    SnmpType.COUNTER64: v2c.Counter64,
    SnmpType.NO_SUCH_OBJECT: lambda _v: v2c.NoSuchObject(""),
    SnmpType.NO_SUCH_INSTANCE: lambda _v: v2c.NoSuchInstance(""),
    SnmpType.END_OF_MIB_VIEW: lambda _v: v2c.EndOfMibView(""),
}


def pysnmp_response(community: bytes, request_id: int, varbinds: list[tuple[Oid, Any]],
                    error_status: int = 0, error_index: int = 0) -> bytes:
    """A v2c Response encoded by pysnmp + pyasn1 (the reference); values are (SnmpType, v)."""
    msg = v2c.Message()
    v2c.apiMessage.set_defaults(msg)
    v2c.apiMessage.set_community(msg, community)
    pdu = v2c.ResponsePDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, request_id)
    v2c.apiPDU.set_error_status(pdu, error_status)
    v2c.apiPDU.set_error_index(pdu, error_index)
    v2c.apiPDU.set_varbinds(
        pdu, [(v2c.ObjectIdentifier(o), PYSNMP_TYPES[t](v)) for o, (t, v) in varbinds])
    v2c.apiMessage.set_pdu(msg, pdu)
    return bytes(encoder.encode(msg))


@dataclass(frozen=True)
class DecodedRequest:
    community: bytes
    request_id: int
    pdu_type: str  # "get" / "getnext" / "getbulk"
    oids: list[Oid]
    max_repetitions: int


def pysnmp_decode_request(data: bytes) -> DecodedRequest:
    msg, _ = decoder.decode(data, asn1Spec=v2c.Message())
    pdu = v2c.apiMessage.get_pdu(msg)
    kind = ("getbulk" if pdu.isSameTypeWith(v2c.GetBulkRequestPDU()) else
            "getnext" if pdu.isSameTypeWith(v2c.GetNextRequestPDU()) else "get")
    max_rep = int(v2c.apiBulkPDU.get_max_repetitions(pdu)) if kind == "getbulk" else 0
    return DecodedRequest(bytes(v2c.apiMessage.get_community(msg)),
                          int(v2c.apiPDU.get_request_id(pdu)), kind,
                          [tuple(o) for o, _ in v2c.apiPDU.get_varbinds(pdu)], max_rep)


# -- snmprec files (what snmpsim serves) -------------------------------------------------------

_REC_TYPES = {2: SnmpType.INTEGER, 4: SnmpType.OCTET_STRING, 5: SnmpType.NULL,
              6: SnmpType.OBJECT_IDENTIFIER, 64: SnmpType.IP_ADDRESS, 65: SnmpType.COUNTER32,
              66: SnmpType.GAUGE32, 67: SnmpType.TIMETICKS, 68: SnmpType.OPAQUE,
              70: SnmpType.COUNTER64}


@dataclass(frozen=True)
class Recorded:
    varbind: VarBind
    plain: bool  # a plain (not hex) string: snmpsim serves it stripped of surrounding spaces

    def matches(self, vb: VarBind) -> bool:
        if self.plain and isinstance(vb.value, bytes) and vb.oid == self.varbind.oid:
            return vb.type is self.varbind.type and vb.value.strip() == self.varbind.value
        return vb == self.varbind


def parse_snmprec(path: Path) -> list[Recorded]:
    """Static `.snmprec` lines as the varbinds snmpsim serves, sorted by OID."""
    out: list[Recorded] = []
    for line in path.read_text(encoding="utf-8", errors="surrogateescape").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        oid_s, tag_s, value = line.split("|", 2)
        hexed = tag_s.endswith("x")
        t = _REC_TYPES[int(tag_s.rstrip("x"))]
        v: Any
        plain = False
        if t in (SnmpType.OCTET_STRING, SnmpType.OPAQUE):
            plain = not hexed
            v = bytes.fromhex(value) if hexed else value.strip().encode(
                "utf-8", errors="surrogateescape")
        elif t is SnmpType.IP_ADDRESS:
            v = bytes.fromhex(value) if hexed else socket.inet_aton(value)
        elif t is SnmpType.OBJECT_IDENTIFIER:
            v = oid_from_str(value)
        elif t is SnmpType.NULL:
            v = None
        else:
            v = int(value)
        out.append(Recorded(VarBind(oid_from_str(oid_s), t, v), plain))
    out.sort(key=lambda r: r.varbind.oid)
    return out


def mismatches(got: list[VarBind], recorded: list[Recorded]) -> list[str]:
    """Differences between a walk and a recording (empty when they agree)."""
    out = [f"{len(got)} varbinds walked, {len(recorded)} recorded"] if len(got) != len(
        recorded) else []
    out += [f"walked {vb!r}, recorded {r.varbind!r}"
            for vb, r in zip(got, recorded, strict=False) if not r.matches(vb)]
    return out[:5]


def snmpbulkwalk_oids(host: str, port: int, community: str, root: str,
                      max_repetitions: int = 25) -> list[Oid]:
    """net-snmp's view of a subtree: the OIDs only (values are compared against recordings)."""
    binary = require_binary("snmpbulkwalk")
    addr = f"udp6:[{host}]:{port}" if ":" in host else f"udp:{host}:{port}"
    proc = subprocess.run(
        [binary, "-v2c", "-c", community, f"-Cr{max_repetitions}", "-On", "-t", "3", "-r", "2",
         addr, root], capture_output=True, text=True, check=True, timeout=120)
    return [oid_from_str(line.split(" ", 1)[0]) for line in proc.stdout.splitlines()
            if line.startswith(".") and " = " in line
            and "No more variables" not in line and "No Such" not in line]


# -- snmpsim as nobody ---------------------------------------------------------------------------

def world_readable_dir(prefix: str) -> Path:
    """A work dir snmpsim can use after dropping root to nobody (pytest's tmp is 0700 root)."""
    d = Path(tempfile.mkdtemp(prefix=prefix))
    d.chmod(0o755)
    return d


# -- a scriptable agent for failure cases ------------------------------------------------------

Reply = Callable[[DecodedRequest], bytes | None]


@dataclass
class FakeAgent(asyncio.DatagramProtocol):
    """Answers with whatever `reply` returns (None = stay silent), after `delay_s`."""

    reply: Reply
    delay_s: float = 0.0
    requests: list[DecodedRequest] = field(default_factory=list)
    outstanding: int = 0
    max_outstanding: int = 0
    got_request: asyncio.Event = field(default_factory=asyncio.Event)
    transport: asyncio.DatagramTransport | None = None
    port: int = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.port = transport.get_extra_info("sockname")[1]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        req = pysnmp_decode_request(data)
        self.requests.append(req)
        self.got_request.set()
        self.outstanding += 1
        self.max_outstanding = max(self.max_outstanding, self.outstanding)
        asyncio.get_running_loop().call_later(self.delay_s, self._answer, req, addr)

    def _answer(self, req: DecodedRequest, addr: tuple[str, int]) -> None:
        self.outstanding -= 1
        out = self.reply(req)
        if out is not None and self.transport is not None:
            self.transport.sendto(out, addr)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def start_fake_agent(reply: Reply, delay_s: float = 0.0, host: str = "127.0.0.1"
                           ) -> FakeAgent:
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_datagram_endpoint(
        lambda: FakeAgent(reply, delay_s), local_addr=(host, 0))
    return proto


@contextlib.asynccontextmanager
async def scripted(reply: Reply, delay_s: float = 0.0, **options: Any
                   ) -> AsyncIterator[tuple[FakeAgent, FastSession]]:
    """A scripted agent and a fast session to it (community "c"), both closed after."""
    agent = await start_fake_agent(reply, delay_s)
    opts: dict[str, Any] = {"timeout_s": 1.0, "retries": 1, **options, "port": agent.port}
    session = FastSession("127.0.0.1", "c", FastOptions(**opts))
    try:
        yield agent, session
    finally:
        await session.close()
        agent.close()
