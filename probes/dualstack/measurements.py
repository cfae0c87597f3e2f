"""What the dualstack poller writes (the catalogue, agent/core/catalogue.py): every `probe_*`
comes in pairs per target, family=ipv4 and family=ipv6."""

from __future__ import annotations

from agent.core.catalogue import Measurement, gauge, probe_measurement, state, tag

_FAMILY = (tag("family", "ipv4 / ipv6"), tag("address", "the address probed"))

MEASUREMENTS: tuple[Measurement, ...] = (
    probe_measurement(
        "icmp", "an ICMP echo burst", _FAMILY,
        (gauge("loss_ratio", "ratio", "echoes lost"),
         gauge("rtt_min_seconds", "seconds", "fastest echo (when one came back)"),
         gauge("rtt_avg_seconds", "seconds", "mean round trip"),
         gauge("rtt_max_seconds", "seconds", "slowest echo"),
         gauge("jitter_seconds", "seconds", "mean absolute difference of consecutive RTTs"))),
    probe_measurement(
        "tcp", "a TCP connect", (*_FAMILY, tag("port", "TCP port")),
        (gauge("connect_seconds", "seconds", "three-way handshake"),)),
    probe_measurement(
        "dns", "a query to a resolver (success: rcode NOERROR)",
        (tag("family", "ipv4 / ipv6 (of the resolver)"), tag("address", "the resolver"),
         tag("transport", "udp / tcp"), tag("qtype", "A / AAAA / NS"),
         tag("name", "the name asked")),
        (gauge("answers", "", "records in the answer (0 = NODATA)"),)),
    probe_measurement(
        "http", "an HTTP(S) GET, redirects followed (success: final status 2xx/3xx)",
        (*_FAMILY, tag("url", "the URL fetched")),
        (gauge("status_code", "", "final HTTP status"),
         gauge("redirects", "", "redirects followed"),
         gauge("tls_expiry_seconds", "seconds", "until the certificate expires (https)"),
         gauge("resolve_seconds", "seconds", "resolving redirect hosts"),
         gauge("connect_seconds", "seconds", "TCP connects, summed over redirects"),
         gauge("tls_seconds", "seconds", "TLS handshakes, summed"),
         gauge("first_byte_seconds", "seconds", "request to first byte, summed"),
         gauge("transfer_seconds", "seconds", "first to last byte, summed"))),
    Measurement(
        "probe_ipv6_regression", "one per target per cycle when both families are probed; "
        "never set when IPv4 fails too",
        tags=(tag("reason", "ipv6_failed / ipv6_slow / no_aaaa / aaaa_dead / none"),),
        fields=(state("regression", "1 IPv6 fails or lags where IPv4 works, else 0"),)),
)
