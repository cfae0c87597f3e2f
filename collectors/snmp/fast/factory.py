"""`open_fast_session`: what `collectors.snmp.transport.open_session` calls for v2c."""

from __future__ import annotations

from collectors.snmp.fast.transport import FastOptions, FastSession
from collectors.snmp.limits import RequestLimiter
from collectors.snmp.options import TransportOptions
from collectors.snmp.session import SnmpSession
from collectors.snmp.walker import Repetitions
from config.credentials import SnmpV2cCredential


async def open_fast_session(host: str, port: int, credential: SnmpV2cCredential,
                            options: TransportOptions, limiter: RequestLimiter,
                            reps: Repetitions) -> SnmpSession:
    opts = FastOptions(port=port, timeout_s=options.timeout_s, retries=options.retries,
                       max_repetitions=options.max_repetitions,
                       min_repetitions=options.min_repetitions,
                       max_in_flight=options.max_inflight_per_device)
    return FastSession(host, credential.community.get_secret_value(), opts,
                       limiter=limiter, reps=reps)
