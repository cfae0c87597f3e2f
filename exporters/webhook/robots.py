"""DingTalk and WeCom group robots: request URL (with DingTalk's signature), body, and the
meaning of their `errcode` replies (both answer HTTP 200 even when they refuse a message)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse

from agent.core.errors import PermanentExportError, RetryableExportError

# "send too fast" (DingTalk 130101) and "api freq out of limit" (WeCom 45009): wait, retry
_RATE_LIMITED = {130101: 60.0, 45009: 60.0}


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """加签: HMAC-SHA256 over `timestamp + "\\n" + secret` keyed by the secret, Base64, then
    URL-encoded (the value of the `sign` query parameter)."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


def dingtalk_url(base: str, access_token: str, secret: str | None, timestamp_ms: int) -> str:
    query = f"access_token={urllib.parse.quote_plus(access_token)}"
    if secret:
        query += f"&timestamp={timestamp_ms}&sign={dingtalk_sign(timestamp_ms, secret)}"
    return f"{base}{'&' if '?' in base else '?'}{query}"


def wecom_url(base: str, key: str) -> str:
    return f"{base}{'&' if '?' in base else '?'}key={urllib.parse.quote_plus(key)}"


def check_reply(robot: str, body: bytes) -> None:
    """Raise the export error an `errcode` reply means; return on errcode 0."""
    try:
        reply = json.loads(body or b"{}")
    except ValueError:
        raise PermanentExportError(f"{robot}: reply is not JSON: {body[:200]!r}") from None
    code = int(reply.get("errcode", 0)) if isinstance(reply, dict) else 0
    if code == 0:
        return
    message = f"{robot}: errcode {code}: {reply.get('errmsg', '')}"
    if code in _RATE_LIMITED:
        raise RetryableExportError(message, retry_after_s=_RATE_LIMITED[code])
    # 310000 (signature, keyword or IP not accepted), 93000 (bad key), 40035 (bad body) …
    raise PermanentExportError(message)
