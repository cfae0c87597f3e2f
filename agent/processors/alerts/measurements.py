"""What the alerts processor writes besides its events (the catalogue)."""

from __future__ import annotations

from agent.core.catalogue import Measurement, gauge, state, tag

MEASUREMENTS: tuple[Measurement, ...] = (
    Measurement(
        "alerts", "alerts by severity, every metrics_interval_secs",
        tags=(tag("severity", "info / warning / critical"),),
        fields=(gauge("firing", "", "alerts firing and notified"),
                gauge("pending", "", "alerts waiting for their for_secs"),
                gauge("suppressed", "", "alerts held back behind a root alert"))),
    Measurement(
        "alert", "one series per firing alert (0 once when it resolves)",
        tags=(tag("alertname", "the rule"), tag("severity", "the rule's severity"),
              tag("key", "<rule>:<subject>")),
        fields=(state("firing", "1 firing, 0 once when it resolved"),
                state("suppressed", "1 held back behind a root alert"))),
)
