"""Human-readable logs by default, JSON lines with --log-format json."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Iterable

from pydantic import BaseModel, SecretStr

# ------------------------------------------------------------------------------- redaction
# Every log line passes `redact` (message and traceback alike): a library that puts a URL with
# an access_token, a password or a community into an exception text cannot leak it through us.
_KEYS = (r"access_token|token|password|passwd|pwd|secret|community|auth_?key|priv_?key|"
         r"api_?key|apikey|key|sign|signature|sig|passphrase|enable_secret")
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # scheme://user:password@host
    (re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s/@:]*:)[^\s/@]+@"), r"\1<redacted>@"),
    # Authorization: Basic … / Bearer …
    (re.compile(r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?(?:basic|bearer|token)?\s*)"
                r"[^\s\"',]+"), r"\1<redacted>"),
    # a URL's query string (webhook tokens, signatures): kept to the path
    (re.compile(r"(?i)(\bhttps?://[^\s?#\"'<>]+)\?[^\s#\"'<>]*"), r"\1?<redacted>"),
    # key=value / key: value / "key": "value" for secret-sounding keys
    (re.compile(rf"(?i)(\b(?:{_KEYS})[\"']?\s*[=:]\s*[\"']?)(?!<redacted>)[^\s&\"',;)}}\]]+"),
     r"\1<redacted>"),
)
_MIN_SECRET = 6  # shorter values would redact ordinary words (and device names)
_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secrets(values: Iterable[str]) -> None:
    """Values that must never appear in a log line (the loaded config's secrets)."""
    with _secrets_lock:
        _secrets.update(v for v in values if len(v) >= _MIN_SECRET)


def secrets_of(obj: object, _depth: int = 0) -> list[str]:
    """Every SecretStr value inside a config object (models, dicts, lists, dataclasses)."""
    if _depth > 12:
        return []
    if isinstance(obj, SecretStr):
        return [obj.get_secret_value()]
    if isinstance(obj, BaseModel):
        return [s for v in obj.__dict__.values() for s in secrets_of(v, _depth + 1)]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in secrets_of(v, _depth + 1)]
    if isinstance(obj, list | tuple | set | frozenset):
        return [s for v in obj for s in secrets_of(v, _depth + 1)]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return [s for f in dataclasses.fields(obj)
                for s in secrets_of(getattr(obj, f.name, None), _depth + 1)]
    return []


def redact(text: str) -> str:
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, "<secret>")
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class RedactingFormatter(logging.Formatter):
    """Wraps a formatter: the whole formatted record (traceback included) is redacted."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def setup_logging(level: str = "info", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    inner: logging.Formatter = JsonFormatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
    handler.setFormatter(RedactingFormatter(inner))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("pysnmp", "paramiko", "netmiko", "urllib3", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
