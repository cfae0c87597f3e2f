"""A hostile SNMPv2c agent: a small asyncio UDP server answering from a MIB full of bad values.

It speaks well-formed BER where it must (so the request can be matched) and breaks everything
else an agent can break:
- values out of SMIv2 range: an INTEGER of 1,800 octets (ifOperStatus), a Counter32 of 5 octets
  past 2^32 (ifInOctets), a Counter64 of 12 octets (ifHCInOctets), a 60 kB ifAlias;
- wrong types: sysUpTime as an OCTET STRING, ifSpeed as an OBJECT IDENTIFIER;
- a walk whose next OID goes backwards (ifDescr), duplicate varbinds in another (ifType);
- around the real answers: garbage datagrams, late truncated duplicates, and now and then a
  truncated copy before the answer (that request fails as a protocol error).
Runs in its own thread with its own event loop; `port` is on `host`.
"""

from __future__ import annotations

import asyncio
import bisect
import threading
from dataclasses import dataclass, field

from collectors.snmp.fast.ber import (
    GET,
    GETBULK,
    GETNEXT,
    RESPONSE,
    _header,
    _tlv,
    decode_oid,
    encode_integer,
    encode_oid,
)
from collectors.snmp.session import Oid, oid_from_str

INTEGER, OCTETS, OID_T, COUNTER32, GAUGE32, TIMETICKS, COUNTER64 = (
    0x02, 0x04, 0x06, 0x41, 0x42, 0x43, 0x46)
END_OF_MIB = 0x82

HUGE_INT = b"\x7f" + b"\xff" * 1799


def _mib() -> list[tuple[Oid, int, bytes]]:
    o = oid_from_str
    rows: list[tuple[Oid, int, bytes]] = [
        (o("1.3.6.1.2.1.1.1.0"), OCTETS, b"Hostile Switch OS 1.0"),
        (o("1.3.6.1.2.1.1.2.0"), OID_T, encode_oid(o("1.3.6.1.4.1.99999.1"))[2:]),
        (o("1.3.6.1.2.1.1.3.0"), OCTETS, b"not a TimeTicks"),  # wrong type
        (o("1.3.6.1.2.1.1.5.0"), OCTETS, b"evil"),
        (o("1.3.6.1.2.1.1.6.0"), OCTETS, b"x" * 60_000),  # 60 kB sysLocation
    ]
    for i in (1, 2):
        rows += [
            (o(f"1.3.6.1.2.1.2.2.1.1.{i}"), INTEGER, bytes((i,))),
            (o(f"1.3.6.1.2.1.2.2.1.2.{i}"), OCTETS, f"evil{i}".encode()),
            (o(f"1.3.6.1.2.1.2.2.1.3.{i}"), INTEGER, b"\x06"),
            (o(f"1.3.6.1.2.1.2.2.1.5.{i}"), OID_T, b"\x2b\x06"),  # wrong type
            (o(f"1.3.6.1.2.1.2.2.1.7.{i}"), INTEGER, b"\x01"),
            (o(f"1.3.6.1.2.1.2.2.1.8.{i}"), INTEGER, HUGE_INT),  # 1,800-octet INTEGER
            (o(f"1.3.6.1.2.1.2.2.1.10.{i}"), COUNTER32, b"\x01\x00\x00\x00\x05"),  # > 2^32
            (o(f"1.3.6.1.2.1.31.1.1.1.1.{i}"), OCTETS, f"Evil{i}".encode()),
            (o(f"1.3.6.1.2.1.31.1.1.1.6.{i}"), COUNTER64, b"\x01" + b"\x00" * 11),  # > 2^64
            (o(f"1.3.6.1.2.1.31.1.1.1.18.{i}"), OCTETS, b"a" * 60_000),  # 60 kB ifAlias
        ]
    return sorted(rows)


IF_TYPE = oid_from_str("1.3.6.1.2.1.2.2.1.3")  # its walk repeats each varbind
BACKWARDS_AFTER = oid_from_str("1.3.6.1.2.1.2.2.1.2.1")  # ifDescr.1 → next is ifDescr.0.5


