"""Syslog lines → `SyslogMessage`: RFC 5424, RFC 3164 (as devices really send it), vendor parts.

Pure and bounded: a line is cut to `MAX_LINE` characters before any regex runs, every pattern
is anchored or length-limited, and nothing raises on bad input: a line without a valid PRI is
kept whole as `format="raw"` (the listener counts it and still records it).

Vendor parts of the message (module, severity, mnemonic, interface, user):
- Huawei VRP / H3C Comware: `%%01IFNET/4/LINK_STATE(l)[0]:text` (`%%` vendor mark, 2-digit
  version, MODULE/level/DIGEST, optional `(type)` and `[seq]`);
- Cisco IOS / Ruijie RGOS: `%LINK-3-UPDOWN: text` (FACILITY[-SUB]-severity-MNEMONIC);
  Ruijie in RFC 5424 mode puts `MODULE LEVEL MNEMONIC` in APP-NAME/PROCID/MSGID;
- ZTE ZXR10: `hh:mm:ss mm/dd/yyyy UTC alarm N occurred|cleared %TYPE% text sent by X`;
- Linux/OpenSSH: `sshd[pid]: Failed password for [invalid user] U from A port P ssh2`.
Samples and their public sources: tests/collectors/syslog/data/vendor_lines.txt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LINE = 8192

_PRI = re.compile(r"<(\d{1,3})>")
_V5424 = re.compile(
    r"1 (\S{1,64}) (\S{1,255}) (\S{1,48}) (\S{1,128}) (\S{1,32}) ?")
_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
# RFC 3164 and what devices send in its place (year, milliseconds, `*` unsynchronised clock,
# Cisco's sequence number, ISO dates, uptime)
_TS3164 = re.compile(
    r"(?:\d{1,10}: ?)?[*.]?("
    rf"(?:{_MONTHS}) {{1,2}}\d{{1,2}}(?: \d{{4}})? \d\d:\d\d:\d\d(?:\.\d{{1,6}})?"
    r"(?: [A-Z]{2,5}(?:[+-]\d\d?(?::?\d\d)?)?)?"
    r"|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:?\d\d)?"
    r"|\d+[dw]\d+[hd]|\d\d:\d\d:\d\d:\d\d"
    r"):? ")
_TAG = re.compile(r"([^\s:\[\]]{1,48})(?:\[([^\]\s]{1,32})\])?: ?")
_HOST = re.compile(r"[A-Za-z0-9][\w.:\-]{0,254}")

_HUAWEI = re.compile(
    r"%%(\d\d)([A-Za-z0-9_\-]{1,32})/(\d)/([A-Za-z0-9_\-]{1,64})(?:\((\w{1,3})\))?"
    r"(?:\[\d{1,10}\])?: ?")
_CISCO = re.compile(r"%([A-Z][A-Z0-9_]{0,31}(?:-[A-Z][A-Z0-9_]{0,31}){0,2})-(\d)-"
                    r"([A-Z][A-Z0-9_]{0,63}) ?: ?")
_ZTE = re.compile(r"alarm (\d{1,6}) (occurred|cleared)\.? ?%([^%]{1,48})% ?")
_ZTE_SENDER = re.compile(r" sent by (.{1,64})$")
_SSHD = re.compile(
    r"(Failed|Accepted) (password|publickey|keyboard-interactive(?:/pam)?) for "
    r"(invalid user )?(\S{1,64}) from (\S{1,64})|"
    r"(Invalid user) (\S{1,64}) from (\S{1,64})")

_IFNAME = re.compile(
    r"\b((?:Ten-|Twenty-|Twenty[Ff]ive|Forty-|Hundred-)?GigabitEthernet|XGigabitEthernet|"
    r"MultiGigabitEthernet|FastEthernet|Ethernet|Eth-Trunk|Vlanif|Vlan-interface|Vlan|"
    r"Bridge-Aggregation|Route-Aggregation|Port-channel|TenGigE|HundredGigE|FortyGigE|"
    r"TwentyFiveGigE|AggregatePort|MEth|Meth|100GE|40GE|25GE|10GE|XGE|FGE|HGE|GE|"
    r"gei_|xgei_|fei_|Gi|Te|Fa)( ?\d{1,4}(?:/\d{1,4}){0,3}(?:[.:]\d{1,5})?)\b")
_USER = re.compile(
    r"(?:\b[Uu]ser(?:[Nn]ame)?\s?[=:]\s?\"?|\bby |\bfor (?:invalid user )?|"
    r"\b[Ii]nvalid user )([A-Za-z0-9_.@\-]{1,64})")


@dataclass(frozen=True, slots=True)
class SyslogMessage:
    format: str  # rfc5424 | rfc3164 | raw
    facility: int | None
    severity: int | None  # syslog severity 0-7 (PRI), else the vendor's level
    timestamp: str
    hostname: str
    app: str
    procid: str
    msgid: str
    structured: str
    message: str
    vendor_format: str = ""  # huawei | h3c | cisco | ruijie | zte | linux | ""
    module: str = ""
    mnemonic: str = ""  # IFNET/4/LINK_STATE, LINK-3-UPDOWN, ZTE alarm, sshd outcome
    interface: str = ""
    user: str = ""
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.format != "raw"


def _structured(rest: str) -> tuple[str, str]:
    """(STRUCTURED-DATA, MSG) of what follows MSGID in RFC 5424."""
    if rest.startswith("-"):
        return "-", rest[2:] if rest.startswith("- ") else rest[1:]
    if not rest.startswith("["):
        return "", rest
    i, n = 0, len(rest)
    while i < n and rest[i] == "[":
        j = i + 1
        while j < n:
            c = rest[j]
            if c == "\\":
                j += 2
                continue
            if c == "]":
                break
            j += 1
        i = j + 1
    sd, msg = rest[:i], rest[i:]
    return sd, msg[1:] if msg.startswith(" ") else msg


def _vendor(msg: str, app: str, procid: str, msgid: str) -> dict[str, object]:
    out: dict[str, object] = {}
    m = _HUAWEI.search(msg, 0, 512)
    if m is not None:
        version, module, level, digest, kind = m.groups()
        out = {"vendor_format": "h3c" if version == "10" else "huawei", "module": module,
               "mnemonic": f"{module}/{level}/{digest}", "vendor_level": int(level),
               "text": msg[m.end():]}
        if kind:
            out["mnemonic"] = f"{module}/{level}/{digest}({kind})"
        return out
    m = _CISCO.search(msg, 0, 512)
    if m is not None:
        fac, level, mnem = m.groups()
        return {"vendor_format": "cisco", "module": fac, "mnemonic": f"{fac}-{level}-{mnem}",
                "vendor_level": int(level), "text": msg[m.end():]}
    m = _ZTE.search(msg, 0, 512)
    if m is not None:
        code, state, kind = m.groups()
        text = msg[m.end():]
        sender = _ZTE_SENDER.search(text)
        if sender is not None:
            text = text[:sender.start()]
        return {"vendor_format": "zte", "module": kind.strip(),
                "mnemonic": f"ZTE-ALARM-{code}-{state.upper()}", "text": text}
    if app.isupper() and procid.isdigit() and len(procid) == 1 and msgid.isupper():
        # Ruijie RFC 5424 mode: APP-NAME=MODULE, PROCID=level, MSGID=MNEMONIC
        return {"vendor_format": "ruijie", "module": app,
                "mnemonic": f"{app}-{procid}-{msgid}", "vendor_level": int(procid),
                "text": msg}
    if app.startswith("sshd"):
        m2 = _SSHD.search(msg, 0, 512)
        if m2 is not None:
            if m2.group(1):
                outcome = "LOGIN_FAILED" if m2.group(1) == "Failed" else "LOGIN_ACCEPTED"
                if m2.group(3):
                    outcome = "INVALID_USER_LOGIN_FAILED"
                return {"vendor_format": "linux", "module": "sshd",
                        "mnemonic": f"sshd-{outcome}", "user": m2.group(4), "text": msg}
            return {"vendor_format": "linux", "module": "sshd",
                    "mnemonic": "sshd-INVALID_USER", "user": m2.group(7), "text": msg}
        return {"vendor_format": "linux", "module": "sshd", "text": msg}
    return out


def parse(line: str) -> SyslogMessage:
    truncated = len(line) > MAX_LINE
    if truncated:
        line = line[:MAX_LINE]
    line = line.rstrip("\r\n\x00")
    m = _PRI.match(line)
    pri = int(m.group(1)) if m is not None else 999
    if m is None or pri > 191:
        return SyslogMessage("raw", None, None, "", "", "", "", "", "", line,
                             truncated=truncated)
    facility, severity = divmod(pri, 8)
    rest = line[m.end():]
    fmt = "rfc3164"
    ts = host = app = procid = msgid = sd = ""
    v = _V5424.match(rest)
    if v is not None:
        fmt = "rfc5424"
        ts, host, app, procid, msgid = (x if x != "-" else "" for x in v.groups())
        sd, msg = _structured(rest[v.end():])
        if msg.startswith("\ufeff"):  # RFC 5424 §6.4: BOM before a UTF-8 MSG
            msg = msg[1:]
    else:
        msg = rest.lstrip(" ")
        t = _TS3164.match(msg)
        if t is not None:
            ts = t.group(1)
            msg = msg[t.end():]
        # HOSTNAME, unless the next token is already the tag or a vendor mark
        first = msg.split(" ", 1)
        if (len(first) == 2 and not first[0].endswith(":") and not first[0].startswith("%")
                and _HOST.fullmatch(first[0])):
            host, msg = first[0], first[1]
        tg = _TAG.match(msg)
        if tg is not None and not msg.startswith("%"):
            app, procid = tg.group(1), tg.group(2) or ""
            msg = msg[tg.end():]
        elif host and host.endswith(":"):
            host = host[:-1]
    parts = _vendor(msg, app, procid, msgid)
    text = str(parts.get("text", msg))
    iface = _IFNAME.search(text, 0, 1024)
    user = parts.get("user") or ""
    if not user:
        u = _USER.search(text, 0, 1024)
        user = u.group(1) if u is not None else ""
    return SyslogMessage(
        fmt, facility, severity, ts, host, app, procid, msgid, sd, msg,
        vendor_format=str(parts.get("vendor_format", "")), module=str(parts.get("module", "")),
        mnemonic=str(parts.get("mnemonic", "")),
        interface=(iface.group(1) + iface.group(2)) if iface is not None else "",
        user=str(user), truncated=truncated)
