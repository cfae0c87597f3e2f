"""Traps and syslog: CPU-seconds per 10,000 messages received and parsed, campusmon's listeners
vs net-snmp `snmptrapd` (traps) and `rsyslogd` (syslog), same messages, same run.

Method (shared/reference/baselines.md, as bench/mqtt_ingest): the receiving side pinned to core
0 — our listener in this process (getrusage of the process: socket reads, decoding, naming from
the MIB table, classification, events built), snmptrapd / rsyslogd as children (utime+stime
from /proc/<pid>/stat, start-up excluded); the sender pinned to core 1, pacing 10,000 messages
at RATE per second. Messages: SNMPv2c linkDown/linkUp traps from an inventory device with four
varbinds (ifIndex, ifAdminStatus, ifOperStatus, ifDescr); syslog lines cycling through the
cited vendor samples (Huawei, H3C, Cisco, Ruijie, ZTE, sshd). Rounds alternate; medians are
reported. Peers do their own job: snmptrapd decodes and writes each trap to a log file (no MIBs
loaded: Debian ships none, so it prints numeric OIDs — less work than naming them); rsyslogd
(imudp) parses each line and writes it to a file. Bounded: ROUNDS × 2 × MESSAGES per protocol,
every wait has a deadline.

    .venv/bin/python bench/traps_syslog/run.py
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from pydantic import SecretStr  # noqa: E402

from agent.core.model import Item  # noqa: E402
from agent.core.plugin import BuildContext, ListenerContext, Target  # noqa: E402
from collectors.snmp_trap.config import SnmpTrapConfig  # noqa: E402
from collectors.snmp_trap.plugin import build as build_traps  # noqa: E402
from collectors.syslog.plugin import SyslogConfig  # noqa: E402
from collectors.syslog.plugin import build as build_syslog  # noqa: E402
from config.credentials import SnmpV2cCredential  # noqa: E402
from inventory.models import Campus, Device, DeviceKind, Inventory  # noqa: E402

MESSAGES = 10_000
ROUNDS = 3
RATE = 5_000  # per second, paced by the sender (the storm rate of issue 16)
OUR_CORE, FAR_CORE = 0, 1
COMMUNITY = "bench-s3cret"
TICKS = os.sysconf("SC_CLK_TCK")
SAMPLES = REPO / "tests" / "collectors" / "syslog" / "data" / "vendor_lines.txt"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


# ------------------------------------------------------------------ messages
def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(b),)) + b


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + _len(len(body)) + body


def _int(n: int, tag: int = 0x02) -> bytes:
    return _tlv(tag, n.to_bytes((n.bit_length() + 8) // 8, "big", signed=True))


def _oid(s: str) -> bytes:
    arcs = [int(x) for x in s.split(".")]
    out = bytearray((arcs[0] * 40 + arcs[1],))
    for a in arcs[2:]:
        chunk = [a & 0x7F]
        a >>= 7
        while a:
            chunk.append(0x80 | (a & 0x7F))
            a >>= 7
        out += bytes(reversed(chunk))
    return _tlv(0x06, bytes(out))


def trap(i: int) -> bytes:
    idx = i % 48 + 1
    down = i % 2 == 0
    vbs = [
        _tlv(0x30, _oid("1.3.6.1.2.1.1.3.0") + _int(100000 + i, 0x43)),
        _tlv(0x30, _oid("1.3.6.1.6.3.1.1.4.1.0")
             + _oid("1.3.6.1.6.3.1.1.5." + ("3" if down else "4"))),
        _tlv(0x30, _oid(f"1.3.6.1.2.1.2.2.1.1.{idx}") + _int(idx)),
        _tlv(0x30, _oid(f"1.3.6.1.2.1.2.2.1.7.{idx}") + _int(1)),
        _tlv(0x30, _oid(f"1.3.6.1.2.1.2.2.1.8.{idx}") + _int(2 if down else 1)),
        _tlv(0x30, _oid(f"1.3.6.1.2.1.2.2.1.2.{idx}")
             + _tlv(0x04, f"GigabitEthernet0/0/{idx}".encode())),
    ]
    pdu = _tlv(0xA7, _int(i + 1) + _int(0) + _int(0) + _tlv(0x30, b"".join(vbs)))
    return _tlv(0x30, _int(1) + _tlv(0x04, COMMUNITY.encode()) + pdu)


def syslog_lines() -> list[bytes]:
    samples = [ln[5:] for ln in SAMPLES.read_text(encoding="utf-8").splitlines()
               if ln.startswith("LINE ")]
    return [samples[i % len(samples)].encode() for i in range(MESSAGES)]


def write_messages(path: Path, msgs: list[bytes]) -> None:
    path.write_bytes(b"".join(len(m).to_bytes(4, "big") + m for m in msgs))


def send(port: int, path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["taskset", "-c", str(FAR_CORE), sys.executable,
                             str(Path(__file__).with_name("sender.py")), "127.0.0.1",
                             str(port), str(path), str(RATE)])


# ------------------------------------------------------------------ peers
def run_peer(argv: list[str], port: int, msgs: Path, done: Callable[[], int],
             ready: Callable[[], bool]) -> tuple[float, int]:
    proc = subprocess.Popen(["taskset", "-c", str(OUR_CORE), *argv],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not ready():
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{argv[0]} did not start")
            time.sleep(0.05)
        time.sleep(0.3)
        c0 = cpu_of(proc.pid)
        sender = send(port, msgs)
        deadline = time.monotonic() + 60
        got = 0
        while time.monotonic() < deadline:
            got = done()
            if got >= MESSAGES and sender.poll() is not None:
                break
            time.sleep(0.02)
        c1 = cpu_of(proc.pid)
        sender.wait(10)
        return c1 - c0, got
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        if proc.poll() is None:
            proc.kill()


def count_in(path: Path, marker: bytes) -> int:
    try:
        return path.read_bytes().count(marker)
    except FileNotFoundError:
        return 0


def snmptrapd(work: Path, msgs: Path) -> tuple[float, int]:
    port = free_port()
    out = work / f"snmptrapd-{port}.log"
    conf = work / "snmptrapd.conf"
    # a large receive buffer, as ours and rsyslogd's: a burst must not be lost in the kernel
    conf.write_text(f"authCommunity log {COMMUNITY}\ndoNotRetainNotificationLogs yes\n"
                    "[snmp] serverRecvBuf 8388608\n")
    binary = shutil.which("snmptrapd") or "/usr/sbin/snmptrapd"
    return run_peer([binary, "-f", "-n", "-m", "", "-C", "-c", str(conf), "-Lf", str(out),
                     "-p", str(work / "snmptrapd.pid"), f"udp:127.0.0.1:{port}"],
                    port, msgs, lambda: count_in(out, b"6.3.1.1.4.1.0 = OID"),
                    lambda: out.exists() and b"NET-SNMP version" in out.read_bytes())


def rsyslogd(work: Path, msgs: Path) -> tuple[float, int]:
    port = free_port()
    out = work / f"rsyslog-{port}.log"
    (work / "spool").mkdir(exist_ok=True)
    conf = work / f"rsyslog-{port}.conf"
    conf.write_text(f"""
