"""The only file importing pymodbus: one Modbus TCP connection per device, typed errors.

A connection is kept between polls (devices and gateways limit their TCP clients; connecting
every tick wastes one of few slots) and dropped after any error, so the next poll starts clean.
pymodbus' own retries and reconnects are off: the scheduler owns timing.
"""

from __future__ import annotations

import enum
import logging

from agent.core.errors import CollectError
from agent.core.model import ErrorType
from collectors.modbus.regmap import Function

# pymodbus logs every failed request at error level with a traceback: the agent counts and logs
# failures itself, once per change of state.
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


class ModbusExceptionCode(enum.IntEnum):
    """Modbus application protocol v1.1b3, 7: what a device answers instead of data."""

    ILLEGAL_FUNCTION = 1
    ILLEGAL_DATA_ADDRESS = 2
    ILLEGAL_DATA_VALUE = 3
    DEVICE_FAILURE = 4
    ACKNOWLEDGE = 5
    DEVICE_BUSY = 6
    GATEWAY_PATH_UNAVAILABLE = 10
    GATEWAY_TARGET_NO_RESPONSE = 11


class DeviceException(CollectError):
    """The device answered with a Modbus exception (it is up, the request was refused)."""

    def __init__(self, code: int, where: str) -> None:
        try:
            name = ModbusExceptionCode(code).name.lower()
        except ValueError:
            name = f"code_{code}"
        super().__init__(ErrorType.PROTOCOL, f"{where}: Modbus exception {code} ({name})")
        self.code = code
        self.name = name


class Malformed(CollectError):
    """A frame that is not a valid answer to the request (wrong length, function, unit)."""

    def __init__(self, detail: str) -> None:
        super().__init__(ErrorType.PROTOCOL, f"malformed answer: {detail}")


class ModbusTcp:
    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self.where = f"{host}:{port}"
        # bytes received since the last request went out: pymodbus drops a frame it cannot
        # decode (and the connection with it) and lets the request time out; bytes that came
        # back without an answer tell "malformed" from "silent"
        self._rx = 0
        # pymodbus (~45 modules, 2.3 MiB) loads here, when a modbus poller opens its first
        # connection, not with the SPEC that every start imports
        from pymodbus.client import AsyncModbusTcpClient
        from pymodbus.exceptions import ConnectionException, ModbusException

        self._connection_exc: type[Exception] = ConnectionException
        self._modbus_exc: type[Exception] = ModbusException
        self._client = AsyncModbusTcpClient(host, port=port, timeout=timeout_s, retries=0,
                                            reconnect_delay=0, trace_packet=self._trace)

    def _trace(self, sending: bool, data: bytes) -> bytes:
        if sending:
            self._rx = 0
        else:
            self._rx += len(data)
        return data

    def _failed(self, exc: Exception) -> CollectError:
        """A request that produced no answer: malformed if bytes came back, else typed by
        what happened to the connection."""
        self.close()
        if self._rx:
            return Malformed(f"{self.where}: {self._rx} bytes that are no valid answer")
        if isinstance(exc, self._connection_exc | OSError):
            return CollectError(ErrorType.UNREACHABLE, f"{self.where}: {exc}")
        if isinstance(exc, TimeoutError) or "no response" in str(exc).lower():
            return CollectError(ErrorType.TIMEOUT, f"{self.where}: no answer")
        return Malformed(f"{self.where}: {exc}")

    async def connect(self) -> None:
        if self._client.connected:
            return
        try:
            ok = await self._client.connect()
        except (OSError, self._modbus_exc) as exc:
            raise CollectError(ErrorType.UNREACHABLE, f"{self.where}: {exc}") from None
        if not ok:
            raise CollectError(ErrorType.REFUSED, f"{self.where}: connection failed")

    async def read(self, unit_id: int, function: Function, address: int,
                   count: int) -> list[int] | list[bool]:
        """`count` registers (or bits) from `address`; raises DeviceException, Malformed or a
        CollectError typed timeout / unreachable."""
        await self.connect()
        c = self._client
        try:
            if function is Function.INPUT:
                r = await c.read_input_registers(address, count=count, device_id=unit_id)
            elif function is Function.HOLDING:
                r = await c.read_holding_registers(address, count=count, device_id=unit_id)
            elif function is Function.COIL:
                r = await c.read_coils(address, count=count, device_id=unit_id)
            else:
                r = await c.read_discrete_inputs(address, count=count, device_id=unit_id)
        except (self._modbus_exc, TimeoutError, OSError) as exc:
            raise self._failed(exc) from None
        if r.isError():
            code = int(getattr(r, "exception_code", 0) or 0)
            if code == 0:
                self.close()
                raise Malformed(f"{self.where}: error response without exception code")
            raise DeviceException(code, f"{self.where} unit {unit_id} {function.value} "
                                        f"{address}+{count}")
        if function.is_bits:
            bits = list(r.bits)
            if len(bits) < count:
                self.close()
                raise Malformed(f"{self.where}: {len(bits)} bits for {count} asked")
            return [bool(b) for b in bits[:count]]
        regs = list(r.registers)
        if len(regs) != count:
            self.close()
            raise Malformed(f"{self.where}: {len(regs)} registers for {count} asked")
        return [int(v) for v in regs]

    def close(self) -> None:
        self._client.close()
