"""The only file importing bacpypes3: one BACnet/IP application (one UDP socket) per instance.

Who-Is (sent to the device's own address: campus BACnet networks often sit behind routers that
drop broadcasts), ReadProperty of the object list, ReadPropertyMultiple of present-value /
status-flags / units, and COV subscriptions whose notifications arrive in a task of their own.
Every library value is turned into plain Python here; every library error into a typed one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bacpypes3.apdu import ErrorRejectAbortNack
from bacpypes3.app import Application
from bacpypes3.argparse import SimpleArgumentParser
from bacpypes3.basetypes import StatusFlags
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import ObjectIdentifier

from agent.core.errors import CollectError
from agent.core.model import ErrorType
from collectors.bacnet.status import STATUS_BITS

logging.getLogger("bacpypes3").setLevel(logging.CRITICAL)  # the agent logs failures itself



@dataclass(frozen=True, slots=True)
class PointValue:
    object_id: str  # "analog-value,1"
    present_value: float | int | None  # None: not a number (set aside, counted)
    status: dict[str, int]  # in_alarm, fault, overridden, out_of_service
    units: str
    raw_type: str


def _object_id(o: Any) -> str:
    t, i = o
    return f"{t},{int(i)}"


def _number(v: Any) -> float | int | None:
    """present-value as a number: Real/Double, Unsigned/Integer, an enumerated BinaryPV
    (inactive 0, active 1) or a multi-state value; anything else is not a reading."""
    if v is None or isinstance(v, str | bytes):
        return None
    if type(v).__name__ == "BinaryPV":
        return 1 if str(v) == "active" else 0
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, float):
        return float(v)
    if isinstance(v, int):  # Unsigned, Integer, Enumerated
        return int(v)
    return None


def _status(v: Any) -> dict[str, int]:
    if not isinstance(v, StatusFlags):
        return {}
    bits = list(v)
    return {n: int(bool(bits[i])) if i < len(bits) else 0 for i, n in enumerate(STATUS_BITS)}


def _error(exc: BaseException, where: str) -> CollectError:
    if isinstance(exc, TimeoutError):
        return CollectError(ErrorType.TIMEOUT, f"{where}: no answer")
    if isinstance(exc, ErrorRejectAbortNack):
        return CollectError(ErrorType.PROTOCOL, f"{where}: {exc}")
    if isinstance(exc, OSError):
        return CollectError(ErrorType.UNREACHABLE, f"{where}: {exc}")
    return CollectError(ErrorType.PROTOCOL, f"{where}: {type(exc).__name__}: {exc}")


class BacnetClient:
    def __init__(self, local_address: str, local_instance: int) -> None:
        self.local_address = local_address
        self.local_instance = local_instance
        self._app: Any = None

    def _application(self) -> Any:
        if self._app is None:
            args = SimpleArgumentParser().parse_args([
                "--address", self.local_address, "--instance", str(self.local_instance),
                "--name", "campusmon"])
            self._app = Application.from_args(args)
        return self._app

    async def who_is(self, address: str, instance: int, timeout_s: float) -> bool:
        app = self._application()
        try:
            i_ams = await app.who_is(instance, instance, Address(address), timeout=timeout_s)
        except Exception as exc:
            raise _error(exc, address) from None
        return any(_object_id(i.iAmDeviceIdentifier) == f"device,{instance}" for i in i_ams)

    async def discover(self, address: str, timeout_s: float, limit: int = 4096
                       ) -> list[tuple[int, str]]:
        """Who-Is without a range to `address` (a directed broadcast, or one device): every
        (device instance, address) that answered I-Am within the timeout."""
        app = self._application()
        try:
            i_ams = await app.who_is(None, None, Address(address), timeout=timeout_s)
        except Exception as exc:
            raise _error(exc, address) from None
        out: list[tuple[int, str]] = []
        for i in list(i_ams)[:limit]:
            kind, inst = i.iAmDeviceIdentifier
            if str(kind) == "device":
                out.append((int(inst), str(i.pduSource)))
        return out

    async def object_list(self, address: str, instance: int, timeout_s: float,
                          limit: int = 1024) -> list[str]:
        app = self._application()
        try:
            async with asyncio.timeout(timeout_s):
                got = await app.read_property(Address(address),
                                              ObjectIdentifier(f"device,{instance}"),
                                              "object-list")
        except Exception as exc:
            raise _error(exc, address) from None
        return [_object_id(o) for o in list(got)[:limit]]

    async def read_points(self, address: str, objects: Sequence[str],
                          timeout_s: float) -> list[PointValue]:
        """present-value, status-flags and units of each object, in one request."""
        app = self._application()
        req: list[Any] = []
        for o in objects:
            req += [ObjectIdentifier(o), ["present-value", "status-flags", "units"]]
        try:
            async with asyncio.timeout(timeout_s):
                rows = await app.read_property_multiple(Address(address), req)
        except Exception as exc:
            raise _error(exc, address) from None
        by: dict[str, dict[str, Any]] = {}
        for obj, prop, _index, value in rows:
            by.setdefault(_object_id(obj), {})[str(prop)] = value
        out: list[PointValue] = []
        for o in objects:
            props = by.get(o, {})
            pv = props.get("present-value")
            if isinstance(pv, ErrorRejectAbortNack):
                pv = None
            units = props.get("units")  # an error value where the object has none
            out.append(PointValue(o, _number(pv), _status(props.get("status-flags")),
                                  str(units) if type(units).__name__ == "EngineeringUnits"
                                  else "", type(pv).__name__))
        return out

    def subscribe(self, address: str, obj: str, lifetime_s: int,
                  on_value: Callable[[str, float | int | None, dict[str, int]], None],
                  timeout_s: float) -> Subscription:
        return Subscription(self._application(), address, obj, lifetime_s, on_value,
                            timeout_s)

    def close(self) -> None:
        app, self._app = self._app, None
        if app is not None:
            app.close()


class Subscription:
    """A COV subscription (SubscribeCOV, unconfirmed notifications) in a task of its own;
    `alive` turns False when it ends (device gone, lifetime over) and the owner starts a new
    one."""

    def __init__(self, app: Any, address: str, obj: str, lifetime_s: int,
                 on_value: Callable[[str, float | int | None, dict[str, int]], None],
                 timeout_s: float) -> None:
        self.obj = obj
        self.alive = True
        self.confirmed = asyncio.Event()  # the first notification (the device's answer) came
        self.ended_by = ""
        self.task = asyncio.create_task(
            self._run(app, address, lifetime_s, on_value, timeout_s), name=f"cov {obj}")

    async def _run(self, app: Any, address: str, lifetime_s: int,
                   on_value: Callable[[str, float | int | None, dict[str, int]], None],
                   timeout_s: float) -> None:
        pv: float | int | None = None
        status: dict[str, int] = {}
        try:
            async with app.change_of_value(Address(address), ObjectIdentifier(self.obj),
                                           None, False, lifetime_s) as scm:
                while True:
                    # a device sends the values at once, then on change; silence longer than
                    # the lifetime means the subscription is gone
                    prop, value = await asyncio.wait_for(scm.get_value(), lifetime_s)
                    if str(prop) == "present-value":
                        pv = _number(value)
                    elif str(prop) == "status-flags":
                        status = _status(value)
                    self.confirmed.set()
                    on_value(self.obj, pv, status)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self.ended_by = type(exc).__name__
        finally:
            self.alive = False

    def cancel(self) -> None:
        self.alive = False
        self.task.cancel()

    async def wait_closed(self) -> None:
        with contextlib.suppress(BaseException):
            await self.task
