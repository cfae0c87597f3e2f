"""Exporters: push (behind a disk queue) and pull (over the last-value snapshot)."""
