"""pysnmp 7 (asyncio) implementation of `SnmpSession`; the only module importing pysnmp.

Lean on purpose: requests are built from numeric OIDs and responses decoded straight into
`VarBind` (no MIB lookup, no per-varbind MIB objects). One `SnmpEngine` per event loop is shared
by every session (one UDP socket per address family); it closes with its last session.
pysnmp failures are translated here into `agent.core.errors` types; nothing above matches on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pysnmp.entity import config as engine_config
from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    SnmpEngine,
    Udp6TransportTarget,
    UdpTransportTarget,
    UsmUserData,
)
from pysnmp.hlapi.v3arch.asyncio import auth as hlauth
from pysnmp.hlapi.v3arch.asyncio.lcd import CommandGeneratorLcdConfigurator
from pysnmp.proto import errind, rfc1902, rfc1905

from agent.core.errors import CollectError
from agent.core.model import ErrorType
from collectors.snmp.limits import RequestLimiter
from collectors.snmp.session import Oid, SnmpType, VarBind
from collectors.snmp.walker import Repetitions, TooBigError, bulk_walk
from config.credentials import (
    SnmpAuthProtocol,
    SnmpPrivProtocol,
    SnmpV2cCredential,
    SnmpV3Credential,
)

_AUTH = {
    SnmpAuthProtocol.MD5: hlauth.USM_AUTH_HMAC96_MD5,
    SnmpAuthProtocol.SHA: hlauth.USM_AUTH_HMAC96_SHA,
    SnmpAuthProtocol.SHA224: hlauth.USM_AUTH_HMAC128_SHA224,
    SnmpAuthProtocol.SHA256: hlauth.USM_AUTH_HMAC192_SHA256,
    SnmpAuthProtocol.SHA384: hlauth.USM_AUTH_HMAC256_SHA384,
    SnmpAuthProtocol.SHA512: hlauth.USM_AUTH_HMAC384_SHA512,
}
_PRIV = {
    SnmpPrivProtocol.DES: hlauth.USM_PRIV_CBC56_DES,
    SnmpPrivProtocol.AES: hlauth.USM_PRIV_CFB128_AES,
    # 192/256-bit AES key extension as Cisco does it (Reeder); no RFC fixes one.
    SnmpPrivProtocol.AES192: hlauth.USM_PRIV_CFB192_AES,
    SnmpPrivProtocol.AES256: hlauth.USM_PRIV_CFB256_AES,
}
_PRIV_BLUMENTHAL = {
    **_PRIV,
    SnmpPrivProtocol.AES192: hlauth.USM_PRIV_CFB192_AES_BLUMENTHAL,
    SnmpPrivProtocol.AES256: hlauth.USM_PRIV_CFB256_AES_BLUMENTHAL,
}

# Reports and local failures that mean "wrong credentials", never "no answer".
_AUTH_ERRORS: tuple[type[Any], ...] = (
    errind.WrongDigest, errind.UnknownUserName, errind.DecryptionError,
    errind.UnsupportedSecurityLevel, errind.AuthenticationFailure, errind.UnknownCommunityName,
    errind.UnknownSecurityName,
)
_TOO_BIG = 1
_AUTHORIZATION_ERROR = 16

_LCD = CommandGeneratorLcdConfigurator()
_NULL = rfc1902.Null("")


@dataclass
class _Engine:
    engine: SnmpEngine
    users: int = 0


_ENGINES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Engine] = (
    weakref.WeakKeyDictionary())


def _acquire_engine() -> _Engine:
    loop = asyncio.get_running_loop()
    holder = _ENGINES.get(loop)
    if holder is None:
        holder = _ENGINES[loop] = _Engine(SnmpEngine())
    holder.users += 1
    return holder


def _release_engine(holder: _Engine) -> None:
    holder.users -= 1
    if holder.users <= 0:
        for loop, h in list(_ENGINES.items()):
            if h is holder:
                del _ENGINES[loop]
        holder.engine.close_dispatcher()


def _auth_data(cred: SnmpV2cCredential | SnmpV3Credential,
               blumenthal: bool = False) -> CommunityData | UsmUserData:
    if isinstance(cred, SnmpV2cCredential):
        community = cred.community.get_secret_value()
        # Index by a digest: the community itself must not become an engine table name.
        index = "c" + hashlib.sha256(community.encode()).hexdigest()[:16]
        return CommunityData(index, community, mpModel=1)
    auth_key = cred.auth_key.get_secret_value() if cred.auth_key else None
    priv_key = cred.priv_key.get_secret_value() if cred.priv_key else None
    return UsmUserData(
        cred.user, authKey=auth_key, privKey=priv_key,
        authProtocol=_AUTH[cred.auth_protocol] if cred.auth_protocol else hlauth.USM_AUTH_NONE,
        privProtocol=((_PRIV_BLUMENTHAL if blumenthal else _PRIV)[cred.priv_protocol]
                      if cred.priv_protocol else hlauth.USM_PRIV_NONE),
    )


_EXCEPTIONS = {
    rfc1905.NoSuchObject.tagSet: SnmpType.NO_SUCH_OBJECT,
    rfc1905.NoSuchInstance.tagSet: SnmpType.NO_SUCH_INSTANCE,
    rfc1905.EndOfMibView.tagSet: SnmpType.END_OF_MIB_VIEW,
}


def decode_value(oid: Any, value: Any) -> VarBind:
    """pysnmp (ObjectName, value) → VarBind, by BER tag; no MIB involved."""
    key = tuple(oid)
    exc = _EXCEPTIONS.get(value.tagSet)
    if exc is not None:
        return VarBind(key, exc, None)
    tag = value.tagSet[0]
    try:
        kind = SnmpType(tag.tagClass | tag.tagId)
    except ValueError:
        return VarBind(key, SnmpType.OPAQUE, bytes(value.asOctets()))
    if kind in (SnmpType.OCTET_STRING, SnmpType.IP_ADDRESS, SnmpType.OPAQUE):
        return VarBind(key, kind, bytes(value.asOctets()))
    if kind is SnmpType.OBJECT_IDENTIFIER:
        return VarBind(key, kind, tuple(value))
    if kind is SnmpType.NULL:
        return VarBind(key, kind, None)
    return VarBind(key, kind, int(value))


def _error(indication: Any) -> CollectError:
    if isinstance(indication, errind.RequestTimedOut):
        return CollectError(ErrorType.TIMEOUT, "no SNMP answer")
    if isinstance(indication, _AUTH_ERRORS):
        return CollectError(ErrorType.AUTH, f"SNMP authentication failed: {indication}")
    return CollectError(ErrorType.PROTOCOL, f"SNMP error: {indication}")


_UPTIME = rfc1902.ObjectName((1, 3, 6, 1, 2, 1, 1, 3, 0))
_diag_ids = iter(range(1, 1 << 62))


class PysnmpSession:
    """One device over the shared engine. Build with `open_pysnmp_session`."""

    def __init__(self, holder: _Engine, addr_name: str, auth: CommunityData | UsmUserData,
                 target: UdpTransportTarget | Udp6TransportTarget, context: str,
                 limiter: RequestLimiter, reps: Repetitions) -> None:
        self._holder = holder
        self._addr_name = addr_name
        self._auth = auth
        self._target = target
        self._context = rfc1902.OctetString(context.encode())
        self._limiter = limiter
        self._reps = reps
        self._closed = False
        # authPriv only: after a timeout, one authNoPriv probe tells a wrong privacy key (the
        # agent cannot decrypt, so it stays silent) from a dead device.
        self._diagnose = isinstance(auth, UsmUserData) and auth.security_level == "authPriv"
        self._diag_names: tuple[str, str] | None = None

    @property
    def max_repetitions(self) -> int:
        return self._reps.current

    async def _request(self, addr_name: str, bulk_reps: int | None,
                       var_binds: list[tuple[Any, Any]]) -> tuple[Any, int, Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[Any, int, Any]] = loop.create_future()

        def done(_engine: Any, _handle: Any, indication: Any, status: Any, _index: Any,
                 var_binds: Any, _ctx: Any) -> None:
            if not future.done():
                future.set_result((indication, int(status or 0), var_binds))

        engine = self._holder.engine
        async with self._limiter.slot():
            try:
                if bulk_reps is None:
                    cmdgen.GetCommandGenerator().send_varbinds(
                        engine, addr_name, None, self._context, var_binds, done)
                else:
                    cmdgen.BulkCommandGeneratorSingleRun().send_varbinds(
                        engine, addr_name, None, self._context, 0, bulk_reps,
                        var_binds, done)
                return await future
            except PySnmpError as exc:
                raise CollectError(ErrorType.PROTOCOL, f"SNMP request failed: {exc}") from exc

    async def _privacy_rejected(self) -> bool:
        """Does the agent answer this user without privacy? Then our privacy key is wrong."""
        engine = self._holder.engine
        if self._diag_names is None:
            n = next(_diag_ids)
            params, addr = f"campusmon-np-p{n}", f"campusmon-np-a{n}"
            engine_config.add_target_parameters(engine, params, self._auth.securityName,
                                                "authNoPriv", 3)
            engine_config.add_target_address(
                engine, addr, self._target.TRANSPORT_DOMAIN, self._target.transport_address,
                params, self._target.timeout * 100, 0, self._target.tagList)
            self._diag_names = (params, addr)
        indication, _status, _raw = await self._request(
            self._diag_names[1], None, [(_UPTIME, _NULL)])
        return not isinstance(indication, errind.RequestTimedOut)

    async def _send(self, bulk_reps: int | None, oids: Sequence[Oid]) -> list[VarBind]:
        if self._closed:
            raise CollectError(ErrorType.INTERNAL, "SNMP session is closed")
        var_binds = [(rfc1902.ObjectName(o), _NULL) for o in oids]
        indication, status, raw = await self._request(self._addr_name, bulk_reps, var_binds)
        if indication:
            if (isinstance(indication, errind.RequestTimedOut) and self._diagnose
                    and not self._reps.answered):
                self._diagnose = False  # once per session: a dead device pays one probe
                if await self._privacy_rejected():
                    raise CollectError(ErrorType.AUTH, "SNMPv3 privacy key rejected: the agent "
                                       "answers this user without privacy but not with it")
            raise _error(indication)
        self._reps.answered = True  # it is alive: a later GETBULK timeout may mean "too big"
        if status == _TOO_BIG:
            raise TooBigError()
        if status == _AUTHORIZATION_ERROR:
            raise CollectError(ErrorType.AUTH, "SNMP authorizationError")
        if status:
            raise CollectError(ErrorType.PROTOCOL, f"SNMP error-status {status}")
        try:
            return [decode_value(o, v) for o, v in raw]
        except Exception as exc:  # pyasn1/pysnmp raise their own types on odd values
            raise CollectError(ErrorType.PROTOCOL, f"undecodable varbind: {exc}") from exc

    async def get(self, oids: Sequence[Oid]) -> list[VarBind]:
        return await self._send(None, oids)

    async def _bulk(self, oid: Oid, reps: int) -> list[VarBind]:
        return await self._send(reps, [oid])

    async def walk(self, root: Oid) -> list[VarBind]:
        return await bulk_walk(self._bulk, root, self._reps)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(PySnmpError):
            _LCD.unconfigure(self._holder.engine, self._auth, self._target)
        if self._diag_names is not None:
            params, addr = self._diag_names
            with contextlib.suppress(PySnmpError):
                engine_config.delete_target_address(self._holder.engine, addr)
                engine_config.delete_target_parameters(self._holder.engine, params)
        _release_engine(self._holder)


async def open_pysnmp_session(
    host: str, port: int, cred: SnmpV2cCredential | SnmpV3Credential, *, timeout_s: float,
    retries: int, limiter: RequestLimiter, reps: Repetitions, blumenthal: bool = False,
) -> PysnmpSession:
    """Resolve `host` (IPv6 literals, names with AAAA) and register the target on the engine."""
    auth = _auth_data(cred, blumenthal)
    context = cred.context if isinstance(cred, SnmpV3Credential) else ""
    target_cls = Udp6TransportTarget if ":" in host else UdpTransportTarget
    try:
        target = await target_cls.create((host, port), timeout=timeout_s, retries=retries)
    except PySnmpError as exc:
        if target_cls is UdpTransportTarget:
            try:  # a name with only an AAAA record
                target = await Udp6TransportTarget.create(
                    (host, port), timeout=timeout_s, retries=retries)
            except PySnmpError:
                raise CollectError(ErrorType.DNS, f"cannot resolve {host}: {exc}") from exc
        else:
            raise CollectError(ErrorType.DNS, f"cannot resolve {host}: {exc}") from exc
    holder = _acquire_engine()
    try:
        addr_name, _params = _LCD.configure(holder.engine, auth, target, context.encode())
    except PySnmpError as exc:
        _release_engine(holder)
        raise CollectError(ErrorType.PROTOCOL, f"SNMP target setup failed: {exc}") from exc
    return PysnmpSession(holder, addr_name, auth, target, context, limiter, reps)
