"""What the probe plugins' one-shot commands share: JSON on stdout, the inventory of a config.

Exit status of every probe command: 0 when the check ran and passed, 1 when it ran and failed,
2 on bad input.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from agent.core.plugin import Registry
from inventory.models import Inventory


def dump(doc: Any) -> None:
    json.dump(doc, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


def inventory_of(config: str | None, registry: Registry) -> Inventory:
    if not config:
        return Inventory.empty()
    from config.loader import load_config
    return load_config(Path(config), registry).inventory
