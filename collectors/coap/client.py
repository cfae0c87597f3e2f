"""The only file importing aiocoap and cbor2: GET and Observe over CoAP/UDP, typed errors.

A request is confirmable (RFC 7252 4.2) but bounded by our own timeout, not the protocol's
~93 s of retransmissions: the scheduler owns timing. One client context serves every device
of the instance (one UDP socket).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # aiocoap and cbor2 load on first use, not with the SPEC every start imports
    import aiocoap

from agent.core.errors import CollectError
from agent.core.model import ErrorType

logging.getLogger("coap").setLevel(logging.CRITICAL)  # the agent logs failures itself


@dataclass(frozen=True, slots=True)
class Response:
    code: str  # "2.05 Content"
    success: bool
    content_format: int | None
    payload: bytes


class BadCbor(ValueError):
    pass


def cbor_loads(data: bytes) -> Any:
    import cbor2

    try:
        return cbor2.loads(data)
    except Exception as exc:  # cbor2 raises several types on hostile input
        raise BadCbor(f"not CBOR: {type(exc).__name__}: {str(exc)[:100]}") from None


def cbor_dumps(obj: Any) -> bytes:
    import cbor2

    return bytes(cbor2.dumps(obj))


def _response(r: aiocoap.Message) -> Response:
    cf = r.opt.content_format
    return Response(str(r.code), bool(r.code.is_successful()),
                    None if cf is None else int(cf), bytes(r.payload))


def _error(exc: Exception, where: str) -> CollectError:
    import aiocoap.error

    if isinstance(exc, TimeoutError | aiocoap.error.TimeoutError |
                  aiocoap.error.ConRetransmitsExceeded):
        return CollectError(ErrorType.TIMEOUT, f"{where}: no answer")
    if isinstance(exc, aiocoap.error.ResolutionError):
        return CollectError(ErrorType.DNS, f"{where}: {exc}")
    if isinstance(exc, aiocoap.error.NetworkError | OSError):
        return CollectError(ErrorType.UNREACHABLE, f"{where}: {exc}")
    return CollectError(ErrorType.PROTOCOL, f"{where}: {type(exc).__name__}: {exc}")


class CoapClient:
    def __init__(self) -> None:
        self._ctx: aiocoap.Context | None = None

    async def _context(self) -> aiocoap.Context:
        if self._ctx is None:
            import aiocoap

            self._ctx = await aiocoap.Context.create_client_context()
        return self._ctx

    async def get(self, uri: str, timeout_s: float) -> Response:
        import aiocoap

        ctx = await self._context()
        req = ctx.request(aiocoap.Message(code=aiocoap.GET, uri=uri))
        try:
            async with asyncio.timeout(timeout_s):
                r = await req.response
        except Exception as exc:
            raise _error(exc, uri) from None
        return _response(r)

    async def observe(self, uri: str, timeout_s: float,
                      on_notify: Callable[[Response], None]) -> Observation:
        """Start an observation (RFC 7641); the first answer is returned through `on_notify`
        too. Raises CollectError when the first answer does not come."""
        import aiocoap

        ctx = await self._context()
        req = ctx.request(aiocoap.Message(code=aiocoap.GET, uri=uri, observe=0))
        try:
            async with asyncio.timeout(timeout_s):
                first = await req.response
        except Exception as exc:
            with contextlib.suppress(Exception):
                req.observation.cancel()
            raise _error(exc, uri) from None
        on_notify(_response(first))
        return Observation(req, on_notify, uri)

    async def close(self) -> None:
        ctx, self._ctx = self._ctx, None
        if ctx is not None:
            await ctx.shutdown()


class Observation:
    """Notifications arrive in a task of their own; `alive` turns False when the server ends
    the observation or stops answering, and the owner starts a new one."""

    def __init__(self, req: Any, on_notify: Callable[[Response], None], uri: str) -> None:
        self._req = req
        self.uri = uri
        self.alive = True
        self.ended_by = ""
        self.task = asyncio.create_task(self._run(on_notify), name=f"observe {uri}")

    async def _run(self, on_notify: Callable[[Response], None]) -> None:
        try:
            async for r in self._req.observation:
                on_notify(_response(r))
            self.ended_by = "the server ended it"
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.ended_by = f"{type(exc).__name__}"
        finally:
            self.alive = False

    def cancel(self) -> None:
        self.alive = False
        with contextlib.suppress(Exception):
            self._req.observation.cancel()
        self.task.cancel()
