"""MAC → vendor from the IEEE OUI registry (Debian's ieee-data `oui.txt`).

Loaded once, lazily (5 MB text → ~35k entries). When the file is absent the lookup answers
None and `OuiTable.note` says what to install; a locally administered MAC (randomised by
phones and VMs) is reported as such instead of a vendor.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_PATH = Path("/usr/share/ieee-data/oui.txt")


class OuiTable:
    def __init__(self, path: Path = DEFAULT_PATH) -> None:
        self.path = path
        self._table: dict[str, str] | None = None
        self.note = ""

    def _load(self) -> dict[str, str]:
        if self._table is not None:
            return self._table
        table: dict[str, str] = {}
        try:
            with self.path.open(encoding="utf-8", errors="replace") as f:
                for line in f:
                    # "00-22-72   (hex)\t\tAmerican Micro-Fuel Device Corp."
                    if len(line) > 18 and line[2] == "-" and "(hex)" in line[:20]:
                        table[line[:8].replace("-", ":").lower()] = line.split("\t")[-1].strip()
        except OSError as exc:
            self.note = (f"no OUI table at {self.path} ({exc.strerror}); install Debian's "
                         "ieee-data for vendor names")
        self._table = table
        return table

    def vendor(self, mac: str) -> str | None:
        mac = mac.lower()
        try:
            if int(mac[:2], 16) & 0x02:
                return "(locally administered address)"
        except ValueError:
            return None
        return self._load().get(mac[:8])
