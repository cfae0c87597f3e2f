"""ruamel.yaml round-trip: merge a proposal into the inventory YAML keeping the admin's comments,
key order and every field enrolment does not manage. The only module importing ruamel.

New devices go where their placement says (a room's, a building's or the campus's `devices:`
list); changed facts are set in place on the device's own mapping. A device that came from a
CSV import cannot be edited here: the change is reported instead (`MergeResult.skipped`).
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from collectors.snmp.enrol.proposal import Enrolled, Proposal
from inventory.models import RoomKind

_ORDER = ("ipv4", "ipv6", "mac", "vendor", "model", "owner", "credential", "parent",
          "parent_port", "hostname")


@dataclass(slots=True)
class MergeResult:
    text: str
    skipped: list[str] = field(default_factory=list)  # changes that could not be written


def _yaml() -> YAML:
    y = YAML()  # round-trip: comments, order, quoting kept
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _device_maps(doc: CommentedMap) -> Iterator[CommentedMap]:
    def devs(node: Any) -> Iterator[CommentedMap]:
        seq = node.get("devices") if isinstance(node, CommentedMap) else None
        if isinstance(seq, CommentedSeq):
            yield from (d for d in seq if isinstance(d, CommentedMap))

    yield from devs(doc)
    for b in doc.get("buildings") or []:
        yield from devs(b)
        for r in (b.get("rooms") or []) if isinstance(b, CommentedMap) else []:
            yield from devs(r)


def _devices_list(node: CommentedMap) -> CommentedSeq:
    seq = node.get("devices")
    if not isinstance(seq, CommentedSeq):
        seq = CommentedSeq()
        node["devices"] = seq
    return seq


def _home(doc: CommentedMap, e: Enrolled) -> tuple[CommentedSeq, bool]:
    """The list a new device goes into, and whether it must say its building/room."""
    for b in doc.get("buildings") or []:
        if not isinstance(b, CommentedMap) or b.get("id") != e.building:
            continue
        for r in b.get("rooms") or []:
            if isinstance(r, CommentedMap) and r.get("id") == e.room:
                return _devices_list(r), False
        if e.room is None:
            return _devices_list(b), False
    return _devices_list(doc), True


def _set(m: CommentedMap, dotted: str, value: str) -> None:
    if dotted.startswith("labels."):
        labels = m.get("labels")
        if not isinstance(labels, CommentedMap):
            labels = CommentedMap()
            m["labels"] = labels
        labels[dotted.split(".", 1)[1]] = value
        return
    if dotted in m:
        m[dotted] = value
        return
    # keep the canonical order for a key the entry lacks: before the first later key present
    later = _ORDER[_ORDER.index(dotted) + 1:] if dotted in _ORDER else ()
    pos = next((i for i, k in enumerate(m) if k in later or k == "labels"), len(m))
    m.insert(pos, dotted, value)


def _entry(e: Enrolled, placed_here: bool) -> CommentedMap:
    m = CommentedMap()
    m["id"] = e.id
    m["kind"] = e.kind.value
    if placed_here and e.building:
        m["building"] = e.building
    facts = e.facts()
    for key in _ORDER:
        if key in facts:
            m[key] = facts[key]
    labels = {k.split(".", 1)[1]: v for k, v in facts.items() if k.startswith("labels.")}
    if labels:
        m["labels"] = CommentedMap(labels)
    return m


Sites = tuple[Mapping[str, str], Mapping[str, tuple[str, str, RoomKind]]]


def _add_sites(doc: CommentedMap, sites: Sites) -> None:
    """Buildings (id → name) and rooms (id → building, name, kind) the inventory lacks."""
    buildings, rooms = sites
    seq = doc.get("buildings")
    if not isinstance(seq, CommentedSeq):
        seq = CommentedSeq()
        doc["buildings"] = seq
    for bid, name in buildings.items():
        b = CommentedMap()
        b["id"], b["name"] = bid, name
        seq.append(b)
    for rid, (bid, name, kind) in rooms.items():
        home = next((x for x in seq if isinstance(x, CommentedMap) and x.get("id") == bid),
                    None)
        if home is None:
            continue
        rseq = home.get("rooms")
        if not isinstance(rseq, CommentedSeq):
            rseq = CommentedSeq()
            home["rooms"] = rseq
        r = CommentedMap()
        r["id"], r["name"], r["kind"] = rid, name, kind.value
        rseq.append(r)


def merge(text: str, proposal: Proposal, annotate: bool, sites: Sites | None = None
          ) -> MergeResult:
    """The inventory text with the proposal merged; `annotate` adds the evidence as comments
    (the proposal file an admin reviews), without it the result is what `--apply` writes.
    `sites`: buildings and rooms to add first (an asset-register import)."""
    y = _yaml()
    doc = y.load(text)
    if not isinstance(doc, CommentedMap):
        raise ValueError("the inventory is not a YAML mapping")
    if sites is not None:
        _add_sites(doc, sites)
    result = MergeResult("")
    by_id = {m.get("id"): m for m in _device_maps(doc)}
    for c in proposal.changes:
        m = by_id.get(c.device)
        if m is None:
            result.skipped.append(f"{c.device}: {c.field} {c.old} → {c.new} (the device comes "
                                  "from a CSV import: change it there)")
            continue
        _set(m, c.field, c.new)
        if annotate:
            key = c.field.split(".", 1)[0]
            m.yaml_add_eol_comment(
                _line(f"enrol: {c.field} was {c.old or '(unset)'}; {c.evidence}"), key)
    for e in proposal.new:
        seq, say_place = _home(doc, e)
        entry = _entry(e, say_place)
        seq.append(entry)
        if annotate:
            seq.yaml_set_comment_before_after_key(
                len(seq) - 1, before=_line("enrol: NEW — " + " | ".join(e.evidence)),
                indent=_indent_of(doc, seq))
    if annotate:
        for n in proposal.not_seen:
            m = by_id.get(n.device)
            if m is not None:
                m.yaml_add_eol_comment(_line(f"enrol: NOT SEEN — {n.evidence}"), "id")
        if proposal.conflicts:
            lines = ["enrol: CONFLICTS (nothing proposed for these):"] + [
                _line(f"  {c.subject}: {', '.join(c.devices)} — {c.evidence}")
                for c in proposal.conflicts]
            _prepend_comment(doc, lines)
    out = io.StringIO()
    y.dump(doc, out)
    result.text = out.getvalue()
    return result


_BREAKS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")


def _line(comment: str) -> str:
    """A comment stays one line whatever a device or a register said (a line break in a
    comment would let the rest become inventory keys)."""
    return _BREAKS.sub(" ", comment)


def _indent_of(doc: CommentedMap, seq: CommentedSeq) -> int:
    if doc.get("devices") is seq:
        return 2
    for b in doc.get("buildings") or []:
        if isinstance(b, CommentedMap) and b.get("devices") is seq:
            return 6
    return 10


def _prepend_comment(doc: CommentedMap, lines: list[str]) -> None:
    first = next(iter(doc), None)
    if first is not None:
        doc.yaml_set_comment_before_after_key(first, before="\n".join(lines), indent=0)


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` whole or not at all, keeping its mode (0600 for a new file)."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
