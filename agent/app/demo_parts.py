"""The optional parts of `campusmon demo`, each adding inputs/outputs to the run.

Each part says what it skips and why (a missing Debian package, no root) instead of failing.
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from agent.app.demorun import DemoRun

Part = Callable[[DemoRun, argparse.Namespace], None]
Finisher = Callable[[DemoRun, argparse.Namespace, Path], None]
NETWORK_KINDS = ["core_switch", "aggregation_switch", "access_switch", "router", "firewall",
                 "wlan_controller", "ups"]
IOT_KINDS = ["camera", "nvr", "door_access", "attendance", "broadcast", "payment", "biometric",
             "sensor", "smart_classroom", "5g_cpe"]


def _free_port(host: str = "127.0.0.1", kind: int = socket.SOCK_STREAM) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, kind) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _binary(name: str) -> str | None:
    return shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if Path(p).exists()), None)


def _wait(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if check():
                return True
        time.sleep(0.1)
    return False


def _daemon(run: DemoRun, argv: list[str], log: Path, ready: Callable[[], bool]) -> bool:
    proc = subprocess.Popen(argv, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()

    run.cleanups.append(stop)
    return _wait(lambda: proc.poll() is None and ready(), 20)


def _tcp_ready(host: str, port: int) -> Callable[[], bool]:
    def check() -> bool:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    return check


# --------------------------------------------------------------------------- parts
def snmp_campus(run: DemoRun, args: argparse.Namespace) -> None:
    from collectors.snmp.sim import SimError, generate, serve
    from collectors.snmp.sim.serve import probe

    # a port of its own, so two demos (or a demo and a test) never share endpoints
    sim = generate(run.workdir / "snmp-campus", args.switches, args.aps, campus="demo",
                   port=_free_port(kind=socket.SOCK_DGRAM), ups=True, servers=True)
    try:
        server = serve(sim.out_dir)
    except SimError as exc:
        run.skip("the simulated SNMP campus", str(exc).splitlines()[0])
        return
    run.cleanups.append(server.stop)
    for e in server.endpoints:  # snmpsim indexes a recording on its first request
        probe(e.host, e.port, e.community, timeout_s=10.0)
    run.inventory = run.workdir / "inventory.yaml"
    run.inventory.write_text(sim.inventory.read_text(encoding="utf-8"), encoding="utf-8")
    run.credentials.extend(yaml.safe_load(sim.credentials.read_text())["credentials"])
    run.inputs.append({"type": "snmp", "name": "campus", "port": sim.port,
                       "interval_secs": args.interval_secs,
                       # servers too: HOST-RESOURCES gives their CPU, OS, database and
                       # middleware for the 国产化 audit
                       "targets": {"kinds": [*NETWORK_KINDS, "server"]}})
    print(f"  + simulated SNMP campus: {len(server.endpoints)} devices behind snmpsim "
          f"(port {sim.port}), inventory {run.inventory}")


def iot_fleet(run: DemoRun, args: argparse.Namespace) -> None:
    from collectors.mqtt.sim.broker import mqtt_input, start_local_broker
    from collectors.mqtt.sim.fleet import FleetOptions, start_fleet
    from collectors.mqtt.sim.inventory_gen import generate_inventory

    if run.inventory is None:
        run.skip("the IoT fleet over MQTT", "it joins the simulated campus, which is absent")
        return
    broker, why = start_local_broker(run.workdir / "mosquitto")
    if broker is None:
        run.skip("the IoT fleet over MQTT", why)
        return
    run.cleanups.append(broker.stop)
    # the fleet joins the simulated campus's rooms (one campus, one inventory)
    generate_inventory(run.inventory, per_class=3, heartbeat_secs=args.interval_secs,
                       base=run.inventory)
    fleet = start_fleet(broker.host, broker.port, run.inventory,
                        opts=FleetOptions(default_heartbeat_secs=args.interval_secs),
                        truth_path=run.workdir / "iot-truth.json")

    def stop_fleet() -> None:
        fleet.stop(5.0)

    run.cleanups.append(stop_fleet)
    run.inputs.append(mqtt_input(broker.host, broker.port, targets={"kinds": IOT_KINDS}))
    print(f"  + IoT fleet: {len(IOT_KINDS)} device classes on mosquitto "
          f"{broker.host}:{broker.port}")


def probes(run: DemoRun, args: argparse.Namespace) -> None:
    """Dual-stack probes of a small web site the demo serves on 127.0.0.1 and ::1."""
    site = run.workdir / "site"
    site.mkdir(exist_ok=True)
    (site / "index.html").write_text("<html><body>campusmon demo portal</body></html>")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, directory=str(site), **kw)

        def log_message(self, *a: object) -> None:
            pass

    port = _free_port()
    servers: list[http.server.ThreadingHTTPServer] = []
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        cls = type("Srv", (http.server.ThreadingHTTPServer,), {"address_family": family})
        try:
            srv = cls((host, port), Quiet)
        except OSError:
            continue
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        run.cleanups.append(srv.shutdown)
    run.inputs.append({"type": "dualstack", "name": "portal",
                       "interval_secs": args.interval_secs,
                       "targets": {"inventory": False, "static": [
                           {"id": "demo-portal", "ipv4": "127.0.0.1", "ipv6": "::1",
                            "port": port}]}})
    run.inputs.append({"type": "web_ipv6", "name": "portal",
                       "interval_secs": args.interval_secs,
                       "timeout_secs": max(1.0, args.interval_secs * 0.9), "tries": 2,
                       "targets": {"inventory": False, "static": [
                           {"id": "demo-portal", "hostname": "localhost", "port": port}]}})
    print(f"  + dual-stack probes and the website IPv6-support test of a demo portal on "
          f"127.0.0.1 and [::1]:{port} ({len(servers)} families served)")


def processors(run: DemoRun, args: argparse.Namespace) -> None:
    run.processors.append({"type": "audit", "emit_interval_secs": args.interval_secs,
                           "window_secs": 3600})
    run.processors.append({"type": "alerts", "metrics_interval_secs": args.interval_secs})
    run.outputs.append({"type": "alertlog"})
    print("  + audits and alert rules (alerts logged to data/alerts/alerts.jsonl)")


def central(run: DemoRun, args: argparse.Namespace) -> None:
    if not args.central:
        return
    vm = _binary("victoria-metrics")
    if vm is None:
        run.skip("the central store", "victoria-metrics is not installed "
                 "(apt-get install victoria-metrics, or make system-deps as root)")
        return
    port = _free_port()
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as r:
            return bool(r.status == 200)

    if not _daemon(run, [vm, f"-httpListenAddr=127.0.0.1:{port}",
                         f"-storageDataPath={run.workdir / 'vm'}", "-retentionPeriod=1",
                         # show points at once (default hides the last 30 s from queries)
                         "-search.latencyOffset=0s"],
                   run.workdir / "victoria-metrics.log", healthy):
        run.skip("the central store", "victoria-metrics did not start")
        return
    run.outputs.append({"type": "influxdb", "name": "central", "url": url})
    run.central_url = url
    print(f"  + central store: VictoriaMetrics at {url}")


# --------------------------------------------------------------------------- finishers
def report(run: DemoRun, args: argparse.Namespace, config: Path) -> None:
    out = run.workdir / "report"
    source = ["--from", run.central_url] if run.central_url else ["--config", str(config)]
    r = subprocess.run([sys.executable, "-m", "agent.app.cli", "report", *source, "--out",
                        str(out), "--window", "1h"], capture_output=True, text=True,
                       timeout=300)
    if r.returncode != 0:
        print(f"\nreport failed: {r.stderr.strip()}")
        return
    print(f"\nInspector report (HTML zh/en, CSV, JSON): {r.stdout.strip()}")


def central_hints(run: DemoRun, args: argparse.Namespace, config: Path) -> None:
    if not run.central_url:
        return
    print(f"\nVictoriaMetrics is still at {run.central_url} while this prints; next time query:"
          f"\n  curl '{run.central_url}/api/v1/query?query=agent_poll_up'"
          f"\n  curl '{run.central_url}/api/v1/export?match[]={{__name__=~\"snmp_interface_.*\"}}'"
          "\nGrafana: see docs/dashboards.md (datasource uid campusmon-vm).")


PARTS: tuple[Part, ...] = (snmp_campus, iot_fleet, probes, processors, central)
FINISHERS: tuple[Finisher, ...] = (report, central_hints)
