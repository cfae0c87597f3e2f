"""TextFSM parsing: the only module importing textfsm.

Templates are found by file name: ntc-templates' own directory for `TemplateSource.NTC`, our
`templates/` directory for `TemplateSource.OWN` (the mapping lives in `platforms.py`, not in an
index with regexes, so which template parses which command is visible in one table).
"""

from __future__ import annotations

import io
import re
from functools import cache
from importlib import resources
from pathlib import Path

import textfsm

from collectors.ssh.platforms import Command, TemplateSource

Record = dict[str, str | list[str]]

OWN_TEMPLATES = Path(__file__).resolve().parent / "templates"


class ParseFailure(Exception):
    """The output does not match the template (the caller names device and command)."""


def template_path(source: TemplateSource, name: str) -> Path:
    if source is TemplateSource.OWN:
        return OWN_TEMPLATES / name
    return Path(str(resources.files("ntc_templates") / "templates" / name))


@cache
def _template_text(source: TemplateSource, name: str) -> str:
    return template_path(source, name).read_text(encoding="utf-8")


def _describe(message: str) -> str:
    """TextFSM's "State Error raised. Rule Line: 17. Input Line: …" → the line it choked on."""
    m = re.search(r"Input Line:\s?(.*)", message, re.DOTALL)
    if m is None:
        return message.splitlines()[0][:200] if message else "template error"
    return f"unexpected output line {m.group(1).strip()[:120]!r}"


# Templates' regexes backtrack on long lines while holding the GIL (ntc's
# cisco_ios_show_version: 0.15 s at 1,000 characters, 3.6 s at 4,000, growing ~n^2.5), which
# stalls every thread of the agent. No line a template reads comes near this; longer ones are
# cut to it before parsing (a hostile or broken device, a banner of garbage).
MAX_LINE_CHARS = 512


def cap_lines(output: str, limit: int = MAX_LINE_CHARS) -> str:
    """`output` with every line cut to `limit` characters (linear; unchanged when none is)."""
    if all(len(line) <= limit for line in output.split("\n")):
        return output
    return "\n".join(line[:limit] for line in output.split("\n"))


def parse(command: Command, output: str) -> list[Record]:
    """Rows as dicts with lower-case keys; raises `ParseFailure` on unparsable output."""
    text = _template_text(command.source, command.template)
    try:
        fsm = textfsm.TextFSM(io.StringIO(text))  # a fresh FSM per parse: it keeps state
        rows = fsm.ParseText(cap_lines(output))
    except textfsm.TextFSMError as exc:
        raise ParseFailure(_describe(str(exc))) from None
    header = [h.lower() for h in fsm.header]
    return [dict(zip(header, row, strict=True)) for row in rows]
