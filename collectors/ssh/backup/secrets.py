"""Secrets in running configurations, masked before anything is stored.

Each rule names one kind of secret on one platform family and captures the secret itself in
groups named `s`, `s2`. A captured secret is replaced by `<secret:HMAC>`: HMAC-SHA256 under a
per-agent key (0600 file in the data dir), 16 hex digits. The same secret always masks the same
way, so an unchanged device shows no diff; a changed password shows as a changed line; and
without the key the token cannot be tested against guessed passwords (a plain hash of
`public` could).

Each rule names the words a line must hold for it to apply, checked as substrings before any
regular expression runs, so most lines of a configuration cost a few substring checks.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from collectors.ssh.platforms import Platform

# a secret token: quoted (ArubaOS, some IOS) or one word
_T = r'(?:"[^"]*"|\S+)'


@dataclass(frozen=True, slots=True)
class SecretRule:
    name: str
    needles: tuple[str, ...]  # the rule runs only on a line holding one of these (lower case)
    what: str
    pattern: re.Pattern[str]


def _r(name: str, needles: tuple[str, ...], what: str, pattern: str) -> SecretRule:
    return SecretRule(name, needles, what, re.compile(pattern, re.IGNORECASE))


_HUAWEI = (
    _r("huawei.local_user_password", ("local-user",), "AAA local user password (VRP, YunShan)",
       rf"\blocal-user\s+\S+\s+password\s+(?:irreversible-cipher|cipher|simple)\s+(?P<s>{_T})"),
    _r("huawei.snmp_community", ("snmp-agent",), "SNMP v1/v2c community",
       rf"\bsnmp-agent\s+community\s+(?:read|write)\s+(?:cipher\s+|simple\s+)?(?P<s>{_T})"),
    _r("huawei.snmp_usm_auth", ("usm-user",), "SNMPv3 authentication key",
       rf"\bsnmp-agent\s+usm-user\b.*?\bauthentication-mode\s+\S+\s+(?:cipher\s+)?"
       rf"(?P<s>{_T})"),
    _r("huawei.snmp_usm_priv", ("usm-user",), "SNMPv3 privacy key",
       rf"\bsnmp-agent\s+usm-user\b.*?\bprivacy-mode\s+\S+\s+(?:cipher\s+)?(?P<s>{_T})"),
    _r("huawei.aaa_shared_key", ("shared-key",), "RADIUS / HWTACACS shared key",
       rf"\bshared-key(?:-cipher)?\s+(?:cipher\s+|simple\s+)?(?P<s>{_T})"),
    _r("huawei.line_password", ("set authentication",), "console/VTY password",
       rf"\bset\s+authentication\s+password\s+(?:cipher\s+|simple\s+)?(?P<s>{_T})"),
    _r("huawei.super_password", ("super",), "super (privilege level) password",
       rf"\bsuper\s+password\s+(?:level\s+\d+\s+)?(?:irreversible-cipher|cipher|simple)\s+"
       rf"(?P<s>{_T})"),
    _r("huawei.psk", ('pre-shared-key', 'pass-phrase'), "IKE / WLAN pre-shared key or pass phrase",
       rf"\b(?:pre-shared-key|pass-phrase)\s+(?:cipher\s+|simple\s+)?(?P<s>{_T})"),
    _r("huawei.routing_auth", ("authentication-mode",), "OSPF/IS-IS/BGP authentication key",
       rf"\bauthentication-mode\s+(?:md5|hmac-md5|hmac-sha256|simple)\s+(?:\d+\s+)?"
       rf"(?:cipher|plain)\s+(?P<s>{_T})"),
    # VRP cipher text: %^%#…%^%#, %@%@…%@%@, %$%$…%$%$, $1a$…$ (not `ssh server cipher aes…`)
    _r("huawei.cipher", ("cipher",), "any other cipher string (catch-all)",
       r"\b(?:irreversible-cipher|cipher)\s+(?P<s>(?:%\^%#|%@%@|%\$%\$|@%@%|\$\d[a-z]\$)\S*)"),
)

_COMWARE = (
    _r("comware.local_user_password", ("password",), "local user password",
       rf"^\s*password\s+(?:hash|cipher|simple)\s+(?P<s>{_T})"),
    _r("comware.line_password", ("set authentication",), "line (console/VTY) password",
       rf"\bset\s+authentication\s+password\s+(?:hash|cipher|simple)\s+(?P<s>{_T})"),
    _r("comware.super_password", ("super",), "super password (role)",
       rf"\bsuper\s+password\s+(?:role\s+\S+\s+)?(?:hash|cipher|simple)\s+(?P<s>{_T})"),
    _r("comware.snmp_community", ("snmp-agent",), "SNMP v1/v2c community",
       rf"\bsnmp-agent\s+community\s+(?:read|write)\s+(?:cipher\s+|simple\s+)?(?P<s>{_T})"),
    _r("comware.snmp_usm_keys", ("usm-user",), "SNMPv3 authentication and privacy keys",
       rf"\bsnmp-agent\s+usm-user\s+v3\b.*?\bauthentication-mode\s+\S+\s+(?P<s>{_T})"
       rf"(?:\s+privacy-mode\s+\S+\s+(?P<s2>{_T}))?"),
    _r("comware.aaa_key", ("key",), "RADIUS / HWTACACS scheme key",
       rf"\bkey\s+(?:authentication|accounting|authorization)\s+(?:cipher|simple)\s+"
       rf"(?P<s>{_T})"),
    _r("comware.psk", ("shared-key",), "IKE / WLAN pre-shared key",
       rf"\bpre-?shared-key\s+(?:pass-phrase\s+|raw-key\s+)?(?:cipher|simple)\s+(?P<s>{_T})"),
    _r("comware.cipher", ("$",), "any other $c$/$h$/$p$ string (catch-all)",
       r"\b(?:cipher|hash)\s+(?P<s>\$[chp]\$\S+)"),
)

_IOS = (
    _r("ios.enable_secret", ("enable",), "enable secret / password",
       rf"^\s*enable\s+(?:secret|password)\s+(?:level\s+\d+\s+)?(?:\d+\s+)?(?P<s>{_T})"),
    _r("ios.user_secret", ("username",), "local user secret / password",
       rf"\busername\s+\S+\b.*?\s(?:secret|password)\s+(?:\d+\s+)?(?P<s>{_T})"),
    _r("ios.line_password", ("password",), "line (console/VTY) password",
       rf"^\s*password\s+(?!policy\b)(?:\d+\s+)?(?P<s>{_T})"),
    _r("ios.snmp_community", ("community",), "SNMP v1/v2c community",
       rf"^\s*snmp-server\s+community\s+(?:\d\s+)?(?P<s>{_T})"),
    _r("ios.snmp_host_community", ("snmp-server",), "community sent with traps/informs",
       rf"^\s*snmp-server\s+host\s+\S+.*?\bversion\s+(?:1|2c)\s+(?P<s>{_T})"),
    _r("ios.snmp_user_keys", ("snmp-server",), "SNMPv3 authentication and privacy keys",
       rf"^\s*snmp-server\s+user\b.*?\bauth\s+\S+\s+(?P<s>{_T})"
       rf"(?:\s+priv\s+(?:3des|des|aes(?:\s+\d+)?)\s+(?P<s2>{_T}))?"),
    _r("ios.aaa_key", ("key",), "RADIUS / TACACS+ key",
       rf"^\s*(?:(?:tacacs|radius)-server\b.*?\s)?key\s+(?!chain\b|config-key\b)(?:[0-7]\s+)?"
       rf"(?P<s>{_T})"),
    _r("ios.server_key", ("server-key",), "RADIUS dynamic-author / server-private key",
       rf"\bserver-key\s+(?:[0-7]\s+)?(?P<s>{_T})"),
    _r("ios.key_string", ("key-string",), "key-chain key string",
       rf"\bkey-string\s+(?:\d\s+)?(?P<s>{_T})"),
    _r("ios.isakmp_key", ("isakmp",), "IKE pre-shared key",
       rf"^\s*crypto\s+isakmp\s+key\s+(?:\d\s+)?(?P<s>{_T})"),
    _r("ios.psk", ('pre-shared-key', 'wpa-psk'), "pre-shared key / WPA PSK",
       rf"\b(?:pre-shared-key|wpa-psk\s+(?:ascii|hex))\s+(?:[0-9]\s+)?(?P<s>{_T})"),
    _r("ios.routing_auth", ("message-digest-key", "authentication-key", "neighbor"),
       "OSPF / BGP neighbour key",
       rf"\b(?:message-digest-key\s+\d+\s+md5|authentication-key|neighbor\s+\S+\s+password)"
       rf"\s+(?:\d\s+)?(?P<s>{_T})"),
)

_RUIJIE = (
    _r("ruijie.webmaster", ("webmaster",), "web management user secret",
       rf"^\s*webmaster\s+level\s+\d+\s+username\s+\S+\s+(?:secret|password)\s+(?:\d+\s+)?"
       rf"(?P<s>{_T})"),
    _r("ruijie.wlan_key", ("set-key",), "WLAN security key",
       rf"\bset-key\s+(?:ascii|hex)\s+(?P<s>{_T})"),
)

_ZTE = (
    _r("zte.password", ("password",), "local user / line password",
       rf"(?<![\w-])password\s+(?:encrypted\s+|\d\s+)?(?P<s>{_T})"),
    _r("zte.enable_secret", ("enable",), "enable secret",
       rf"^\s*enable\s+secret\s+(?:level\s+\d+\s+)?(?:\d\s+)?(?P<s>{_T})"),
    _r("zte.snmp_community", ("community",), "SNMP v1/v2c community",
       rf"^\s*snmp-server\s+community\s+(?:encrypted\s+)?(?P<s>{_T})"),
    _r("zte.snmp_user_keys", ("snmp-server",), "SNMPv3 authentication and privacy keys",
       rf"^\s*snmp-server\s+user\b.*?\bauthentication\s+(?:md5|sha\S*)\s+(?:encrypted\s+)?"
       rf"(?P<s>{_T})(?:.*?\bprivacy\s+\S+\s+(?:encrypted\s+)?(?P<s2>{_T}))?"),
    _r("zte.aaa_key", ("key",), "RADIUS / TACACS+ key",
       rf"^\s*(?:(?:tacacs|radius)-server\b.*?\s)?key\s+(?!chain\b)(?:encrypted\s+)?"
       rf"(?P<s>{_T})"),
)

_ARUBA = (
    _r("aruba.mgmt_user", ("mgmt-user",), "management user password",
       rf"^\s*mgmt-user\s+\S+\s+\S+\s+(?P<s>{_T})"),
    _r("aruba.wpa_passphrase", ("wpa-passphrase",), "WLAN WPA pass phrase",
       rf"\bwpa-passphrase\s+(?P<s>{_T})"),
    _r("aruba.ike_psk", ('pre-share', 'ipsec'), "IKE pre-shared key",
       rf"\b(?:ike\s+authentication\s+pre-share|ipsec)\s+(?P<s>{_T})"),
    _r("aruba.ap_passwords", ("password",), "AP console / backup passwords",
       rf"^\s*(?:ap-console-password|bkup-passwords)\s+(?P<s>{_T})"),
    _r("aruba.vrrp_auth", ("authentication",), "VRRP authentication",
       rf"^\s*authentication\s+(?!pre-share\b|rsa-sig\b|ecdsa)(?P<s>{_T})"),
    _r("aruba.snmp_user", ("auth-prot",), "SNMPv3 authentication and privacy keys",
       rf"^\s*snmp-server\s+user\s+\S+.*?\bauth-prot\s+\S+\s+(?P<s>{_T})"
       rf"(?:.*?\bpriv-prot\s+\S+\s+(?P<s2>{_T}))?"),
)

_IOS_FAMILY = (*_IOS,)
PLATFORM_RULES: Mapping[Platform, tuple[SecretRule, ...]] = {
    Platform.HUAWEI: _HUAWEI,
    Platform.HP_COMWARE: _COMWARE,
    Platform.CISCO_IOS: _IOS_FAMILY,
    Platform.CISCO_XE: _IOS_FAMILY,
    Platform.RUIJIE_OS: (*_RUIJIE, *_IOS_FAMILY),
    Platform.ZTE_ZXROS: _ZTE,
    Platform.ARUBA_OS: (*_ARUBA, *_IOS_FAMILY),
}
ALL_RULES: tuple[SecretRule, ...] = tuple(
    {r.name: r for rules in PLATFORM_RULES.values() for r in rules}.values())

_MASKED = re.compile(r"^<secret:[0-9a-f]{16}>$")


class Masker:
    """Masks one platform's secrets, line by line. Thread-safe (no mutable state but a count
    owned by the caller)."""

    def __init__(self, key: bytes, rules: Sequence[SecretRule]) -> None:
        self._key = key
        self._rules = tuple(rules)
        # a line holding none of the rules' words holds no secret they could find: most lines
        # of a configuration are skipped with a few substring checks
        self._needles = tuple(sorted({n for r in self._rules for n in r.needles}))

    def token(self, secret: str) -> str:
        digest = hmac.new(self._key, secret.encode("utf-8", "surrogateescape"),
                          hashlib.sha256).hexdigest()
        return f"<secret:{digest[:16]}>"

    def mask(self, line: str) -> tuple[str, int]:
        """(the line with every secret replaced, how many were replaced)."""
        low = line.lower()
        if not any(n in low for n in self._needles):
            return line, 0
        spans: list[tuple[int, int]] = []
        for rule in self._rules:
            if not any(n in low for n in rule.needles):
                continue
            m = rule.pattern.search(line)
            if m is None:
                continue
            for name, value in m.groupdict().items():
                if value is None or not name.startswith("s") or _MASKED.match(value):
                    continue
                start, end = m.span(name)
                if not any(start < e and s < end for s, e in spans):  # first rule wins
                    spans.append((start, end))
        if not spans:
            return line, 0
        out = line
        for start, end in sorted(spans, reverse=True):
            secret = line[start:end]
            if len(secret) >= 2 and secret[0] == secret[-1] == '"':
                out = out[:start] + '"' + self.token(secret[1:-1]) + '"' + out[end:]
            else:
                out = out[:start] + self.token(secret) + out[end:]
        return out, len(spans)


def load_key(path: Path) -> bytes:
    """The agent's masking key: created once (32 random bytes, 0600), then reused so masked
    values stay comparable across runs and restarts."""
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    os.replace(tmp, path)
    return key
