"""One enrolment: scan, then propose against the inventory (the CLI and the plugin share it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from collectors.snmp.enrol.config import EnrolConfig
from collectors.snmp.enrol.proposal import Proposal, propose
from collectors.snmp.enrol.scan import Progress, ScanError, Scanner, ScanResult
from config.credentials import Credential
from inventory.models import Inventory


def seed_addresses(seeds: Sequence[str], inv: Inventory) -> list[str]:
    """Seeds are inventory ids (their management address) or addresses."""
    out = []
    for s in seeds:
        dev = inv.device(s)
        if dev is not None:
            if not (dev.ipv4 or dev.ipv6):
                raise ScanError(f"seed {s}: the inventory gives it no address")
            out.append(dev.ipv4 or dev.ipv6 or "")
            continue
        out.append(s)
    return out


async def enrol(cfg: EnrolConfig, credentials: Mapping[str, Credential], inv: Inventory,
                subnets: Sequence[str], seeds: Sequence[str] = (),
                progress: Progress | None = None) -> tuple[ScanResult, Proposal]:
    scanner = Scanner(cfg, credentials, progress)
    scan = await scanner.run(list(subnets), seed_addresses([*cfg.seeds, *seeds], inv))
    return scan, propose(scan, inv, cfg.location_patterns)
