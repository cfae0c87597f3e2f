"""The only module that imports influxdb-client; turns its exceptions into export errors.

We hand it pre-rendered line protocol and write synchronously: our disk queue owns batching
and retries (stacking its batching buffer on ours would double-buffer and cost more CPU).
"""

from __future__ import annotations

import http.client
import json

import urllib3
from influxdb_client import InfluxDBClient, WritePrecision  # type: ignore[attr-defined]
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

from agent.errors import PermanentExportError, RetryableExportError


class LineWriter:
    def __init__(self, *, url: str, token: str, org: str, bucket: str, timeout_s: float,
                 gzip: bool, verify_ssl: bool, ca_file: str | None) -> None:
        self.org, self.bucket = org, bucket
        self._client = InfluxDBClient(
            url=url, token=token or "unused", org=org, timeout=int(timeout_s * 1000),
            enable_gzip=gzip, verify_ssl=verify_ssl, ssl_ca_cert=ca_file,
            retries=False)
        self._write = self._client.write_api(write_options=SYNCHRONOUS)

    def write(self, body: str) -> None:
        """Blocking; run it in a thread."""
        try:
            self._write.write(bucket=self.bucket, org=self.org, record=body,
                              write_precision=WritePrecision.NS)  # type: ignore[arg-type]
        except ApiException as exc:
            reason = _reason(exc)
            status = int(exc.status or 0)
            if status == 429 or status >= 500:
                retry_after = None
                if exc.headers and exc.headers.get("Retry-After", "").isdigit():
                    retry_after = float(exc.headers["Retry-After"])
                raise RetryableExportError(f"HTTP {status}: {reason}",
                                           retry_after_s=retry_after) from None
            raise PermanentExportError(f"HTTP {status}: {reason}") from None
        except (urllib3.exceptions.HTTPError, OSError, http.client.HTTPException) as exc:
            raise RetryableExportError(f"{type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]


def _reason(exc: ApiException) -> str:
    body = exc.body
    if isinstance(body, bytes):
        body = body.decode(errors="replace")
    if isinstance(body, str) and body:
        try:
            return str(json.loads(body).get("message", body))[:500]
        except (ValueError, AttributeError):
            return body[:500]
    return str(exc.reason)
