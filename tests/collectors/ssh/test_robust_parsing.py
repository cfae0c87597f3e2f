"""Whatever a device prints, turning it into rows ends in rows or a typed error naming the
device and the command, never in another exception (property test over arbitrary text)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.core.errors import CollectError
from agent.core.model import ErrorType
from collectors.ssh.platforms import COMMAND_SETS, Command
from collectors.ssh.plugin import SshCollector

DATA = Path(__file__).resolve().parent / "data"
COMMANDS = [c for cmds in COMMAND_SETS.values() for c in cmds]
REAL = [p.read_text() for p in sorted(DATA.glob("*.raw"))]

# device-like text: real lines shuffled and cut, plus arbitrary characters
lines = st.one_of(st.sampled_from([ln for t in REAL for ln in t.splitlines()]), st.text())
outputs = st.lists(lines, max_size=30).map("\n".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(COMMANDS), outputs, st.booleans())
def test_any_output_gives_rows_or_a_typed_error(cmd: Command, text: str, privileged: bool
                                                ) -> None:
    try:
        SshCollector._rows("sw-1", cmd, text, privileged)
    except CollectError as exc:
        assert exc.error_type in (ErrorType.PARSE, ErrorType.PROTOCOL, ErrorType.PERMISSION)
        assert str(exc).startswith(f"sw-1: {cmd.cli}: ")
