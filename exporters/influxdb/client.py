"""The only module that imports influxdb-client; turns its exceptions into export errors.

We hand its WriteService one pre-rendered, pre-compressed body and write synchronously: our
disk queue owns batching and retries (stacking its batching buffer on ours would double-buffer
and cost more CPU). We gzip ourselves because the library always compresses at level 9, which
costs several times the CPU of level 1 for a few percent of bytes on line protocol; and we call
WriteService rather than WriteApi.write, which drops a `content_encoding` argument on the floor
(VictoriaMetrics then answers 204 to a gzip body it cannot parse: silent loss, caught by
tests/exporters/test_influxdb_vm.py).
"""

from __future__ import annotations

import gzip
import json
import re
import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the library itself (and its urllib3) loads in LineWriter: ~1 s of
    # imports for every `campusmon` command and every agent start, also without an influxdb
    # output
    from influxdb_client.rest import ApiException

from agent.core.errors import PermanentExportError
from agent.core.model import ErrorType
from agent.framework.outputs import CentreUnavailable

# Statuses that say the request is fine but the centre is not ready for it (misconfigured
# token or bucket, overloaded): the data is good, so the queue keeps it and we retry.
_RETRY_STATUSES = frozenset({401, 403, 404, 408, 425, 429})
_DROPPED = re.compile(r"dropped=(\d+)")
_LINE_NO = re.compile(r"\bline (\d+)\b")


class RefusedWrite(PermanentExportError):
    """The server refused (part of) a write for good: HTTP 400/413/422.

    `partial`: the server says it stored the other lines (InfluxDB partial write); then
    `line_numbers` (1-based, when the server names them) and `dropped` say what it refused.
    `too_large`: 413, the body is over the server's limit; a smaller batch may pass.
    """

    def __init__(self, message: str, *, status: int, partial: bool = False,
                 dropped: int | None = None, line_numbers: list[int] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.partial = partial
        self.dropped = dropped
        self.line_numbers = line_numbers or []

    @property
    def too_large(self) -> bool:
        return self.status == 413


@dataclass(frozen=True, slots=True)
class WriterOptions:
    url: str
    token: str = field(repr=False)  # never in a repr or a log
    org: str
    bucket: str
    timeout_s: float
    gzip_level: int  # 0: no compression
    verify_ssl: bool = True
    ca_file: str | None = None
    precision: str = "ns"


class LineWriter:
    def __init__(self, opts: WriterOptions) -> None:
        from influxdb_client import InfluxDBClient, WritePrecision  # type: ignore[attr-defined]
        from influxdb_client.rest import ApiException
        from influxdb_client.service.write_service import WriteService

        self._api_exception: type[ApiException] = ApiException
        self.opts = opts
        # WritePrecision's constants are these very strings ("ns", "us", "ms", "s")
        self._precision: str = getattr(WritePrecision, opts.precision.upper())
        # Without a token InfluxDB 2 answers 401; VictoriaMetrics ignores the header.
        self._client = InfluxDBClient(
            url=opts.url, token=opts.token or "unused", org=opts.org,
            timeout=int(opts.timeout_s * 1000), enable_gzip=False, verify_ssl=opts.verify_ssl,
            ssl_ca_cert=opts.ca_file, retries=False)
        self._service = WriteService(self._client.api_client)  # type: ignore[no-untyped-call]

    def write(self, body: bytes) -> None:
        """Blocking (run it in a thread). Raises RetryableExportError or RefusedWrite."""
        import http.client  # loaded with the library by __init__: lookups

        import urllib3

        kwargs: dict[str, str] = {}
        if self.opts.gzip_level > 0:
            body = gzip.compress(body, compresslevel=self.opts.gzip_level)
            kwargs["content_encoding"] = "gzip"
        try:
            self._service.post_write(  # type: ignore[no-untyped-call]
                org=self.opts.org, bucket=self.opts.bucket, body=body,
                precision=self._precision, content_type="text/plain; charset=utf-8",
                **kwargs)
        except self._api_exception as exc:
            raise _classify(exc) from None
        except (urllib3.exceptions.HTTPError, OSError, http.client.HTTPException) as exc:
            raise CentreUnavailable(f"{type(exc).__name__}: {exc}", _cause(exc)) from None

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]


def _cause(exc: BaseException) -> ErrorType:
    """What a transport failure was, for the telemetry. (urllib3's NewConnectionError is a
    ConnectTimeoutError, so the connection cases come before the timeout.)"""
    import urllib3

    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        return _cause(exc.reason)
    if isinstance(exc, ConnectionRefusedError) or isinstance(
            exc.__cause__ or exc.__context__, ConnectionRefusedError):
        return ErrorType.REFUSED
    if isinstance(exc, urllib3.exceptions.NameResolutionError):
        return ErrorType.DNS
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return ErrorType.UNREACHABLE
    if isinstance(exc, urllib3.exceptions.SSLError | ssl.SSLError):
        return ErrorType.TLS
    if isinstance(exc, urllib3.exceptions.TimeoutError | TimeoutError):
        return ErrorType.TIMEOUT
    return ErrorType.UNREACHABLE


def _classify(exc: ApiException) -> CentreUnavailable | RefusedWrite:
    status = int(exc.status or 0)
    body = _body(exc)
    reason = _message(body) or str(exc.reason)
    if status >= 500 or status in _RETRY_STATUSES or status == 0:
        retry_after = None
        headers = exc.headers
        header = str(headers.get("Retry-After", "")) if headers is not None else ""
        if header.strip().isdigit():
            retry_after = float(header)
        hint = " (check the token, org and bucket)" if status in (401, 403, 404) else ""
        kind = ErrorType.AUTH if status in (401, 403) else ErrorType.PROTOCOL
        return CentreUnavailable(f"HTTP {status}: {reason[:300]}{hint}", kind,
                                 retry_after_s=retry_after)
    partial = "partial write" in body.lower()
    dropped = None
    if m := _DROPPED.search(body):
        dropped = int(m.group(1))
    return RefusedWrite(f"HTTP {status}: {reason[:1000]}", status=status, partial=partial,
                        dropped=dropped, line_numbers=_line_numbers(body) if partial else [])


def _body(exc: ApiException) -> str:
    body = exc.body
    if isinstance(body, bytes):
        return body.decode(errors="replace")
    return body if isinstance(body, str) else ""


def _message(body: str) -> str:
    try:
        doc = json.loads(body)
    except ValueError:
        return body.strip()
    if isinstance(doc, dict):
        return str(doc.get("message") or doc.get("error") or body)
    return body.strip()


def _line_numbers(body: str) -> list[int]:
    """1-based numbers of refused lines, when the server lists them (InfluxDB 3 does)."""
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    nums: set[int] = set()
    if isinstance(doc, dict):
        data = doc.get("data")
        if isinstance(data, list):
            for d in data:
                if isinstance(d, dict) and isinstance(d.get("line_number"), int):
                    nums.add(int(d["line_number"]))
        if not nums:
            nums.update(int(n) for n in _LINE_NO.findall(str(doc.get("message", ""))))
            if isinstance(doc.get("line"), int):
                nums.add(int(doc["line"]))
    else:
        nums.update(int(n) for n in _LINE_NO.findall(body))
    return sorted(nums)
