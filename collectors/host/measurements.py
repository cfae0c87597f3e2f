"""What the host poller writes (the catalogue, agent/core/catalogue.py)."""

from __future__ import annotations

from agent.core.catalogue import Measurement, counter, gauge, info, tag

MEASUREMENTS: tuple[Measurement, ...] = (
    Measurement(
        "host_identity", "CPU and OS of the agent's machine, for the 国产化 audit",
        tags=(tag("cpu_vendor", "CPU vendor"), tag("cpu_model", "CPU model"),
              tag("cpu_domestic", "yes / no / unknown"),
              tag("cpu_rule", "the rule that decided cpu_domestic"),
              tag("os_vendor", "OS vendor"), tag("os_name", "OS name"),
              tag("os_domestic", "yes / no / unknown"),
              tag("os_rule", "the rule that decided os_domestic"),
              tag("kernel", "kernel release"), tag("arch", "machine architecture")),
        fields=(info(),)),
    Measurement(
        "host_cpu", "CPU of the agent's machine",
        fields=(gauge("usage_percent", "percent", "CPU use since the previous poll"),
                gauge("count", "", "logical CPUs"),
                gauge("load1", "", "1-minute load average"),
                gauge("load5", "", "5-minute load average"),
                gauge("load15", "", "15-minute load average"))),
    Measurement(
        "host_memory", "memory of the agent's machine",
        fields=(gauge("total_bytes", "bytes", "physical memory"),
                gauge("available_bytes", "bytes", "available without swapping"),
                gauge("used_bytes", "bytes", "in use"),
                gauge("used_percent", "percent", "in use"))),
    Measurement(
        "host_disk", "mounted file systems",
        tags=(tag("mountpoint", "mount point"), tag("fstype", "file system type")),
        fields=(gauge("total_bytes", "bytes", "size"), gauge("used_bytes", "bytes", "used"),
                gauge("free_bytes", "bytes", "free"),
                gauge("used_percent", "percent", "used"))),
    Measurement(
        "host_net", "network interface counters",
        tags=(tag("interface", "interface name"),),
        fields=(counter("bytes_sent", "bytes", "bytes sent"),
                counter("bytes_recv", "bytes", "bytes received"),
                counter("packets_sent", "packets", "packets sent"),
                counter("packets_recv", "packets", "packets received"),
                counter("errin", "packets", "receive errors"),
                counter("errout", "packets", "send errors"),
                counter("dropin", "packets", "inbound packets dropped"),
                counter("dropout", "packets", "outbound packets dropped"))),
    Measurement(
        "host_system", "uptime",
        fields=(gauge("uptime_seconds", "seconds", "seconds since boot"),
                gauge("boot_time_seconds", "seconds", "boot time, Unix seconds"))),
)
