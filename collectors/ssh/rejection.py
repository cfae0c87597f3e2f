"""Recognise a device refusing a command (unknown command, not allowed at this privilege level).

Devices answer a refused command with a message instead of an exit status; without this check a
refusal would reach TextFSM and look like garbage. Only the first lines are checked: the message
comes right after the echoed command, while real output may quote such text further down.
"""

from __future__ import annotations

import re

from agent.core.model import ErrorType

_PERMISSION = re.compile(
    r"insufficient\s+(privilege|permission|authority)|permission\s+denied|not\s+authori[sz]ed|"
    r"authorization\s+failed", re.IGNORECASE)
_REFUSED = re.compile(
    r"^\s*(Error:|%)\s*(Unrecognized command|Invalid input|Incomplete command|Wrong parameter|"
    r"Too many parameters|Ambiguous command|Unknown command)", re.IGNORECASE | re.MULTILINE)
_HEAD_LINES = 4


def refusal(output: str, *, privileged: bool) -> tuple[ErrorType, str] | None:
    """(error type, the device's message) when the device refused the command, else None."""
    head = "\n".join(output.strip("\r\n").splitlines()[:_HEAD_LINES])
    m = _PERMISSION.search(head)
    if m:
        return ErrorType.PERMISSION, _line_at(head, m.start())
    m = _REFUSED.search(head)
    if m is None:
        return None
    message = _line_at(head, m.start())
    # IOS-like CLIs hide privileged commands from user EXEC: "Invalid input" there usually
    # means "enable first", which is a permission problem, not a protocol one
    return (ErrorType.PROTOCOL if privileged else ErrorType.PERMISSION), message


def _line_at(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return text[start:end if end >= 0 else None].strip()
