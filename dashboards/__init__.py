"""Grafana dashboards as code (grafana-foundation-sdk), for VictoriaMetrics via Grafana's
Prometheus datasource type. `python -m dashboards.build` writes dashboards/json/."""
