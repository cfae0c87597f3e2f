"""Alert rules driven by the real dual-stack probes (engineer C's `dualstack` poller) in network
namespaces, delivered to every sink: a real Alertmanager (read back through its API), local
stand-ins for DingTalk (signature verified) and WeCom, mosquitto (the mqtt exporter) and the
local alert log.

    agent ns C ── veth cu/bu ── building ns B: acc-1 10.98.0.2 and 20 devices behind it
               └─ veth cm/mm ── management ns M: acc-2 10.97.0.3 (telnet, HTTP, HTTPS with a
                                certificate expiring in 5 days; IPv6 answers blackholed)

Taking `cu` down is the building's uplink failing. The probes run inside C (a forked child that
joined the namespace); the processor's clock is a fake one moved 30 s per tick, so the rules'
for-durations pass without waiting.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.core.model import Item
from agent.core.plugin import Target
from agent.processors.alerts.plugin import AlertsProcessor
from inventory.models import Campus, Device, DeviceKind, Inventory
from probes.dualstack.config import DualStackConfig
from probes.dualstack.plugin import DualStackPoller
from tests.agent.processors.alerts.helpers import FakeClock, processor
from tests.agent.processors.alerts.rig import Rig
from tests.agent.processors.alerts.sinks import (
    alert_messages,
    all_sinks,
    logged,
    mqtt_subscriber,
    wait_until,
)
from tests.exporters.alertmanager.amserver import Alertmanager
from tests.exporters.webhook.receiver import RobotReceiver
from tests.probes.netns import Lab, run_in, sh
from tests.servers import Mosquitto, require_root

SYS_PY = "/usr/bin/python3"
LEAVES = [f"leaf-{i:02d}" for i in range(20)]

_SERVERS = r'''
import http.server, socket, ssl, sys, threading
host, cert, key = sys.argv[1], sys.argv[2], sys.argv[3]
telnet = socket.create_server((host, 23))
def accept():
    while True:
        c, _ = telnet.accept(); c.sendall(b"login: "); c.close()
threading.Thread(target=accept, daemon=True).start()
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
plain = http.server.ThreadingHTTPServer((host, 80), H)
threading.Thread(target=plain.serve_forever, daemon=True).start()
tls = http.server.ThreadingHTTPServer((host, 443), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(cert, key)
tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
tls.serve_forever()
'''


def _short_cert(work: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "acc-2.campus.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=5)).sign(key, hashes.SHA256()))
    cert_p, key_p = work / "cert.pem", work / "key.pem"
    cert_p.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_p.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
    return cert_p, key_p


def _device(id_: str, kind: DeviceKind, ipv4: str, *, ipv6: str | None = None,
            parent: str | None = None, services: frozenset[str] = frozenset(),
            building: str = "teach-a") -> Device:
    return Device(id=id_, kind=kind, campus="hn-demo", building=building, room=f"{building}-1",
                  ipv4=ipv4, ipv6=ipv6, parent=parent, services=services, vendor="H3C")


INV = Inventory.build(Campus("hn-demo", "demo"), (), (), [
    Device(id="core-sw", kind=DeviceKind.CORE_SWITCH, campus="hn-demo", building="dc",
           room="dc-1", vendor="Huawei"),  # no address: not probed, only a parent
    _device("acc-1", DeviceKind.ACCESS_SWITCH, "10.98.0.2", ipv6="fd00:98::2", parent="core-sw"),
    *[_device(leaf, DeviceKind.AP if i % 2 == 0 else DeviceKind.CAMERA, f"10.98.0.{10 + i}",
              parent="acc-1") for i, leaf in enumerate(LEAVES)],
    _device("acc-2", DeviceKind.ACCESS_SWITCH, "10.97.0.3", ipv6="fd00:97::3",
            parent="core-sw", services=frozenset({"telnet", "http", "https"}), building="mgmt"),
])
PROBES = DualStackConfig.model_validate({
    "icmp": {"count": 1, "timeout_secs": 0.5, "interval_secs": 0},
    "tcp": {"timeout_secs": 0.5}, "dns": {"enabled": False},
    "http": {"verify_tls": False, "timeout_secs": 1.0}})


@dataclass
class CampusLab:
    lab: Lab
    agent_ns: str

    def poll(self, targets: list[Target]) -> list[tuple[Target, list[Item]]]:
        results = run_in(self.agent_ns, _poll_all, targets, timeout=60)
        return list(zip(targets, results, strict=True))

    def uplink(self, up: bool) -> None:
        sh("ip", "-n", self.agent_ns, "link", "set", "cu", "up" if up else "down")


def _poll_all(targets: list[Target]) -> list[list[Item]]:
    async def go() -> list[list[Item]]:
        poller = DualStackPoller(PROBES)
        await poller.start()
        try:
            res = await asyncio.gather(*(poller.poll(t) for t in targets),
                                       return_exceptions=True)
        finally:
            await poller.close()
        return [list(r) if not isinstance(r, BaseException) else [] for r in res]
    return asyncio.run(go())


@pytest.fixture(scope="module")
def campus_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CampusLab]:
    require_root()
    work = tmp_path_factory.mktemp("campuslab")
    lab = Lab()
    try:
        c, b, m = lab.ns("c"), lab.ns("b"), lab.ns("m")
        lab.veth(c, "cu", b, "bu")
        lab.veth(c, "cm", m, "mm")
        lab.addr(c, "cu", "10.98.0.1/24", "fd00:98::1/64")
        lab.addr(c, "cm", "10.97.0.1/24", "fd00:97::1/64")
        lab.addr(b, "bu", "10.98.0.2/24", "fd00:98::2/64",
                 *(f"10.98.0.{10 + i}/24" for i in range(20)))
        lab.addr(m, "mm", "10.97.0.3/24", "fd00:97::3/64")
        for ns in (b, m):
            lab.sysctl(ns, "net.ipv4.icmp_ratelimit", "0")
            lab.sysctl(ns, "net.ipv6.icmp.ratelimit", "0")
        lab.exec(m, "ip", "-6", "route", "add", "blackhole", "fd00:97::1/128")
        cert, key = _short_cert(work)
        script = work / "servers.py"
        script.write_text(_SERVERS)
        lab.spawn(m, [SYS_PY, str(script), "10.97.0.3", str(cert), str(key)],
                  work / "servers.log")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if "10.97.0.3:443" in lab.exec(m, "ss", "-ltn"):
                break
            time.sleep(0.1)
        yield CampusLab(lab, c)
    finally:
        lab.close()


def _targets(*ids: str) -> list[Target]:
    out = []
    for i in ids:
        d = INV.device(i)
        assert d is not None
        out.append(Target(id=d.id, device=d, ipv4=d.ipv4, ipv6=d.ipv6))
    return out


async def _tick(lab: CampusLab, rig: Rig, clock: FakeClock, targets: list[Target],
                secs: float = 30) -> None:
    # leaves first: their failures reach the processor before their switch's
    for target, items in sorted(lab.poll(targets), key=lambda r: r[0].id != "acc-1",
                                reverse=True):
        rig.submit(items, target)
    await rig.flush()
    for name in rig.outputs:
        await rig.deliver(name)
    clock.advance(secs)


@pytest.mark.timeout(150)
async def test_uplink_failure_one_root_alert_everywhere_then_all_resolved(
        tmp_path: Path, campus_lab: CampusLab, alertmanager_e2e: Alertmanager,
        robots: RobotReceiver, mosquitto: Mosquitto) -> None:
    run = f"uplink-{time.time_ns()}"
    clock = FakeClock(now_ns=time.time_ns() - 3600 * 10**9)  # our timestamps are in AM's past
    proc: AlertsProcessor = processor(INV, clock, rule_names=["device_down_icmp"])
    rig = Rig(tmp_path, proc, all_sinks(tmp_path, alertmanager_e2e, robots, mosquitto, run))
    targets = _targets("acc-1", *LEAVES)
    with mqtt_subscriber(mosquitto, "campusmon/hn-demo/alerts/#") as mqtt:
        await _tick(campus_lab, rig, clock, targets)  # all well
        campus_lab.uplink(False)
        try:
            for _ in range(5):  # 2.5 minutes of (fake) time with the building cut off
                await _tick(campus_lab, rig, clock, targets)
        finally:
            campus_lab.uplink(True)
        ours = [a for a in alertmanager_e2e.alerts() if a["labels"].get("run") == run]
        assert [(a["labels"]["alertname"], a["labels"]["device"]) for a in ours] == [
            ("device_down_icmp", "acc-1")]
        assert ours[0]["annotations"]["held_back"] == "20"
        counts = proc.book.metrics(clock(), {})
        assert {m.tags["severity"]: m.fields["suppressed"] for m in counts
                if m.name == "alerts"}["critical"] == 20
        for _ in range(3):  # the uplink is back
            await _tick(campus_lab, rig, clock, targets)
        wait_until(lambda: len(alert_messages(mqtt)) >= 2)
    assert not [a for a in alertmanager_e2e.alerts() if a["labels"].get("run") == run]
    expected = [("device_down_icmp:acc-1", "raised"), ("device_down_icmp:acc-1", "resolved")]
    assert alert_messages(mqtt) == expected
    assert logged(tmp_path / "alerts.jsonl") == expected
    assert [r.verdict for r in robots.received] == ["ok"] * 4  # DingTalk ×2, WeCom ×2
    texts = [str(r.body) for r in robots.received]
    assert not any("leaf-" in t for t in texts)
    assert all("acc-1" in t for t in texts)
    assert proc.book.alerts() == [] and proc.book.resolved_with_root == 20
    rig.close()


@pytest.mark.timeout(120)
async def test_security_and_service_rules_from_real_probes(
        tmp_path: Path, campus_lab: CampusLab, alertmanager_e2e: Alertmanager,
        robots: RobotReceiver, mosquitto: Mosquitto) -> None:
    """acc-2 answers telnet and plain HTTP, its HTTPS certificate expires in 5 days, and its
    IPv6 is silently dropped while IPv4 works."""
    run = f"sec-{time.time_ns()}"
    clock = FakeClock(now_ns=time.time_ns() - 3600 * 10**9)
    rules = ["insecure_telnet", "insecure_http_management", "certificate_expiring",
             "ipv6_regression", "device_down_icmp"]
    proc = processor(INV, clock, {"overrides": {"ipv6_regression": {"for_secs": 0}}},
                     rule_names=rules)
    rig = Rig(tmp_path, proc, all_sinks(tmp_path, alertmanager_e2e, robots, mosquitto, run))
    with mqtt_subscriber(mosquitto, "campusmon/hn-demo/alerts/#") as mqtt:
        for _ in range(3):
            await _tick(campus_lab, rig, clock, _targets("acc-2"))
        wait_until(lambda: len(alert_messages(mqtt)) >= 4)
    ours = {a["labels"]["alertname"]: a for a in alertmanager_e2e.alerts()
            if a["labels"].get("run") == run}
    assert set(ours) == {"insecure_telnet", "insecure_http_management", "certificate_expiring",
                         "ipv6_regression"}
    assert ours["certificate_expiring"]["labels"]["url"] == "https://10.97.0.3/"
    assert "expires in 4.9 days" in ours["certificate_expiring"]["annotations"]["summary"] or \
        "expires in 5.0 days" in ours["certificate_expiring"]["annotations"]["summary"]
    assert "ipv6_failed" in ours["ipv6_regression"]["annotations"]["summary"]
    assert ours["insecure_telnet"]["labels"]["team"] == "security"
    assert sorted(k for k, s in alert_messages(mqtt)) == sorted(
        a["annotations"]["key"] for a in ours.values())
    assert [r.verdict for r in robots.received] == ["ok", "ok"]  # one message per robot
    assert len(logged(tmp_path / "alerts.jsonl")) == 4
    rig.close()


@pytest.mark.timeout(150)
async def test_flapping_uplink_for_ten_minutes_is_bounded(
        tmp_path: Path, campus_lab: CampusLab, alertmanager_e2e: Alertmanager,
        robots: RobotReceiver, mosquitto: Mosquitto) -> None:
    """The uplink goes down and up on every 30 s tick for 10 minutes (fake time; real probes):
    a handful of notifications, not 20, then one resolve once it has been calm."""
    run = f"flap-{time.time_ns()}"
    clock = FakeClock(now_ns=time.time_ns() - 3 * 3600 * 10**9)
    proc = processor(INV, clock, {"overrides": {"device_down_icmp": {"for_secs": 0}},
                                  "topology": {"settle_secs": 0}},
                     rule_names=["device_down_icmp"])
    rig = Rig(tmp_path, proc, all_sinks(tmp_path, alertmanager_e2e, robots, mosquitto, run))
    targets = _targets("acc-1")
    try:
        for tick in range(20):
            campus_lab.uplink(tick % 2 == 1)
            await _tick(campus_lab, rig, clock, targets)
    finally:
        campus_lab.uplink(True)
    during = logged(tmp_path / "alerts.jsonl")
    assert 1 <= len(during) <= 4, during
    assert len(robots.received) == len(during) * 2  # DingTalk and WeCom, one message each
    assert all(r.verdict == "ok" for r in robots.received)
    for _ in range(6):  # calm for longer than the flap window (600 s)
        await _tick(campus_lab, rig, clock, targets, secs=120)
    after = logged(tmp_path / "alerts.jsonl")[len(during):]
    assert after == [("device_down_icmp:acc-1", "resolved")]
    assert not [a for a in alertmanager_e2e.alerts() if a["labels"].get("run") == run]
    rig.close()
