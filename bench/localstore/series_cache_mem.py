"""What the local store's series-id cache (`LocalStore._series`) costs per entry.

Method: 150,000 synthetic interface series (a campus' place tags + ifindex/ifname, the
tags the agent puts on `snmp_interface`), each passed once through `LocalStore._series_id`
(the cache path `write` takes for every point) inside one transaction. Every metric's tag
strings are built fresh, as the line-protocol parser and the collectors do, and dropped
after the call: what stays is what the cache keeps alive. tracemalloc counts the Python
objects (SQLite's own memory is C malloc and not counted); bytes per entry = traced growth
/ entries. Prints one JSON line. Short (~10 CPU-s): `nice -n 15 .venv/bin/python
bench/localstore/series_cache_mem.py`.
"""

from __future__ import annotations

import gc
import json
import sys
import tempfile
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from agent.framework.localstore import LocalStore  # noqa: E402

SERIES = 150_000
PORTS = 48


def tags_of(i: int) -> dict[str, str]:
    s, p = divmod(i, PORTS)
    # fresh strings each time (''.join), like values parsed off the wire
    return {"building": "".join(("b", f"{s % 24:02d}")), "campus": "".join(("main", "")),
            "device": f"sw-{s:05d}", "kind": "".join(("switch", "")),
            "roles": "".join(("access", "")), "room": f"r{s % 24:02d}-{s % 9}",
            "vendor": "".join(("cisco", "")), "ifindex": str(p + 1),
            "ifname": f"GigabitEthernet0/0/{p + 1}"}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStore(Path(tmp) / "store.db", 24, 1 << 34)
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        store._db.execute("BEGIN")
        for i in range(SERIES):
            store._series_id("".join(("snmp_", "interface")), tags_of(i))
        store._db.execute("COMMIT")
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        n = len(store._series)
        print(json.dumps({"bench": "localstore_series_cache", "entries": n,
                          "traced_mib": round((after - before) / 2**20, 1),
                          "bytes_per_entry": round((after - before) / n)}))


if __name__ == "__main__":
    main()
