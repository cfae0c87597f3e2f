"""The optional parts of `campusmon demo`, each adding inputs/outputs to the run."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.demo import DemoRun

Part = Callable[["DemoRun", argparse.Namespace], None]
Finisher = Callable[["DemoRun", argparse.Namespace, Path], None]

PARTS: tuple[Part, ...] = ()
FINISHERS: tuple[Finisher, ...] = ()
