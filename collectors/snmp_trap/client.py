"""SNMPv3 notifications through pysnmp 7; the only module importing pysnmp in this plugin.

The listener owns the UDP sockets. A v3 datagram is handed to a pysnmp transport object that
is registered with the engine but never opened: its `transport` is the listener's own socket,
so pysnmp's replies (the Report of engine discovery, the Response acknowledging an inform) leave
from the port the sender talked to. USM users come from named credential sets; a trap's sender
is the authoritative engine (RFC 3414 §1.5.1), so each user is added once per configured engine
ID, and once for our own engine (informs).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.entity import config as engine_config
from pysnmp.entity.engine import SnmpEngine
from pysnmp.entity.rfc3413 import ntfrcv
from pysnmp.proto import errind, rfc1902

from collectors.snmp_trap.ber import SNMP_TRAP_OID_0, SYS_UPTIME_0, Oid, Value, VarBind
from config.credentials import SnmpAuthProtocol, SnmpPrivProtocol, SnmpV3Credential

_AUTH = {
    SnmpAuthProtocol.MD5: engine_config.USM_AUTH_HMAC96_MD5,
    SnmpAuthProtocol.SHA: engine_config.USM_AUTH_HMAC96_SHA,
    SnmpAuthProtocol.SHA224: engine_config.USM_AUTH_HMAC128_SHA224,
    SnmpAuthProtocol.SHA256: engine_config.USM_AUTH_HMAC192_SHA256,
    SnmpAuthProtocol.SHA384: engine_config.USM_AUTH_HMAC256_SHA384,
    SnmpAuthProtocol.SHA512: engine_config.USM_AUTH_HMAC384_SHA512,
}
_PRIV = {
    SnmpPrivProtocol.DES: engine_config.USM_PRIV_CBC56_DES,
    SnmpPrivProtocol.AES: engine_config.USM_PRIV_CFB128_AES,
    SnmpPrivProtocol.AES192: engine_config.USM_PRIV_CFB192_AES,
    SnmpPrivProtocol.AES256: engine_config.USM_PRIV_CFB256_AES,
}
_PRIV_BLUMENTHAL = {
    **_PRIV,
    SnmpPrivProtocol.AES192: engine_config.USM_PRIV_CFB192_AES_BLUMENTHAL,
    SnmpPrivProtocol.AES256: engine_config.USM_PRIV_CFB256_AES_BLUMENTHAL,
}
# security failures that mean "not one of our users" (engine discovery and time-window
# synchronisation also fail security on purpose, and are not counted)
_AUTH_FAILURES: dict[type[Any], str] = {
    errind.UnknownUserName: "unknown_user", errind.WrongDigest: "wrong_digest",
    errind.DecryptionError: "decryption_error",
    errind.UnsupportedSecurityLevel: "unsupported_security_level",
    errind.UnknownSecurityName: "unknown_user", errind.AuthenticationFailure: "wrong_digest",
}


@dataclass(frozen=True, slots=True)
class V3User:
    credential: SnmpV3Credential
    engine_ids: tuple[bytes, ...]  # senders' authoritative engine IDs (traps)
    blumenthal: bool = False  # AES-192/256 key extension as net-snmp does it


@dataclass(frozen=True, slots=True)
class V3Notification:
    address: str
    user: str
    engine_id: bytes
    trap_oid: Oid
    uptime: int | None
    varbinds: tuple[VarBind, ...]
    inform: bool


def _to_value(v: Any) -> tuple[int, Value]:
    """A pysnmp value → (BER tag, plain value), by its tag (no MIB, no class checks)."""
    tag = v.tagSet[0]
    ber = int(tag.tagClass) | int(tag.tagFormat) | int(tag.tagId)
    if ber == 0x40:
        return ber, ".".join(str(b) for b in bytes(v))
    if ber == 0x06:
        return ber, tuple(int(x) for x in v)
    if ber in (0x04, 0x44):
        return ber, bytes(v)
    if ber in (0x05, 0x80, 0x81, 0x82) or not v.isValue:
        return ber, None
    return ber, int(v)


class V3Receiver:
    """pysnmp engine fed one datagram at a time; calls back with what it accepted."""

    def __init__(self, users: Sequence[V3User],
                 on_notification: Callable[[V3Notification], None],
                 on_auth_failure: Callable[[str, str], None],
                 engine_id: bytes | None = None) -> None:
        self.engine = SnmpEngine(
            snmpEngineID=rfc1902.OctetString(engine_id) if engine_id else None)
        self._on_notification = on_notification
        self._on_auth_failure = on_auth_failure
        self._transports: dict[int, Any] = {}
        self._last: dict[str, Any] = {}
        for u in users:
            c = u.credential
            auth = _AUTH[c.auth_protocol] if c.auth_protocol else engine_config.USM_AUTH_NONE
            privs = _PRIV_BLUMENTHAL if u.blumenthal else _PRIV
            priv = privs[c.priv_protocol] if c.priv_protocol else engine_config.USM_PRIV_NONE
            auth_key = c.auth_key.get_secret_value() if c.auth_key else None
            priv_key = c.priv_key.get_secret_value() if c.priv_key else None
            for eid in (None, *u.engine_ids):
                engine_config.add_v3_user(
                    self.engine, c.user, auth, auth_key, priv, priv_key,
                    securityEngineId=None if eid is None else rfc1902.OctetString(eid))
        obs = self.engine.observer
        obs.register_observer(self._seen, "rfc3412.receiveMessage:request")
        obs.register_observer(self._sm_failure, "rfc3412.prepareDataElements:sm-failure")
        self._receiver = ntfrcv.NotificationReceiver(self.engine, self._callback)
        mib = self.engine.get_mib_builder()
        self._bad_counters: list[Any] = [
            *mib.import_symbols("__SNMPv2-MIB", "snmpInASNParseErrs", "snmpInBadVersions"),
            *mib.import_symbols("__SNMP-MPD-MIB", "snmpUnknownSecurityModels",
                                "snmpInvalidMsgs", "snmpUnknownPDUHandlers")]

    @property
    def engine_id(self) -> bytes:
        return bytes(self.engine.snmpEngineID)

    def attach(self, family: int, sock: asyncio.DatagramTransport) -> None:
        """Let pysnmp answer through the listener's own socket of this address family."""
        if family == socket.AF_INET6:
            t: Any = udp6.Udp6AsyncioTransport()
            domain = udp6.DOMAIN_NAME
        else:
            t = udp.UdpAsyncioTransport()
            domain = udp.DOMAIN_NAME
        engine_config.add_transport(self.engine, domain, t)
        t.transport = sock
        self._transports[family] = t

    def feed(self, family: int, data: bytes, addr: tuple[Any, ...]) -> bool:
        """Process one v3 datagram now (synchronously; pysnmp sends any reply itself).
        False when pysnmp found it malformed (it counts those in its own MIB, silently)."""
        t = self._transports[family]
        before = self._malformed()
        t._callback_function(t, t.ADDRESS_TYPE(addr[:2]), data)
        return self._malformed() == before

    def _malformed(self) -> int:
        return sum(int(c.syntax) for c in self._bad_counters)

    def _seen(self, _engine: Any, _point: str, variables: dict[str, Any], _ctx: Any) -> None:
        self._last = variables

    def _sm_failure(self, _engine: Any, _point: str, variables: dict[str, Any],
                    _ctx: Any) -> None:
        status = variables.get("statusInformation") or {}
        reason = _AUTH_FAILURES.get(type(status.get("errorIndication")))
        if reason is not None:
            self._on_auth_failure(str(variables.get("transportAddress", ("?",))[0]), reason)

    def _callback(self, _engine: Any, _state: Any, ctx_engine: Any, _ctx_name: Any,
                  var_binds: Sequence[tuple[Any, Any]], _cb_ctx: Any) -> None:
        last = self._last
        uptime: int | None = None
        trap_oid: Oid | None = None
        rest: list[VarBind] = []
        for name, value in var_binds:
            oid = tuple(int(x) for x in name)
            tag, val = _to_value(value)
            if oid == SYS_UPTIME_0 and isinstance(val, int):
                uptime = val
            elif oid == SNMP_TRAP_OID_0 and isinstance(val, tuple):
                trap_oid = val
            else:
                rest.append(VarBind(oid, tag, val))
        if trap_oid is None:
            return
        pdu = last.get("pdu")
        inform = pdu is not None and pdu.__class__.__name__ == "InformRequestPDU"
        addr = last.get("transportAddress", ("?",))
        self._on_notification(V3Notification(
            str(addr[0]), str(last.get("securityName", "")),
            bytes(ctx_engine or b""), trap_oid, uptime, tuple(rest),
            inform))

    def close(self) -> None:
        for t in self._transports.values():
            t.transport = None  # the socket belongs to the listener
        self._transports.clear()
        disp = self.engine.transport_dispatcher
        if disp is not None:
            self.engine.close_dispatcher()
