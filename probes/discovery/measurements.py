"""What the lan_discovery listener writes (the catalogue, agent/core/catalogue.py)."""

from __future__ import annotations

from agent.core.catalogue import Measurement, gauge, tag
from agent.shared.platforms import TERMINAL_OS

MEASUREMENTS: tuple[Measurement, ...] = (
    Measurement(
        "lan_hosts", "one discovery pass on one interface",
        tags=(tag("interface", "the interface listened on"),),
        fields=(gauge("total", "", "hosts seen"),
                gauge("registered", "", "hosts in the inventory"),
                gauge("unregistered", "", "hosts not in the inventory"),
                gauge("conflicts", "", "addresses claimed by two MACs"),
                gauge("rogue_ra", "", "routers advertising that are not allowed"),
                gauge("rogue_dhcp", "", "DHCP servers that are not allowed"))),
    TERMINAL_OS,  # OS family per terminal from its DHCP fingerprint (国产化 of terminals)
)
