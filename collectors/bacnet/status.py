"""BACnet status-flags bit names, in bit order: the spec's measurements name them, so they live
apart from client.py (which loads bacpypes3, ~1 s of imports, only when a bacnet input is
built)."""

from __future__ import annotations

STATUS_BITS = ("in_alarm", "fault", "overridden", "out_of_service")
