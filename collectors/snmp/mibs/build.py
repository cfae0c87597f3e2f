"""Compile the MIB sources once into `objects.json`: every OBJECT-TYPE's name → OID, node type,
base syntax, enumeration, units and row index. Run by hand when a MIB is added:

    .venv/bin/python -m collectors.snmp.mibs.build [MIB_DIR ...]

The default source is ../shared/reference/mibs (every vendor folder). pysmi is a build-time tool
only (the dev extra): the agent reads the shipped JSON, never a MIB file. A test recompiles and
compares when ../shared is present, so the shipped table cannot drift from its sources.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("objects.json")
DEFAULT_SOURCES = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "mibs"
_MODULE = re.compile(rb"^\s*([A-Za-z][\w-]*)\s+DEFINITIONS\s*::=\s*BEGIN", re.MULTILINE)
_OID_ASSIGN = re.compile(r"^\s*([A-Za-z][\w-]*)\s+OBJECT IDENTIFIER\s*::=")
_NODE_TYPES = ("scalar", "column", "table", "row")


def _modules(sources: list[Path]) -> dict[str, Path]:
    """Module name → file (the file name rarely equals the module name in vendor sets)."""
    found: dict[str, Path] = {}
    for base in sources:
        for f in sorted(p for p in base.rglob("*") if p.is_file() and p.suffix != ".md"):
            m = _MODULE.search(f.read_bytes()[:65536])
            if m:
                found.setdefault(m.group(1).decode(), f)
    return found


def _dedupe(text: str) -> str:
    """Vendor files repeat an `X OBJECT IDENTIFIER ::=` line (HUAWEI-MIB: three product OIDs
    twice); pysmi refuses the module. The first assignment is kept, later ones are commented."""
    seen: set[str] = set()
    out = []
    for line in text.splitlines(keepends=True):
        m = _OID_ASSIGN.match(line)
        if m and m.group(1) in seen:
            out.append("-- campusmon: duplicate removed: " + line)
            continue
        if m:
            seen.add(m.group(1))
        out.append(line)
    return "".join(out)


def _enum(syntax: dict[str, Any], tcs: dict[str, dict[str, Any]]) -> dict[str, str]:
    constraints = syntax.get("constraints") or {}
    enum = constraints.get("enumeration")
    if not enum:
        tc = tcs.get(str(syntax.get("type")))
        enum = ((tc or {}).get("type") or {}).get("constraints", {}).get("enumeration")
    return {str(v): k for k, v in sorted((enum or {}).items(), key=lambda kv: kv[1])}


def _base_type(syntax: dict[str, Any], tcs: dict[str, dict[str, Any]]) -> str:
    t = str(syntax.get("type", ""))
    tc = tcs.get(t)
    if tc is not None:
        return str((tc.get("type") or {}).get("type", t))
    return t


def compile_mibs(sources: list[Path]) -> dict[str, Any]:
    from pysmi.codegen import JsonCodeGen
    from pysmi.compiler import MibCompiler
    from pysmi.parser import SmiStarParser
    from pysmi.reader import FileReader
    from pysmi.searcher import StubSearcher
    from pysmi.writer import CallbackWriter

    modules = _modules(sources)
    docs: dict[str, dict[str, Any]] = {}

    def keep(name: str, text: str, _ctx: object) -> None:
        docs[name] = json.loads(text)

    with tempfile.TemporaryDirectory(prefix="campusmon-mibs-") as tmp:
        for name, path in modules.items():
            text = path.read_bytes().decode("utf-8", errors="replace")
            (Path(tmp) / name).write_text(_dedupe(text), encoding="utf-8")
        compiler = MibCompiler(SmiStarParser(), JsonCodeGen(), CallbackWriter(keep))
        compiler.add_sources(FileReader(tmp, recursive=False))
        compiler.add_searchers(StubSearcher(*JsonCodeGen.baseMibs))
        status = compiler.compile(*sorted(modules), noDeps=False, rebuild=True,
                                  genTexts=False, ignoreErrors=True)
    failed = sorted(k for k, v in status.items() if v == "failed")
    all_tcs: dict[str, dict[str, Any]] = {}
    for doc in docs.values():
        for k, v in doc.items():
            if isinstance(v, dict) and v.get("class") == "textualconvention":
                all_tcs.setdefault(k, v)
    objects: dict[str, dict[str, Any]] = {}
    for mib in sorted(docs):
        rows: dict[str, dict[str, Any]] = {}
        for v in docs[mib].values():
            if isinstance(v, dict) and v.get("nodetype") == "row":
                rows[v["oid"]] = v
        for k, v in sorted(docs[mib].items()):
            if not isinstance(v, dict) or v.get("class") != "objecttype":
                continue
            if v.get("nodetype") not in _NODE_TYPES:
                continue
            entry: dict[str, Any] = {"oid": v["oid"], "node": v["nodetype"]}
            syntax = v.get("syntax") or {}
            if syntax:
                entry["type"] = _base_type(syntax, all_tcs)
                enum = _enum(syntax, all_tcs)
                if enum:
                    entry["enum"] = enum
            if v.get("units"):
                entry["units"] = v["units"]
            if v["nodetype"] == "column":
                row_oid = v["oid"].rsplit(".", 1)[0]
                row = rows.get(row_oid)
                if row is not None:
                    entry["row"] = row["name"]
            if v["nodetype"] == "row":
                idx = v.get("indices") or []
                entry["index"] = [f"{i['module']}::{i['object']}" for i in idx]
                if "augmention" in v:
                    aug = v["augmention"]
                    entry["augments"] = f"{aug['module']}::{aug['object']}"
            objects[f"{mib}::{k}"] = entry
    digest = hashlib.sha256()
    for name in sorted(modules):
        digest.update(name.encode() + b"\0" + modules[name].read_bytes())
    return {"sources_sha256": digest.hexdigest(), "failed": failed, "objects": objects}


def main(argv: list[str]) -> int:
    sources = [Path(a) for a in argv] or [DEFAULT_SOURCES]
    for s in sources:
        if not s.is_dir():
            print(f"build: no MIB directory {s}", file=sys.stderr)
            return 2
    table = compile_mibs(sources)
    OUT.write_text(json.dumps(table, sort_keys=True, separators=(",", ":")) + "\n",
                   encoding="utf-8")
    print(f"{OUT}: {len(table['objects'])} objects; failed: {', '.join(table['failed']) or '-'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
