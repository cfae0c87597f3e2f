"""HTTP POST of a JSON body with the standard library, translated into typed export errors.

Shared by the alert sinks (webhook robots, Alertmanager): a connection failure or a 429/5xx is
retryable (the disk queue keeps the batch), any other 4xx is permanent (set aside with the
server's reason, never retried forever).
"""

from __future__ import annotations

import http.client
import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from agent.core.errors import PermanentExportError, RetryableExportError


def tls_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca_file)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def post_json(url: str, body: Any, *, headers: Mapping[str, str] | None = None,
              timeout_s: float = 10.0, context: ssl.SSLContext | None = None) -> bytes:
    """Blocking; run it in a thread. Returns the response body of a 2xx."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s, context=context) as resp:
            payload: bytes = resp.read()
            return payload
    except urllib.error.HTTPError as exc:
        reason = exc.read()[:500].decode("utf-8", "replace") or str(exc.reason)
        if exc.code == 429 or exc.code >= 500:
            after = exc.headers.get("Retry-After", "") if exc.headers else ""
            raise RetryableExportError(
                f"HTTP {exc.code}: {reason}",
                retry_after_s=float(after) if after.isdigit() else None) from None
        raise PermanentExportError(f"HTTP {exc.code}: {reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise RetryableExportError(f"{type(exc).__name__}: {exc}") from None