global(workDirectory="{work / 'spool'}")
module(load="imudp")
template(name="raw" type="string" string="%rawmsg%\\n")
input(type="imudp" address="127.0.0.1" port="{port}" rcvbufSize="8m")
*.* action(type="omfile" file="{out}" template="raw")
""")
    binary = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def ready() -> bool:  # a probe line written means rsyslogd is taking input
        probe.sendto(b"<13>probe", ("127.0.0.1", port))
        return count_in(out, b"probe") > 0

    try:
        return run_peer([binary, "-n", "-f", str(conf), "-i", str(work / f"rs-{port}.pid")],
                        port, msgs, lambda: count_in(out, b"\n") - count_in(out, b"probe"),
                        ready)
    finally:
        probe.close()


# ------------------------------------------------------------------ campusmon
def inventory() -> Inventory:
    return Inventory.build(Campus("bench", "bench"), (), (), [
        Device(id="core-sw", kind=DeviceKind.CORE_SWITCH, campus="bench", building="dc",
               room=None, ipv4="127.0.0.1", vendor="Huawei")])


async def campusmon(kind: str, msgs: Path, work: Path) -> tuple[float, int]:
    inv = inventory()
    creds = {"bench": SnmpV2cCredential(name="bench", type="snmp_v2c",
                                        community=SecretStr(COMMUNITY))}
    ctx = BuildContext(instance=f"{kind}/bench", inventory=inv, credentials=creds,
                       data_dir=work, config_dir=work)
    emitted = 0

    def emit(items: list[Item] | tuple[Item, ...], target: Target | None = None) -> None:
        nonlocal emitted
        emitted += len(items)

    targets = [Target(id=d.id, device=d, ipv4=d.ipv4) for d in inv.devices]
    lctx = ListenerContext(emit, targets, lambda _e: None)  # type: ignore[arg-type]
    done: Callable[[], int]
    if kind == "snmp_trap":
        tl = build_traps(SnmpTrapConfig(listen=["127.0.0.1:0"], communities=["bench"],
                                        report_interval_secs=3600,
                                        queue_max_messages=MESSAGES), ctx)
        task = asyncio.create_task(tl.run(lctx))
        await asyncio.wait_for(tl.ready.wait(), 10)
        port = tl.bound[0][1]

        def done_traps() -> int:
            return tl.totals.accepted

        done = done_traps
    else:
        sl = build_syslog(SyslogConfig(listen_udp=["127.0.0.1:0"], report_interval_secs=3600,
                                       queue_max_messages=MESSAGES), ctx)
        task = asyncio.create_task(sl.run(lctx))
        await asyncio.wait_for(sl.ready.wait(), 10)
        port = sl.bound["udp"][0][1]

        def done_syslog() -> int:
            return sl.totals.parsed + sl.totals.unparsed

        done = done_syslog
    await asyncio.sleep(0.3)
    c0 = cpu_self()
    sender = send(port, msgs)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if done() >= MESSAGES and sender.poll() is not None:
            break
        await asyncio.sleep(0.02)
    c1 = cpu_self()
    got = done()
    await asyncio.to_thread(sender.wait, 10)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    if emitted < got:
        raise RuntimeError(f"{kind}: {got} parsed but only {emitted} items emitted")
    return c1 - c0, got


def main() -> int:
    for b in ("snmptrapd", "rsyslogd", "taskset"):
        if not (shutil.which(b) or Path(f"/usr/sbin/{b}").exists()):
            print(f"traps_syslog: {b} is needed (make system-deps)", file=sys.stderr)
            return 1
    os.sched_setaffinity(0, {OUR_CORE})
    work = Path(tempfile.mkdtemp(prefix="campusmon-bench-traps-"))
    try:
        traps, lines = work / "traps.bin", work / "syslog.bin"
        write_messages(traps, [trap(i) for i in range(MESSAGES)])
        write_messages(lines, syslog_lines())
        res: dict[str, list[float]] = {"trap_ours": [], "trap_peer": [], "sys_ours": [],
                                       "sys_peer": []}
        lost = 0
        runs: list[tuple[str, Callable[[], tuple[float, int]]]] = [
            ("trap_peer", lambda: snmptrapd(work, traps)),
            ("trap_ours", lambda: asyncio.run(campusmon("snmp_trap", traps, work))),
            ("sys_peer", lambda: rsyslogd(work, lines)),
            ("sys_ours", lambda: asyncio.run(campusmon("syslog", lines, work))),
        ]
        for r in range(ROUNDS):
            for key, fn in runs:
                cpu, got = fn()
                lost += MESSAGES - min(got, MESSAGES)
                res[key].append(cpu)
                print(f"round {r + 1} {key}: {cpu:.3f} CPU-s for {got:,} of {MESSAGES:,}",
                      file=sys.stderr, flush=True)
        scale = 10_000 / MESSAGES
        med = {k: statistics.median(v) * scale for k, v in res.items()}
        print(f"{MESSAGES:,} messages per side per round at {RATE:,}/s, {ROUNDS} rounds "
              f"(medians); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
              f"messages lost (any side) {lost}")
        print(f"traps:  campusmon {med['trap_ours']:.3f}  snmptrapd {med['trap_peer']:.3f} "
              f"CPU-s per 10k (ratio {med['trap_ours'] / med['trap_peer']:.2f})")
        print(f"syslog: campusmon {med['sys_ours']:.3f}  rsyslogd  {med['sys_peer']:.3f} "
              f"CPU-s per 10k (ratio {med['sys_ours'] / med['sys_peer']:.2f})")
        print(json.dumps({"bench": "traps_syslog", "unit": "cpu_seconds_per_10k_messages",
                          "campusmon": round(med["trap_ours"], 4), "peer": "snmptrapd",
                          "peer_value": round(med["trap_peer"], 4),
                          "ratio": round(med["trap_ours"] / med["trap_peer"], 2),
                          "syslog": {"campusmon": round(med["sys_ours"], 4),
                                     "peer": "rsyslogd",
                                     "peer_value": round(med["sys_peer"], 4),
                                     "ratio": round(med["sys_ours"] / med["sys_peer"], 2)}}))
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
