"""`syslog_forward`: every received syslog line to the central log system, RFC 5424 over TCP or
TLS, behind the output's own disk queue (nothing lost while the centre is down; order kept).

Each event of a forwarded kind (default `syslog`) becomes one RFC 5424 message: PRI from the
line's own facility and severity, TIMESTAMP when we received it, HOSTNAME the inventory device
(else the sender's address), APP-NAME `campusmon`, MSGID the event kind, structured data
`[campusmon@32473 campus=… device=… source=… building=…]` and as MSG the line exactly as the
device sent it (its `raw` label). Frames are octet-counted (RFC 6587 §3.4.1, RFC 5425 §4.3).

Delivery is acknowledged the only way plain syslog allows: one connection per batch, the batch
written, our side half-closed, and the batch counts as delivered when the centre has read to our
end of stream and closed its side (rsyslog does once it has taken every frame). A refused or
reset connection leaves the whole batch queued; the queue sends batches one at a time, oldest
first, so each device's lines arrive in the order it sent them. Over TLS there is no half-close;
the batch counts as delivered once TLS has flushed it and closed cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from pathlib import Path

from pydantic import Field, model_validator

from agent.core.errors import ConfigError, PermanentExportError
from agent.core.model import ErrorType, Event
from agent.core.plugin import Batch, BatchKind, BuildContext, Capability, PluginKind, PluginSpec
from agent.framework.outputs import CentreUnavailable
from config.base import StrictModel

SD_ID = "campusmon@32473"  # 32473: the example enterprise number of RFC 5612
_SD_KEYS = ("campus", "building", "room", "device", "source", "transport", "event_kind")


class SyslogForwardConfig(StrictModel):
    host: str
    port: int = Field(default=6514, ge=1, le=65535)
    tls: bool = True  # RFC 5425; false: plain TCP (RFC 6587), e.g. on the campus LAN
    ca_file: str | None = None  # relative to the config file; None: the system CAs
    cert_file: str | None = None  # client certificate, when the centre requires one
    key_file: str | None = None
    server_name: str | None = None  # TLS name to verify (default: host)
    kinds: list[str] = Field(default_factory=lambda: ["syslog"], min_length=1)
    timeout_secs: float = Field(default=15.0, gt=0)
    app_name: str = Field(default="campusmon", pattern=r"^[!-~]{1,48}$")

    @model_validator(mode="after")
    def _pairs(self) -> SyslogForwardConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("give both cert_file and key_file, or neither")
        if not self.tls and (self.ca_file or self.cert_file):
            raise ValueError("ca_file/cert_file need tls: true")
        return self


def _sd_escape(v: str) -> str:
    """PARAM-VALUE escapes (RFC 5424 §6.3.3): `"`, `\\` and `]`."""
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _header_token(v: str, default: str = "-") -> str:
    """HOSTNAME/APP-NAME: printable US-ASCII without spaces, bounded."""
    out = "".join(c if "!" <= c <= "~" else "_" for c in v)[:255]
    return out or default


def render(e: Event, app_name: str = "campusmon") -> bytes:
    """One octet-counted RFC 5424 frame for the event."""
    labels = e.labels
    try:
        pri = int(labels.get("facility", "1")) * 8 + int(labels.get("syslog_severity", "5"))
    except ValueError:
        pri = 13
    if not 0 <= pri <= 191:
        pri = 13
    secs, ns = divmod(e.ts_ns, 10**9)
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{ns // 1000:06d}Z"
    host = _header_token(e.device or labels.get("source", ""))
    sd_values = {**{k: labels[k] for k in _SD_KEYS if labels.get(k)}, "event_kind": e.kind}
    if e.device:
        sd_values["device"] = e.device
    sd = "[" + SD_ID + "".join(f' {k}="{_sd_escape(v)}"' for k, v in sd_values.items()) + "]"
    msg = labels.get("raw") or e.summary
    line = (f"<{pri}>1 {ts} {host} {_header_token(app_name)} - {_header_token(e.kind)} "
            f"{sd} {msg}").encode("utf-8", "replace")
    return str(len(line)).encode() + b" " + line


class SyslogForwardExporter:
    accepts = frozenset({BatchKind.EVENTS})
    wants_objects = True  # the output decodes Batch.events for us
    in_order = True  # oldest first, also after an outage: each device's lines in order

    def __init__(self, cfg: SyslogForwardConfig, sslctx: ssl.SSLContext | None) -> None:
        self.cfg = cfg
        self.ssl = sslctx
        self.kinds = frozenset(cfg.kinds)
        self.sent_lines = 0

    async def start(self) -> None:
        return None

    async def write(self, batch: Batch) -> None:
        frames = [render(e, self.cfg.app_name) for e in batch.events if e.kind in self.kinds]
        if not frames:
            return  # alerts and other events: not log lines, nothing to relay
        c = self.cfg
        try:
            await asyncio.wait_for(self._send(b"".join(frames)), c.timeout_secs)
        except TimeoutError:
            raise CentreUnavailable(f"syslog centre {c.host}:{c.port}: no end of stream within "
                                    f"{c.timeout_secs:g}s", ErrorType.TIMEOUT) from None
        except ConnectionRefusedError as exc:
            raise CentreUnavailable(f"syslog centre {c.host}:{c.port}: {exc}",
                                    ErrorType.REFUSED) from None
        except ssl.SSLCertVerificationError as exc:
            raise PermanentExportError(f"syslog centre {c.host}:{c.port}: TLS certificate "
                                       f"refused: {exc.verify_message}") from None
        except ssl.SSLError as exc:
            raise CentreUnavailable(f"syslog centre {c.host}:{c.port}: TLS: {exc}",
                                    ErrorType.TLS) from None
        except OSError as exc:
            raise CentreUnavailable(f"syslog centre {c.host}:{c.port}: {exc}",
                                    ErrorType.UNREACHABLE) from None
        self.sent_lines += len(frames)

    async def _send(self, payload: bytes) -> None:
        c = self.cfg
        reader, writer = await asyncio.open_connection(
            c.host, c.port, ssl=self.ssl,
            server_hostname=(c.server_name or c.host) if self.ssl else None)
        try:
            writer.write(payload)
            await writer.drain()
            if self.ssl is None:
                writer.write_eof()
                # the centre closes its side once it has read all we sent; a reset = not taken
                while await reader.read(4096):
                    pass
        finally:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()

    async def close(self) -> None:
        return None


def build(cfg: SyslogForwardConfig, ctx: BuildContext) -> SyslogForwardExporter:
    sslctx: ssl.SSLContext | None = None
    if cfg.tls:
        def path(p: str) -> str:
            full = Path(p) if Path(p).is_absolute() else ctx.config_dir / p
            if not full.is_file():
                raise ConfigError.one(ctx.instance, f"{full} does not exist")
            return str(full)

        sslctx = ssl.create_default_context(cafile=path(cfg.ca_file) if cfg.ca_file else None)
        if cfg.cert_file and cfg.key_file:
            sslctx.load_cert_chain(path(cfg.cert_file), path(cfg.key_file))
    return SyslogForwardExporter(cfg, sslctx)


SPEC = PluginSpec(
    name="syslog_forward", kind=PluginKind.PUSH_EXPORTER, config_model=SyslogForwardConfig,
    build=build,
    description="received syslog lines relayed to the central log system (RFC 5424 over "
                "TLS or TCP, device and campus as structured data), behind a disk queue",
    example={"type": "syslog_forward", "host": "logs.example.edu.cn", "port": 6514,
             "tls": True},
    capabilities=Capability.IN_ORDER | Capability.DECODED_BATCHES,
)
