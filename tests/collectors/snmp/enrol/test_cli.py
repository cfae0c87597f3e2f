"""Small parts of `campusmon enrol` without a network: the progress bar, refused settings."""

from __future__ import annotations

import io
import sys

import pytest
from pydantic import ValidationError

from collectors.snmp.enrol.cli import _Bar
from collectors.snmp.enrol.config import EnrolConfig, parse_network
from collectors.snmp.enrol.scan import ScanError, expand


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    tty = _Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    bar = _Bar()
    bar(5, 10, 2)
    bar.end()
    assert tty.getvalue() == "\r[" + "#" * 15 + "." * 15 + "] 5/10 addresses, 2 devices\n"
    plain = io.StringIO()
    monkeypatch.setattr(sys, "stderr", plain)
    quiet = _Bar()
    quiet(1, 2, 0)
    quiet.end()
    assert plain.getvalue() == ""


def test_a_whole_ipv6_64_is_never_swept() -> None:
    with pytest.raises(ScanError, match="max_addresses"):
        expand([parse_network("2001:db8::/64")], [], 4096)
    hosts = expand([parse_network("2001:db8::/126"), parse_network("10.0.0.0/30")],
                   [parse_network("10.0.0.2/32")], 4096)
    assert hosts == ["2001:db8::1", "2001:db8::2", "2001:db8::3", "10.0.0.1"]


@pytest.mark.parametrize("bad", [{"subnets": ["10.0.0.0/33"]},
                                 {"location_patterns": ["(unclosed"]},
                                 {"location_patterns": ["no groups here"]},
                                 {"rate_per_sec": 0}, {"max_concurrency": 4}])
def test_bad_settings_are_refused_with_the_key(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        EnrolConfig.model_validate(bad)
