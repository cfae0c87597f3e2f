"""What a device event is about, whichever way it arrived (trap or syslog line).

The alert rules match on `category` (a label every trap and syslog event carries), so one rule
covers `IF-MIB::linkDown`, Huawei `IFNET/4/LINK_STATE` and Cisco `%LINK-3-UPDOWN` alike. The
patterns run over "<trap or mnemonic name> <message>"; the first match wins, in the order below
(a "link down" line that mentions an AP is about the link). Bounded: the text is cut to 1 kB
before matching.
"""

from __future__ import annotations

import re

from agent.core.model import Event, EventState, Severity

_I = re.IGNORECASE
CATEGORIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ap_offline", re.compile(
        r"ApOffline|ApFaultTrap|APOffline|bsnAPDisassociated|AccessPointIsDown|"
        r"\bAP\b.{0,80}\b(offline|went offline|disassociat|disconnect|down)\b|"
        r"AP_(OFFLINE|DOWN|DISASSOC)|APMGR.{0,40}(offline|down)", _I)),
    ("link_down", re.compile(
        r"\blinkDown\b|\blinkDown_active\b|LINK_STATE.{0,200}\bDOWN\b|(PHY_|LINK-\d-|LINEPROTO-\d-)?"
        r"UPDOWN.{0,200}\b(to|state to) (down|administratively down)\b|"
        r"\b(entered|turned into) (the )?DOWN state\b|\bchanged (state )?to down\b|"
        r"\blink (status )?(is )?down\b|OperStatus=DOWN", _I)),
    ("link_up", re.compile(
        r"\blinkUp\b|\blinkDown_clear\b|LINK_STATE.{0,200}\bUP\b|"
        r"UPDOWN.{0,200}\b(to|state to) up\b|"
        r"\b(entered|turned into) (the )?UP state\b|\bchanged (state )?to up\b|"
        r"\blink (status )?(is )?up\b|OperStatus=UP", _I)),
    ("reboot", re.compile(
        r"::coldStart\b|::warmStart\b|SYS-5-RESTART|SYS-5-RELOAD|\bREBOOT\b|\breboot(ed|ing)?\b|"
        r"\bsystem (re)?start(ed)?\b|DEVM/\d/REBOOT|SYSTEM_RESTART|\bcold ?start\b|\bwarm ?start\b",
        _I)),
    ("auth_failure", re.compile(
        r"authenticationFailure\b|LOGIN_FAIL|LOGINFAIL|LOGIN-FAIL|SEC_LOGIN-\d-LOGIN_FAILED|"
        r"SSH_FAIL|AUTHEN_FAIL|\bFailed password\b|\bauthentication failure\b|\bInvalid user\b|"
        r"\bfailed to log ?in\b|\blogin failed\b|\buser .{0,60} failed to log", _I)),
    ("config_saved", re.compile(
        r"ciscoConfigManEvent|hwCfgChgNotify|hwCfgManEventlog|CfgChange|CONFIG_I\b|CFGCHANGE|"
        r"ConfigSaved|CFG_SAVE|"
        r"CFGMAN|\bSAVE(D)?_?CONFIG|configuration (was )?(saved|changed)|\bConfigured from\b|"
        r"\bconfig(uration)? (file )?(is )?saved\b|CFG/\d/SAVE|write memory", _I)),
    ("port_security", re.compile(
        r"PORT_SECURITY|PSECURE|PORT-SECURITY|MACFLAP|MAC_FLAP|MAC-FLAP|MACMOVE|MAC_MOVE|"
        r"hwMacTrap|MacFlapping|\bMAC (address )?flap|\bloop(back)? ?detect|LOOPDETECT|LDT/|"
        r"\bloop (was )?detected\b|STORM_?CONTROL|port-security", _I)),
    ("hardware", re.compile(
        r"ciscoEnvMon|hwEntity(Trap|Remove|Invalid|Fault|Offline)|hwPowerOff|hwFan|hwTemperature|"
        r"(Fan|PowerSupply|Psu)(Tray)?(Failure|Fail|Removed|Missing|Fault|Abnormal)|"
        r"Temperature(TooHigh|TooLow|SensorFailure|Rising|Alarm|Abnormal)|OutOfRangeTemperature|"
        r"entSensorThreshold|ENVMON|PLATFORM-\d-|\bPSU\b|\bpower[- ]?supply\b|POWER_?FAIL|"
        r"\bpower (module|failure|off)\b|\bFAN\b|FAN_?FAIL|\bfan (failure|fail|fault|abnormal)\b|"
        r"TEMP(ERATURE)?_?(HIGH|ALARM|FAIL)|\btemperature\b.{0,60}\b(exceed|high|alarm|abnormal)",
        _I)),
)
# Words one of which every pattern of the category needs (lower case): a substring test skips
# the category's regex for most lines (the regexes cost ~10x a keyword scan).
_KEYS: dict[str, tuple[str, ...]] = {
    "ap_offline": ("ap",),
    "link_down": ("down",),
    "link_up": ("linkup", "linkdown_clear", "link_state", "updown", " up", "=up"),
    "reboot": ("start", "reboot", "reload"),
    "auth_failure": ("fail", "invalid user"),
    "config_saved": ("config", "cfg", "save", "write memory"),
    "port_security": ("secur", "mac", "loop", "ldt/", "storm"),
    "hardware": ("envmon", "entity", "power", "fan", "temp", "sensor", "platform-", "psu"),
}
# categories that are at least a warning whatever the device said
_WARNING = frozenset({"link_down", "reboot", "auth_failure", "port_security", "hardware",
                      "ap_offline"})


def classify(name: str, message: str = "") -> str:
    """The event's category, or "other"."""
    text = f"{name} {message}"[:1024]
    low = text.lower()
    for cat, rx in CATEGORIES:
        if any(k in low for k in _KEYS[cat]) and rx.search(text):
            return cat
    return "other"


def severity_for(category: str, syslog_severity: int | None = None) -> Severity:
    """Syslog severity 0-2 is critical, 3-4 warning; a category may raise it to a warning."""
    if syslog_severity is not None and syslog_severity <= 2:
        return Severity.CRITICAL
    if (syslog_severity is not None and syslog_severity <= 4) or category in _WARNING:
        return Severity.WARNING
    return Severity.INFO


def config_saved_event(subject: str, device: str | None, summary: str, via: str, source: str,
                       ts_ns: int) -> Event:
    """`device_config_saved`: the device says its configuration was saved or changed; a config
    backup subscribes to this kind (fetch the new configuration now, not at the next run)."""
    return Event(f"device_config_saved:{subject}", "device_config_saved", EventState.OBSERVED,
                 Severity.INFO, summary, device, {"via": via, "source": source}, ts_ns)
