"""The enrolment test lab: the simulated campus's devices, each its own snmpsim on its own
loopback address (127.<net>.0.x, one UDP port for all), answering only its own credential.

- egress-router: SNMPv3 only (`--v3-only`, user labv3, context = its recording);
- the others: SNMPv2c, community = device id, one recording per process;
- LLDP management addresses (lldpRemManAddrTable) added to every neighbour row, so the crawl
  can walk from one device to the next;
- the rest of the swept /28 is silent (nothing listens there).
Devices can be stopped, started and re-recorded (a new serial) between scans.
"""

from __future__ import annotations

import ipaddress
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from collectors.snmp.session import oid_from_str
from collectors.snmp.sim.plan import CampusPlan, Device, FdbEntry, make_plan
from collectors.snmp.sim.snmprec import render
from tests.collectors.snmp.conftest import wait_snmp
from tests.collectors.snmp.simhelpers import world_readable_dir
from tests.servers import ServerProcess, free_port, snmpsim_binary, snmpsim_privilege_args

V3_USER, V3_AUTH, V3_PRIV = "labv3", "lab-auth-secret-1", "lab-priv-secret-1"
V3_DEVICE = "egress-router"
LLDP_MAN = "1.0.8802.1.1.2.1.4.2.1.3"  # lldpRemManAddrIfSubtype


@dataclass
class LabDevice:
    device: Device
    data_dir: Path
    server: ServerProcess | None = None
    serial: str = ""

    @property
    def v3(self) -> bool:
        return self.device.id == V3_DEVICE


@dataclass
class Lab:
    plan: CampusPlan
    port: int
    root: Path
    devices: dict[str, LabDevice] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        first = ipaddress.IPv4Address(self.plan.devices[0].ipv4)
        return str(ipaddress.IPv4Network(f"{first}/28", strict=False))

    def credentials(self) -> list[dict[str, str]]:
        """A wrong v3 set first, the right v3 set, a wrong community, then one per v2c device
        (the communities are the lab's device ids: a test secret, never printed by campusmon)."""
        return [
            {"name": "lab-v3-wrong", "type": "snmp_v3", "user": "intruder",
             "auth_protocol": "SHA", "auth_key": "not-the-key-1", "priv_protocol": "AES",
             "priv_key": "not-the-key-2"},
            {"name": "lab-v3", "type": "snmp_v3", "user": V3_USER, "auth_protocol": "SHA",
             "auth_key": V3_AUTH, "priv_protocol": "AES", "priv_key": V3_PRIV,
             "context": V3_DEVICE},
            {"name": "lab-wrong", "type": "snmp_v2c", "community": "public-wrong-xyz"},
            *({"name": f"lab-{d.id}", "type": "snmp_v2c", "community": community(d.id)}
              for d in self.plan.devices if d.id != V3_DEVICE),
        ]

    def record(self, dev_id: str, serial: str | None = None) -> None:
        lab = self.devices[dev_id]
        if serial is not None:
            lab.device.serial = serial
        lab.serial = lab.device.serial
        text = _with_man_addrs(self.plan, lab.device)
        name = V3_DEVICE if lab.v3 else community(dev_id)
        for old in lab.data_dir.glob("*.snmprec"):
            old.unlink()
        path = lab.data_dir / f"{name}.snmprec"
        path.write_text(text, encoding="utf-8")
        path.chmod(0o644)

    def start(self, dev_id: str) -> None:
        lab = self.devices[dev_id]
        if lab.server is not None and lab.server.running:
            return
        host = lab.device.ipv4
        cache = Path(tempfile.mkdtemp(prefix="cache-", dir=self.root))
        cache.chmod(0o755)
        argv = [snmpsim_binary(), *snmpsim_privilege_args(cache), "--log-level=error"]
        if lab.v3:
            argv += ["--v3-only", "--v3-engine-id=auto", f"--v3-user={V3_USER}",
                     f"--v3-auth-key={V3_AUTH}", "--v3-auth-proto=SHA",
                     f"--v3-priv-key={V3_PRIV}", "--v3-priv-proto=AES"]
            v3 = ["-v3", "-u", V3_USER, "-l", "authPriv", "-a", "SHA", "-A", V3_AUTH, "-x",
                  "AES", "-X", V3_PRIV, "-n", V3_DEVICE]
        # after the v3 engine's options: snmpsim reads data dir and endpoint per engine
        argv += [f"--data-dir={lab.data_dir}", f"--agent-udpv4-endpoint={host}:{self.port}"]
        probe_community = community(dev_id)
        lab.server = ServerProcess(
            argv, lambda: wait_snmp(host, self.port, probe_community,
                                    v3_args=v3 if lab.v3 else None),
            self.root / f"{dev_id}.log")
        lab.server.start()

    def stop(self, dev_id: str) -> None:
        lab = self.devices[dev_id]
        if lab.server is not None:
            lab.server.stop()

    def close(self) -> None:
        for d in self.devices:
            self.stop(d)
        shutil.rmtree(self.root, ignore_errors=True)


def community(dev_id: str) -> str:
    return f"c-{dev_id}"


def _with_man_addrs(plan: CampusPlan, d: Device) -> str:
    """The device's recording plus lldpRemManAddrTable rows (the neighbour's IPv4)."""
    by_name = {x.id: x for x in plan.devices}
    lines = render(d).splitlines()
    for n in d.neighbors:
        other = by_name.get(n.sys_name)
        if other is None:
            continue
        octets = ".".join(str(b) for b in ipaddress.IPv4Address(other.ipv4).packed)
        lines.append(f"{LLDP_MAN}.0.{n.local_port}.1.1.4.{octets}|2|2")
    lines.sort(key=lambda line: oid_from_str(line.split("|", 1)[0]))
    return "\n".join(lines) + "\n"


def start_lab(seed: int = 6) -> Lab:
    """Four vendors (Huawei router and core, two ZTE and an H3C access switch, an APC UPS
whose parent only the core's FDB tells)."""
    port = free_port("127.0.0.1", kind=2)
    plan = make_plan(4, 0, campus="lab", seed=seed, port=port, ups=True)
    # the UPS has no LLDP: the core's FDB learns its MAC on a free port (parent by FDB)
    core, ups = plan.device("core-sw"), plan.device("ups-1")
    free = core.interfaces[len(core.interfaces) - 2]  # the last 10G port, before Vlanif1
    free.oper_up = True
    core.fdb.append(FdbEntry(ups.mac, 1, free.index))
    ups.parent_port = free.name
    root = world_readable_dir("campusmon-enrol-lab-")
    lab = Lab(plan, port, root)
    try:
        for d in plan.devices:
            data = root / d.id
            data.mkdir()
            data.chmod(0o755)
            lab.devices[d.id] = LabDevice(d, data)
            lab.record(d.id)
            lab.start(d.id)
    except BaseException:
        lab.close()
        raise
    return lab
