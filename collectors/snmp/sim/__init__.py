"""The simulated campus: N switches and M APs behind a Huawei AC, served by snmpsim.

`generate(out_dir, switches, aps)` writes `data/<device>.snmprec` (community = device id),
`inventory.yaml`, `credentials.yaml` and `truth.json`; `serve(out_dir)` runs snmpsim on one
loopback endpoint per device. The demo and the tests call these two.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from collectors.snmp.sim.plan import CampusPlan, make_plan
from collectors.snmp.sim.serve import SimError, SimServer, serve, serving
from collectors.snmp.sim.write import CREDENTIALS, DATA, INVENTORY, TRUTH, write_plan

__all__ = ["SimCampus", "SimError", "SimServer", "generate", "serve", "serving"]


@dataclass(frozen=True)
class SimCampus:
    out_dir: Path
    plan: CampusPlan

    @property
    def data_dir(self) -> Path:
        return self.out_dir / DATA

    @property
    def inventory(self) -> Path:
        return self.out_dir / INVENTORY

    @property
    def credentials(self) -> Path:
        return self.out_dir / CREDENTIALS

    @property
    def truth(self) -> Path:
        return self.out_dir / TRUTH

    @property
    def port(self) -> int:
        return self.plan.port


def generate(out_dir: Path | str, switches: int, aps: int, campus: str = "sim",
             seed: int = 1, port: int = 1161, ups: bool = False,
             servers: bool = False) -> SimCampus:
    """Plan (deterministic for the same arguments) and write the campus into `out_dir`;
    `ups` adds a UPS-MIB UPS in the machine room."""
    out = Path(out_dir)
    plan = make_plan(switches, aps, campus=campus, seed=seed, port=port, ups=ups,
                     servers=servers)
    write_plan(plan, out)
    return SimCampus(out, plan)
