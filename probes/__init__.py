"""Dual-stack probes, the website IPv6-support test and LAN discovery.

Layout (blackbox_exporter's prober design: one file per prober, shared family logic):
- `common.py`     Family, Endpoint (one address of one family), OS error → ErrorType
- `icmp.py`       ICMP/ICMPv6 echo over one shared socket per family (datagram or raw)
- `tcp.py`, `http.py`  TCP connect; HTTP(S) on asyncio streams, timed per phase
- `clients/`      the only imports of third-party libraries: `dns.py` (dnspython),
                  `x509.py` (cryptography, certificate expiry)
- `resolve.py`    name → address per family through explicit resolvers
- `regression.py` the per-target IPv6 regression signal (pure)
- `dualstack/`    the `dualstack` poller: `plan.py` (what to probe on a target), `engine.py`
                  (the name → prober map `PROBERS`, both families in one cycle)
- `web_ipv6/`     the `web_ipv6` poller: `check.py` (the test), `html.py`, `config.py`, and
                  `result.py`, its versioned JSON result (docs/standards.md#b-4)
- `discovery/`    the `lan_discovery` listener (scapy in `client.py` only)
- `cli.py`        `campusmon probe`, `campusmon ipv6-check`, `campusmon discover`

Plugin modules import only their config and plans; the engines (dnspython, cryptography,
scapy) load when a probe first runs, so other `campusmon` commands start no slower.
"""
