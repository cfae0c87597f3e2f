"""Target selection lives in config/targets.py (check-config warns about selectors that match
nothing while loading, and config/ may not import the framework); the runtime reads it here."""

from config.targets import select_targets

__all__ = ["select_targets"]