@dataclass
class HostileAgent:
    host: str
    port: int = 0
    requests: int = 0
    _mib: list[tuple[Oid, int, bytes]] = field(default_factory=_mib)
    _loop: asyncio.AbstractEventLoop | None = None
    _transport: asyncio.DatagramTransport | None = None
    _thread: threading.Thread | None = None

    def _next(self, oid: Oid) -> tuple[Oid, int, bytes]:
        if oid == BACKWARDS_AFTER:  # non-increasing: the walker must stop this walk only
            return (*BACKWARDS_AFTER[:-1], 0, 5), OCTETS, b"backwards"
        keys = [r[0] for r in self._mib]
        i = bisect.bisect_right(keys, oid)
        if i >= len(self._mib):
            return oid, END_OF_MIB, b""
        return self._mib[i]

    def _get(self, oid: Oid) -> tuple[Oid, int, bytes]:
        for row in self._mib:
            if row[0] == oid:
                return row
        return oid, 0x81, b""  # noSuchInstance

    def answer(self, data: bytes) -> bytes | None:
        try:
            _, p, end = _header(data, 0, len(data))
            _, _vs, p = _header(data, p, end)  # version
            _, cs, p = _header(data, p, end)  # community
            community = data[cs:p]
            pdu, p, pend = _header(data, p, end)
            _, rs, p = _header(data, p, pend)
            rid = int.from_bytes(data[rs:p], "big", signed=True)
            _, ns, p = _header(data, p, pend)
            non_rep = int.from_bytes(data[ns:p], "big")
            _, ms, p = _header(data, p, pend)
            max_rep = int.from_bytes(data[ms:p], "big")
            _, p, vend = _header(data, p, pend)
            oids: list[Oid] = []
            while p < vend:
                _, vs, vb_end = _header(data, p, vend)
                _, os_, oe = _header(data, vs, vb_end)
                oids.append(decode_oid(data[os_:oe]))
                p = vb_end
        except Exception:
            return None
        out: list[tuple[Oid, int, bytes]] = []
        if pdu == GET:
            out = [self._get(o) for o in oids]
        elif pdu == GETNEXT:
            out = [self._next(o) for o in oids]
        elif pdu == GETBULK:
            out = [self._next(o) for o in oids[:non_rep]]
            for o in oids[non_rep:]:
                cur = o
                for _ in range(max(1, min(max_rep, 50))):
                    row = self._next(cur)
                    out.append(row)
                    if row[0][:-1] == IF_TYPE:
                        out.append(row)  # a duplicate varbind
                    if row[1] == END_OF_MIB:
                        break
                    cur = row[0]
        body = b""
        for oid, tag, raw in out:
            vb = _tlv(0x30, encode_oid(oid) + _tlv(tag, raw))
            if len(body) + len(vb) > 62_000:
                break  # one UDP datagram
            body += vb
        if not body:  # a single over-sized varbind still goes out alone
            oid, tag, raw = out[0]
            body = _tlv(0x30, encode_oid(oid) + _tlv(tag, raw[:62_000]))
        pdu_body = encode_integer(rid) + encode_integer(0) + encode_integer(0) + _tlv(0x30, body)
        return _tlv(0x30, encode_integer(1) + _tlv(0x04, community)
                    + _tlv(RESPONSE, pdu_body))

    def start(self) -> HostileAgent:
        ready = threading.Event()
        agent = self

        class Proto(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                agent.requests += 1
                reply = agent.answer(data)
                t = agent._transport
                if reply is None or t is None:
                    return
                t.sendto(b"\x30\x82\xff\xff garbage", addr)  # garbage first
                if agent.requests % 7 == 0:  # now and then a truncated copy before the answer
                    t.sendto(reply[: len(reply) // 2], addr)
                t.sendto(reply, addr)
                t.sendto(reply[: len(reply) // 3], addr)  # and a late truncated duplicate

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop

            async def serve() -> None:
                transport, _ = await loop.create_datagram_endpoint(
                    Proto, local_addr=(self.host, self.port))
                self._transport = transport
                self.port = transport.get_extra_info("sockname")[1]
                ready.set()

            loop.run_until_complete(serve())
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=main, name="hostile-snmp", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("hostile SNMP agent did not start")
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return

        def close() -> None:
            if self._transport is not None:
                self._transport.close()
            loop.stop()

        loop.call_soon_threadsafe(close)
        if self._thread is not None:
            self._thread.join(timeout=5)
