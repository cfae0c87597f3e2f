"""Dev tool (not imported by the plugin): compile the reference MIBs (../shared/reference/mibs,
plus pysnmp's bundled SNMPv2 MIBs) with pysmi and write `mibnames.json`, the OID → name table
the trap listener uses to name notifications and their varbinds (`IF-MIB::linkDown`).

    .venv/bin/python -m collectors.snmp_trap.tools.gen_mibnames [MIB_ROOT]

Why a generated table and not pysnmp's MIB view at run time: a lookup is one dict probe per
varbind, and the agent needs neither pysmi nor the MIB sources installed. Only notifications,
scalars and table columns are kept (the objects of the standard MIBs, and of
vendor MIBs those their notifications carry).
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

from pysmi.codegen import JsonCodeGen  # type: ignore[import-untyped, unused-ignore]
from pysmi.compiler import MibCompiler  # type: ignore[import-untyped, unused-ignore]
from pysmi.parser import SmiStarParser  # type: ignore[import-untyped, unused-ignore]
from pysmi.reader import FileReader  # type: ignore[import-untyped, unused-ignore]
from pysmi.searcher import StubSearcher  # type: ignore[import-untyped, unused-ignore]
from pysmi.writer import FileWriter  # type: ignore[import-untyped, unused-ignore]

OUT = Path(__file__).resolve().parent.parent / "mibnames.json"
_KEEP = {"notificationtype", "objecttype", "notificationgroup"}
_STANDARD = {"SNMPv2-MIB", "IF-MIB", "ENTITY-MIB", "ENTITY-SENSOR-MIB", "ENTITY-STATE-MIB",
             "BRIDGE-MIB", "POWER-ETHERNET-MIB", "IP-MIB"}
_DEF = re.compile(r"^\s*([A-Za-z][\w-]*)\s+(OBJECT IDENTIFIER|NOTIFICATION-TYPE|OBJECT-TYPE)\b")


def _dedupe(src: Path, dst: Path) -> None:
    """Vendor MIBs define a few symbols twice (HUAWEI-MIB: USG6635F); keep the first."""
    seen: set[str] = set()
    lines = []
    for line in src.read_text(encoding="utf-8", errors="replace").splitlines():
        m = _DEF.match(line)
        if m and m.group(2) == "OBJECT IDENTIFIER" and "::=" in line:
            if m.group(1) in seen:
                continue
            seen.add(m.group(1))
        lines.append(line)
    dst.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/reference/mibs").resolve()
    import pysnmp

    with tempfile.TemporaryDirectory() as tmp:
        clean = Path(tmp) / "src"
        out = Path(tmp) / "json"
        clean.mkdir()
        names = []
        for f in sorted(root.glob("*/*")):
            if f.suffix == ".md":
                continue
            text = f.read_text(encoding="utf-8", errors="replace")
            m = re.search(r"^\s*([A-Za-z][\w-]*)\s+DEFINITIONS\s*::=", text, re.M)
            if m:
                names.append(m.group(1))
                _dedupe(f, clean / m.group(1))
        mc = MibCompiler(SmiStarParser(), JsonCodeGen(),
                         FileWriter(str(out)).set_options(suffix=".json"))
        mc.add_sources(FileReader(str(clean)),
                       FileReader(str(Path(pysnmp.__file__).parent / "smi" / "mibs")))
        mc.add_searchers(StubSearcher(*JsonCodeGen.baseMibs))
        res = mc.compile(*names, ignoreErrors=True)
        table: dict[str, list[object]] = {}
        for jf in sorted(out.glob("*.json")):
            mib = json.loads(jf.read_text(encoding="utf-8"))
            mod = jf.stem
            for sym, d in mib.items():
                if not isinstance(d, dict) or d.get("class") not in _KEEP or "oid" not in d:
                    continue
                entry: list[object] = [f"{mod}::{sym}", d["class"][0]]  # n / o
                if d["class"] == "notificationtype":
                    entry.append([o["object"] for o in d.get("objects", [])])
                elif d.get("nodetype") == "column":
                    entry[1] = "c"
                table[d["oid"]] = entry
        # keep notifications, the objects they carry, and the standard MIBs' objects (a
        # device may add any varbind to a trap); vendor table columns nobody sends stay out
        wanted: set[str] = set()
        for entry in table.values():
            if entry[1] == "n" and len(entry) > 2 and isinstance(entry[2], list):
                mod_of = str(entry[0]).split("::")[0]
                wanted.update(f"{mod_of}::{o}" for o in entry[2])
        table = {oid: e for oid, e in table.items()
                 if e[1] == "n" or e[0] in wanted or str(e[0]).split("::")[0] in _STANDARD}
        OUT.write_text(json.dumps(table, sort_keys=True, separators=(",", ":")) + "\n",
                       encoding="utf-8")
        failed = sorted(k for k, v in res.items() if v not in ("compiled", "untouched"))
        print(f"{len(table)} names → {OUT}; not compiled: {', '.join(failed) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
