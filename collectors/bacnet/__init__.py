"""BACnet/IP devices (bacpypes3): Who-Is, object lists, present-value / status-flags / units,
COV subscriptions."""

from collectors.bacnet.plugin import SPEC

__all__ = ["SPEC"]
