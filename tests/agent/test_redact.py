"""The log redactor: known secrets and secret-shaped text never reach a log line."""

from __future__ import annotations

import logging
import sys

from pydantic import SecretStr

from agent.framework.logsetup import RedactingFormatter, redact, register_secrets, secrets_of
from config.credentials import SnmpV3Credential


def test_patterns() -> None:
    cases = {
        "POST https://oapi.dingtalk.com/robot/send?access_token=abc123\x07x&sign=zz failed":
            "https://oapi.dingtalk.com/robot/send?<redacted>",
        "connect mqtt://campus:hunter2@10.0.0.1:1883 refused": "mqtt://campus:<redacted>@",
        "headers {'Authorization': 'Bearer eyJhbGciOi'}": "Bearer <redacted>",
        "community=public123 rejected": "community=<redacted>",
        '{"password": "p@ss", "user": "x"}': '"password": "<redacted>',
        "token: tkn-0001": "token: <redacted>",
    }
    for raw, expected in cases.items():
        out = redact(raw)
        assert expected in out, (raw, out)
    for secret in ("abc123", "hunter2", "eyJhbGciOi", "public123", "p@ss", "tkn-0001"):
        assert all(secret not in redact(raw) for raw in cases)


def test_registered_secrets_from_the_config_everywhere() -> None:
    cred = SnmpV3Credential(name="v3", type="snmp_v3", user="u", auth_protocol="SHA256",
                            auth_key=SecretStr("auth-key-zz9"), priv_protocol="AES",
                            priv_key=SecretStr("priv-key-zz9"))
    found = secrets_of({"credentials": [cred]})
    assert sorted(found) == ["auth-key-zz9", "priv-key-zz9"]
    register_secrets(found)
    fmt = RedactingFormatter(logging.Formatter("%(message)s"))
    try:
        raise ValueError("bad key priv-key-zz9 in 'auth-key-zz9'")
    except ValueError:
        rec = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed with %s",
                                ("auth-key-zz9",), sys.exc_info())
    out = fmt.format(rec)
    assert "zz9" not in out and "<secret>" in out and "ValueError" in out
