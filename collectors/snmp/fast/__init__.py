"""SNMPv2c fast path: own BER codec over one shared UDP socket per family per event loop."""

from collectors.snmp.fast.ber import BerError
from collectors.snmp.fast.factory import open_fast_session
from collectors.snmp.fast.transport import FastOptions, FastSession

__all__ = ["BerError", "FastOptions", "FastSession", "open_fast_session"]
