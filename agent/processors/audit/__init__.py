"""Audits against cited national indicators, and the inspector report (issue 7).

- `model.py` typed results (`Indicator` with its cited `Target`/`Source`, `Evidence`);
  `standards.py` every target with its entry of docs/standards.md.
- `inputs.py` `AuditInput` (inventory + the points of the window); one module per family:
  `ipv6.py`, `wireless.py`, `cellular.py` (5G), `bandwidth.py` (with `egress.py`,
  `counters.py`), `localization.py` (with `vendors.py`), `rooms.py` (per teaching place);
  `engine.py` runs them all and turns results into `audit_indicator` metrics.
- `plugin.py` the `audit` processor (synchronous, no I/O); `sources.py` the local store and
  the VictoriaMetrics / Prometheus query client; `province.py` the roll-up;
  `report/` HTML (inline SVG), CSV and JSON; `cli.py` `campusmon report`.
"""

from agent.processors.audit.plugin import SPEC

__all__ = ["SPEC"]
