"""Campus-scale points for the outage bench: 1,000 switches x 48 ports x 20 interface fields
plus device health, one tick every 60 s, in the line protocol the agent renders (sorted tags,
`i` integers, shortest-repr floats; the empty ifalias tag left out).

Values move like a real campus (not random noise, not constants): about 60 % of access ports
are up, each with its own lognormal traffic level that drifts tick to tick; counters only
grow; rates and utilisation are floats computed the way the SNMP collector computes them
(delta / monotonic elapsed), so they carry full float precision; error and discard counters
are mostly still. Seeded: the same points for campusmon's queue and for vmagent's.

`tick_metrics` gives Metric objects (what the pipeline hands the queue: the agent's flush path
queues them with `DiskQueue.put_metrics`); `tick` the same points as line protocol
(`render_many`, what vmagent is fed). `ports`/`health_sums` keep, per series, the sum of every
field, for the exactly-once check against VictoriaMetrics.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from operator import add

from agent.core.lineprotocol import render_many
from agent.core.model import Metric, MetricKind

TICK_S = 60
PORTS = 48
VENDORS = ("huawei", "h3c", "ruijie")
COUNTERS = ("in_octets", "out_octets", "in_ucast_pkts", "out_ucast_pkts",
            "in_multicast_pkts", "out_multicast_pkts", "in_broadcast_pkts",
            "out_broadcast_pkts", "in_errors", "out_errors", "in_discards", "out_discards",
            "in_unknown_protos")
IF_FIELDS = (*COUNTERS, "speed_mbps", "admin_status", "oper_status", "in_bps", "out_bps",
             "in_utilization_percent", "out_utilization_percent")
HEALTH = {"snmp_cpu": ("usage_percent",),
          "snmp_memory": ("used_bytes", "total_bytes", "used_percent"),
          "snmp_sensor": ("temperature_c",),
          "agent_poll": ("up", "duration_seconds")}


@dataclass(slots=True)
class Port:
    device: str
    ifindex: str
    tags: dict[str, str]
    up: bool
    speed_mbps: int
    level_bps: float
    counters: list[int]
    sums: list[float] = field(default_factory=lambda: [0] * len(IF_FIELDS))


class Campus:
    def __init__(self, switches: int = 1000, seed: int = 22, campus: str = "bench") -> None:
        self.rng = random.Random(seed)
        self.ports: list[Port] = []
        self.devices: list[tuple[str, tuple[dict[str, str], ...]]] = []  # (id, tags)
        self.health_sums: dict[tuple[str, str], list[float]] = {}
        self.ticks = 0
        r = self.rng
        for s in range(switches):
            dev = f"sw-{s:04d}"
            vendor = VENDORS[s % 3]
            place = {"building": f"b{s % 24:02d}", "campus": campus, "device": dev,
                     "kind": "switch", "roles": "access", "room": f"r{s % 24:02d}-{s % 9}",
                     "vendor": vendor}
            self.devices.append((dev, (
                {**place, "component": "board"}, {**place, "component": "board"},
                {**place, "sensor": "board"}, dict(place))))
            for p in range(PORTS):
                up = r.random() < 0.6
                speed = 10000 if p >= 46 else 1000
                level = min(r.lognormvariate(13, 2.0), speed * 1e6 * 0.9) if up else 0.0
                tags = {**place, "ifindex": str(p + 1), "ifname": f"GigabitEthernet0/0/{p + 1}"}
                if p >= 46:
                    tags["ifalias"] = "uplink"
                base = [r.randrange(10**9, 10**13), r.randrange(10**9, 10**13),
                        r.randrange(10**6, 10**10), r.randrange(10**6, 10**10),
                        r.randrange(10**4, 10**7), r.randrange(10**4, 10**7),
                        r.randrange(10**3, 10**6), r.randrange(10**3, 10**6),
                        r.randrange(0, 50), r.randrange(0, 5), r.randrange(0, 500),
                        r.randrange(0, 50), 0]
                self.ports.append(Port(dev, str(p + 1), tags, up, speed, level, base))
            for meas, fields in HEALTH.items():
                self.health_sums[(meas, dev)] = [0.0] * len(fields)

    def values_per_tick(self) -> int:
        return self.values_per_tick_of(len(self.devices))

    @staticmethod
    def values_per_tick_of(switches: int) -> int:
        return switches * (PORTS * len(IF_FIELDS) + sum(len(f) for f in HEALTH.values()))

    def tick(self, ts_ns: int) -> list[str]:
        """One 60 s poll of the whole campus, as line protocol."""
        return render_many(self.tick_metrics(ts_ns))

    def tick_metrics(self, ts_ns: int) -> list[Metric]:
        """One 60 s poll of the whole campus, as the Metric objects the pipeline queues."""
        r = self.rng
        uniform, randrange, rand = r.uniform, r.randrange, r.random
        out: list[Metric] = []
        append = out.append
        counter, gauge = MetricKind.COUNTER, MetricKind.GAUGE
        for port in self.ports:
            c = port.counters
            if port.up:
                port.level_bps = max(1e3, port.level_bps * uniform(0.8, 1.25))
                cap = port.speed_mbps * 1e6 * 0.95
                d_in = int(min(port.level_bps, cap) / 8 * TICK_S)
                d_out = int(min(port.level_bps * uniform(0.1, 0.6), cap) / 8 * TICK_S)
                c[0] += d_in
                c[1] += d_out
                c[2] += d_in // 700
                c[3] += d_out // 500
                c[4] += randrange(0, 40)
                c[5] += randrange(0, 20)
                c[6] += randrange(0, 30)
                c[7] += randrange(0, 10)
                if rand() < 0.01:
                    c[8] += randrange(1, 5)
                if rand() < 0.02:
                    c[10] += randrange(1, 20)
                # the collector divides by monotonic elapsed time, never exactly 60 s
                elapsed = TICK_S + uniform(-0.05, 0.05)
                in_bps, out_bps = d_in * 8 / elapsed, d_out * 8 / elapsed
                oper = 1
            else:
                in_bps = out_bps = 0.0
                oper = 2
            speed = port.speed_mbps
            in_u = in_bps / (speed * 1e6) * 100
            out_u = out_bps / (speed * 1e6) * 100
            vals = (*c, speed, 1, oper, in_bps, out_bps, in_u, out_u)
            port.sums = [*map(add, port.sums, vals)]  # one C loop: the replay runs 4,320 ticks
            append(Metric("snmp_interface", port.tags, dict(zip(IF_FIELDS, vals, strict=True)),
                          ts_ns, counter))
        hs = self.health_sums
        for dev, (t_cpu, t_mem, t_sensor, t_poll) in self.devices:
            cpu = float(randrange(3, 60))
            used = randrange(300, 700) * 2**20
            total = 1024 * 2**20
            used_p = used / total * 100
            temp = float(randrange(35, 55))
            dur = uniform(0.05, 0.9)
            for meas, vals2 in (("snmp_cpu", (cpu,)), ("snmp_memory", (used, total, used_p)),
                                ("snmp_sensor", (temp,)), ("agent_poll", (1, dur))):
                s = hs[(meas, dev)]
                for i, v in enumerate(vals2):
                    s[i] += v
            append(Metric("snmp_cpu", t_cpu, {"usage_percent": cpu}, ts_ns, gauge))
            append(Metric("snmp_memory", t_mem, {"used_bytes": used, "total_bytes": total,
                                                 "used_percent": used_p}, ts_ns, gauge))
            append(Metric("snmp_sensor", t_sensor, {"temperature_c": temp}, ts_ns, gauge))
            append(Metric("agent_poll", t_poll, {"up": 1, "duration_seconds": dur}, ts_ns,
                          gauge))
        self.ticks += 1
        return out
