"""The only module that imports urllib3: one POST per batch to `/api/v2/write`, its refusals
turned into export errors.

We send one pre-rendered, pre-compressed body and write synchronously: our disk queue owns
batching and retries (a client library's batching buffer on top of ours would double-buffer and
cost more CPU). We gzip ourselves at a low level because line protocol gains a few percent of
bytes at level 9 for several times the CPU. The InfluxDB 2 write API is one documented POST
(org, bucket and precision in the query, `Authorization: Token`), so we speak it with urllib3
directly: influxdb-client for that one call cost ~16 MiB of RSS and ~500 modules (reactivex,
dateutil, its generated services) in every agent with this output (issue 23). Its
`WriteApi.write` also dropped our `Content-Encoding` on the floor (VictoriaMetrics then answers
204 to a gzip body it cannot parse: silent loss, caught by tests/exporters/test_influxdb_vm.py);
here the header is ours.
"""

from __future__ import annotations

import gzip
import json
import re
import ssl
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # urllib3 (~1.7 MiB) loads when the exporter starts, not with the SPEC
    import urllib3

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
        import urllib3

        self.opts = opts
        query = urllib.parse.urlencode(
            {"org": opts.org, "bucket": opts.bucket, "precision": opts.precision})
        self._url = f"{opts.url.rstrip('/')}/api/v2/write?{query}"
        # Without a token InfluxDB 2 answers 401; VictoriaMetrics ignores the header.
        self._headers = {"Authorization": f"Token {opts.token or 'unused'}",
                         "Content-Type": "text/plain; charset=utf-8",
                         "Accept": "application/json", "User-Agent": "campusmon"}
        # one writer thread at a time: one kept-alive connection; no retries (the queue's)
        self._pool: urllib3.PoolManager = urllib3.PoolManager(
            num_pools=1, maxsize=1, retries=False, timeout=urllib3.Timeout(total=opts.timeout_s),
            cert_reqs=ssl.CERT_REQUIRED if opts.verify_ssl else ssl.CERT_NONE,
            ca_certs=opts.ca_file or None)

    def write(self, body: bytes) -> None:
        """Blocking (run it in a thread). Raises RetryableExportError or RefusedWrite."""
        import http.client  # both loaded by __init__ (urllib3 loads http.client): lookups

        import urllib3

        headers = self._headers
        if self.opts.gzip_level > 0:
            body = gzip.compress(body, compresslevel=self.opts.gzip_level)
            headers = {**headers, "Content-Encoding": "gzip"}
        try:
            r = self._pool.request("POST", self._url, body=body, headers=headers)
        except (urllib3.exceptions.HTTPError, OSError, http.client.HTTPException) as exc:
            raise CentreUnavailable(f"{type(exc).__name__}: {exc}", _cause(exc)) from None
        if not 200 <= r.status < 300:
            raise _classify(r.status, r.reason or "", r.headers,
                            r.data.decode(errors="replace"))

    def close(self) -> None:
        self._pool.clear()


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


def _classify(status: int, reason: str, headers: Mapping[str, str],
              body: str) -> CentreUnavailable | RefusedWrite:
    reason = _message(body) or reason
    if status >= 500 or status in _RETRY_STATUSES or status == 0:
        retry_after = None
        header = str(headers.get("Retry-After", ""))
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
