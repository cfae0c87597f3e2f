"""Syslog parsing: RFC 5424 / 3164 framing of fields, vendor formats from cited public samples
(data/vendor_lines.txt), and garbage that must come back raw, never raise."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.shared.device_events import classify
from collectors.syslog.parse import MAX_LINE, parse

DATA = Path(__file__).parent / "data" / "vendor_lines.txt"


def samples() -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    line = ""
    for raw in DATA.read_text(encoding="utf-8").splitlines():
        if raw.startswith("LINE "):
            line = raw[5:]
        elif raw.startswith("EXPECT "):
            out.append((line, [x.strip() for x in raw[7:].split("|")]))
    return out


@pytest.mark.parametrize(("line", "expect"), samples(), ids=lambda x: str(x)[:40])
def test_vendor_samples(line: str, expect: list[str]) -> None:
    vendor, mnemonic, iface, user, category = expect
    m = parse(line)
    assert m.ok
    assert m.vendor_format == vendor
    assert m.mnemonic == mnemonic
    assert m.interface == ("" if iface == "-" else iface)
    assert m.user == ("" if user == "-" else user)
    assert classify(m.mnemonic, m.message) == category


def test_rfc5424_fields_and_structured_data() -> None:
    m = parse('<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 '
              '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][x@1 a="b\\]"]'
              ' \ufeffAn application event log entry...')  # RFC 5424 §6.5 example 3
    assert (m.format, m.facility, m.severity) == ("rfc5424", 20, 5)
    assert (m.hostname, m.app, m.procid, m.msgid) == ("mymachine.example.com", "evntslog", "",
                                                      "ID47")
    assert m.structured.endswith('a="b\\]"]')
    assert m.message == "An application event log entry..."


def test_rfc3164_fields() -> None:
    m = parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8")
    assert (m.format, m.facility, m.severity) == ("rfc3164", 4, 2)  # RFC 3164 §5.4 example 1
    assert (m.timestamp, m.hostname, m.app) == ("Oct 11 22:14:15", "mymachine", "su")
    assert m.message.startswith("'su root' failed")


@pytest.mark.parametrize("junk", ["", "hello world", "<999>x", "<>", "<12", "\x00\xff<1>",
                                  "<13>" + "A" * (MAX_LINE * 2)])
def test_garbage_is_raw_or_bounded(junk: str) -> None:
    m = parse(junk)
    assert m.format in ("raw", "rfc3164")
    assert len(m.message) <= MAX_LINE


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_never_raises(s: str) -> None:
    parse(s)
    parse("<13>" + s)
    parse("<13>1 " + s)
